package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// mountNSHolder starts `unshare --mount sh -c SCRIPT` (SCRIPT ends by
// executing sleep) and returns its pid once it sleeps in its new mount
// namespace; the process is killed when t ends.
func mountNSHolder(t *testing.T, script string) int {
	t.Helper()
	testutil.Require(t, "unshare", "util-linux")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
			return pid
		}
	}
	t.Fatalf("unshare --mount sh -c %q did not reach sleep", script)
	return 0
}

// nsInode returns the link of /proc/PID/ns/KIND ("mnt:[4026531841]").
func nsInode(t *testing.T, k namespace.Kind, pid int) string {
	t.Helper()
	link, err := os.Readlink(k.Path(pid))
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// TestRootInJoinedMountNS: a sandbox that joins the mount namespace of a
// process sets up its root directory there, as runc does: it sees that
// namespace in /proc/self/ns/mnt and the busybox directory as "/", and so does
// the process that was there (pivot_root changed the root of the namespace);
// the caller's mount table is unchanged. Where the staging directory is
// missing in the joined namespace, the start fails naming the step. A rootless
// caller's sandbox, in a user namespace of its own, is refused by Build: that
// user namespace does not own the mount namespace, so setns would fail; one
// that joins the user namespace that owns it sets its root up there.
func TestRootInJoinedMountNS(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		if testutil.Rootless() {
			_, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithRootInJoinedMountNS("/proc/self/ns/mnt")).Build()
			if !errors.Is(err, sandbox.ErrInvalidSpec) || !strings.Contains(err.Error(), "setns needs CAP_SYS_ADMIN") {
				t.Fatalf("rootless join of a mount namespace that its new user namespace does not own: %v", err)
			}
			rootlessJoinedMountNS(t, dir)
			return
		}
		pid := mountNSHolder(t, "exec sleep 1000")
		joined := nsInode(t, namespace.Mount, pid)
		before := mountSnapshot(t)
		{
			out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithRootInJoinedMountNS(namespace.Mount.Path(pid))},
				"readlink /proc/self/ns/mnt; cat /etc/hostname; ls /bin/busybox")
			if want := joined + "\nbusybox\n/bin/busybox\n"; out != want {
				t.Errorf("in the joined namespace: got %q, want %q", out, want)
			}
		}
		if after := mountSnapshot(t); after != before {
			t.Errorf("the caller's mount table changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/root/bin/busybox"); err != nil {
			t.Errorf("the joined namespace's process does not have the sandbox's root: %v", err)
		}

		// A namespace whose temporary directory is a tmpfs of its own lacks the
		// staging directory.
		tmp := os.TempDir()
		pid = mountNSHolder(t, "mount -t tmpfs tmpfs "+tmp+" && exec sleep 1000")
		err := startErr(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithRootInJoinedMountNS(namespace.Mount.Path(pid))})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Errno != syscall.ENOENT || !strings.Contains(ce.Step, tmp) {
			t.Fatalf("staging directory missing in the joined namespace: %v", err)
		}
		t.Logf("staging directory missing: %v", err)
	})
}

// rootlessJoinedMountNS: a rootless caller that joins the user namespace
// owning the mount namespace sets up its root there too.
func rootlessJoinedMountNS(t *testing.T, dir string) {
	testutil.Require(t, "unshare", "util-linux")
	cmd := exec.Command("unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "exec sleep 1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare --user --mount did not reach sleep")
		}
	}
	out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithRootInJoinedMountNS(namespace.Mount.Path(pid)),
		sandbox.WithJoinNamespaceOf(namespace.User, pid), sandbox.WithHostNamespaces(namespace.PID)},
		"readlink /proc/self/ns/mnt; cat /etc/hostname")
	if want := nsInode(t, namespace.Mount, pid) + "\nbusybox\n"; out != want {
		t.Errorf("rootless, in the joined namespace: got %q, want %q", out, want)
	}
}

// TestRootInCallerMountNS: a sandbox without a mount namespace of its own sets
// up its root directory in the caller's, as runc and crun do: it shares the
// caller's mount namespace and, after Start has returned, has the busybox
// directory as "/" with its /proc and /dev mounted, and an empty mount table.
// Nothing of it is left in the caller's mount table then, nor in another
// namespace's (what a slave of a shared mount receives is
// TestRootInCallerMountNSPropagation's). ".." at the top of its root, walked
// from outside, stays there, and a chroot escape from inside ends there. A
// start that fails, a held start and starts at once leave the table as it was
// too. Rootless, Build refuses it: the child could not mount in the caller's
// namespace.
func TestRootInCallerMountNS(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		opts := []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithRootInCallerMountNS()}
		if testutil.Rootless() {
			for _, o := range [][]sandbox.Option{opts, append(opts, sandbox.WithoutUserNS())} {
				_, err := sandbox.NewBuilder(o...).Build()
				if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "needs CAP_SYS_ADMIN") {
					t.Errorf("rootless root in the caller's mount namespace: %v", err)
				}
			}
			return
		}
		slave := mountNSHolder(t, "mount --make-rslave / && exec sleep 1000")
		slaveTable := func() string {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(slave) + "/mountinfo")
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		before, beforeSlave := mountSnapshot(t), slaveTable()
		unchanged := func(when string) {
			t.Helper()
			if after := mountSnapshot(t); after != before {
				t.Errorf("%s, the caller's mount table changed:\nbefore\n%s\nafter\n%s", when, before, after)
			}
			if after := slaveTable(); after != beforeSlave {
				t.Errorf("%s, the slave namespace's mount table changed:\nbefore\n%s\nafter\n%s", when, beforeSlave, after)
			}
		}
		tpl, err := sandbox.NewBuilder(opts...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var out strings.Builder
		p, err := tpl.Start(context.Background(), sandbox.Command{Stdout: &out, Stderr: &out,
			Args: []string{"/bin/sh", "-c", "read x; readlink /proc/self/ns/mnt; [ -c /dev/null ] && echo dev; cat /etc/hostname; ls /bin/busybox; wc -l < /proc/self/mountinfo"}, Stdin: strings.NewReader("go\n")})
		if err != nil {
			t.Fatal(err)
		}
		unchanged("while the sandbox runs")
		root := "/proc/" + strconv.Itoa(p.Pid()) + "/root"
		var top, up syscall.Stat_t
		if err := syscall.Stat(root, &top); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Stat(root+"/../..", &up); err != nil || up.Dev != top.Dev || up.Ino != top.Ino {
			t.Errorf("\"..\" at the top of the detached root leads elsewhere: %+v, %v", up, err)
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Fatalf("Wait: %v, %v: %s", st, err, out.String())
		}
		if want := nsInode(t, namespace.Mount, 0) + "\ndev\nbusybox\n/bin/busybox\n0\n"; out.String() != want {
			t.Errorf("in the caller's mount namespace: got %q, want %q", out.String(), want)
		}

		// A chroot escape from inside ends at the top of the root's copy: the
		// root itself.
		probe := testutil.Sysprobe(t)
		out.Reset()
		escaped := sh(t, append(opts, sandbox.WithBind(probe, "/sysprobe", true)), "/sysprobe escape; ls -A / | tr '\n' ' '")
		if lines := strings.Split(escaped, "\n"); len(lines) != 2 || lines[0]+" " != lines[1] || !strings.Contains(lines[0], "sysprobe") {
			t.Errorf("a chroot escape leads elsewhere than the root:\n%s", escaped)
		}
		unchanged("after the escape")

		err = startErr(t, append(opts, sandbox.WithWorkdir("/no/such/dir")))
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Stage != "workdir" {
			t.Errorf("a start that fails in the root: %v", err)
		}
		unchanged("after a failed start")

		_, fifo := heldDir(t)
		held, err := sandbox.NewBuilder(append(opts, sandbox.WithHold())...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		hp, err := held.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo})
		if err != nil {
			t.Fatal(err)
		}
		unchanged("while a start is held")
		if err := hp.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st, err := hp.Wait(); err != nil || !st.Success() {
			t.Fatalf("held start: %v, %v", st, err)
		}

		// Starts at once take turns on the staging directory.
		errs := make(chan error, 4)
		for range cap(errs) {
			go func() {
				var b strings.Builder
				_, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/cat", "/etc/hostname"}, Stdout: &b})
				if err == nil && b.String() != "busybox\n" {
					err = fmt.Errorf("output %q", b.String())
				}
				errs <- err
			}()
		}
		for range cap(errs) {
			if err := <-errs; err != nil {
				t.Errorf("a start among others: %v", err)
			}
		}
		unchanged("at the end")
	})
}

// TestRootInCallerMountNSPropagation: where the staging directory lies on a
// shared mount, with a slave of it in another namespace, the slave receives
// only the empty bind of the staging directory on itself while a start sets up
// its root (seen at the held start's checkpoint before chroot, once every
// mount is made), none of the mounts beneath it, not even a tmpfs below a
// bind of a directory of the shared mount, and loses that bind again:
// once Start has returned, both tables are as they were. It runs in a private
// mount namespace of the test's own, which it changes.
func TestRootInCallerMountNSPropagation(t *testing.T) {
	testutil.InPrivateMounts(t, func(t *testing.T, m *testutil.Mounter) {
		dir := testutil.BusyboxRoot(t)
		shared := t.TempDir()
		m.Mount(t, shared)
		defer m.Unmount(t, shared)
		if err := syscall.Mount("", shared, "", syscall.MS_SHARED, ""); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TMPDIR", shared) // the Template's staging directory lands there
		testutil.Require(t, "unshare", "util-linux")
		cmd := exec.Command("unshare", "--mount", "--propagation", "unchanged", "sh", "-c", "mount --make-rslave "+shared+" && exec sleep 1000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		slave := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/mountinfo"
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/comm"); strings.TrimSpace(string(comm)) == "sleep" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the slave namespace's holder did not reach sleep")
			}
		}
		table := func(path string) string {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		before, beforeSlave := mountSnapshot(t), table(slave)

		// A bind of a directory of the shared mount, with a tmpfs below it.
		src := filepath.Join(shared, "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		_, fifo := heldDir(t)
		tpl, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithRootInCallerMountNS(), sandbox.WithHold(), sandbox.WithHoldBeforePivot(),
			sandbox.WithBind(src, "/mnt", false), sandbox.WithTmpfs("/mnt/sub", "1m", 0o755)).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var during string
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo,
			BeforePivot: func(int) error { during = table(slave); return nil }})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Wait()
		defer p.Kill()
		var below []string
		for _, line := range strings.Split(during, "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], shared+"/") {
				below = append(below, f[4])
			}
		}
		if len(below) != 1 || !strings.Contains(below[0], "/paddock-root-") || strings.Contains(below[0], "/src") {
			t.Errorf("the slave received more than the staging directory's bind: %q", below)
		}
		if after := mountSnapshot(t); after != before {
			t.Errorf("the caller's mount table changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		if after := table(slave); after != beforeSlave {
			t.Errorf("the slave's mount table changed:\nbefore\n%s\nafter\n%s", beforeSlave, after)
		}
	})
}

// envKilledInPlace makes the test binary act as a caller that is killed while
// a start of a root in its mount namespace waits at the checkpoint before
// chroot: it prints its owner ID from there and waits. The value is the root
// directory.
const envKilledInPlace = "PADDOCK_TEST_KILLED_IN_PLACE"

func init() {
	dir := os.Getenv(envKilledInPlace)
	if dir == "" {
		return
	}
	tpl, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithRootInCallerMountNS(), sandbox.WithHold(), sandbox.WithHoldBeforePivot()).Build()
	if err == nil {
		fifo := filepath.Join(os.TempDir(), "paddock-killed-fifo-"+strconv.Itoa(os.Getpid()))
		if err = syscall.Mkfifo(fifo, 0o600); err == nil {
			_, err = tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo,
				BeforePivot: func(int) error {
					os.Remove(fifo)
					id, _ := owner.Held()
					os.Stdout.WriteString(id + "\n")
					time.Sleep(time.Minute)
					return nil
				}})
		}
	}
	os.Stdout.WriteString("error " + fmt.Sprint(err) + "\n")
	os.Exit(1)
}

// TestReclaimKilledInPlace: a caller killed while a start sets up a root in its
// mount namespace leaves the root's mounts on its staging directory; the next
// Reclaim detaches them and removes the directory.
func TestReclaimKilledInPlace(t *testing.T) {
	if testutil.Rootless() {
		t.Skip("a root in the caller's mount namespace needs CAP_SYS_ADMIN")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envKilledInPlace+"="+testutil.BusyboxRoot(t))
	id := strings.TrimSpace(testutil.StartLine(t, cmd))
	if !owner.ValidID(id) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the caller said %q", id)
	}
	mounted := func() int { return strings.Count(mountSnapshot(t), "/paddock-root-"+id+"-") }
	if n := mounted(); n < 2 {
		t.Errorf("at the checkpoint, %d mounts on the staging directory; want the bind on itself, the root and more", n)
	}
	cmd.Process.Kill()
	cmd.Wait()
	reclaimUntil(t, func() []string {
		left := leftBy(t, id)
		if n := mounted(); n > 0 {
			left = append(left, fmt.Sprintf("%d mounts on the staging directory", n))
		}
		return left
	})
}
