package sandbox_test

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// envParentDeath makes the test binary act as a short-lived parent: it starts a
// sandbox, prints the sandbox's pid and waits to be killed.
const envParentDeath = "PADDOCK_TEST_PARENT_DEATH"

func init() {
	if os.Getenv(envParentDeath) != "1" {
		return
	}
	// Runs before any test, in the re-executed binary only; it never returns. No
	// root filesystem and no cgroup: the process is killed, so it never removes the
	// staging directory of an overlay root or the cgroup of a start.
	tpl, err := sandbox.NewBuilder(sandbox.WithoutRootfs(), sandbox.WithoutCgroup()).Build()
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString(strconv.Itoa(p.Pid()) + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestParentDeath kills the process that started a sandbox (with SIGKILL: no Go code
// of it runs) and checks that the sandbox dies too, although it is PID 1 of its own
// pid namespace, where a getppid check would be meaningless.
func TestParentDeath(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envParentDeath+"=1")
		line := testutil.StartLine(t, cmd)
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the parent said %q", line)
		}
		cmd.Process.Kill()
		cmd.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil || strings.Contains(string(data), ") Z ") {
				// Gone, or a zombie waiting for its new parent to reap it: this
				// process, where it is a child subreaper (testutil.Main).
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
				return
			}
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the sandbox (pid %d) outlived its parent: %s", pid, data)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestTimeNamespace shifts the boot-time clock of a new time namespace by a day and
// reads it back inside through /proc/uptime.
func TestTimeNamespace(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if _, err := os.Stat("/proc/self/ns/time"); err != nil {
			t.Skipf("time namespaces: %v", err)
		}
		const day = 86400
		out, st := run(t, []sandbox.Option{sandbox.WithTimeOffsets(0, day*1e9)}, "/bin/sh", "-c", "cat /proc/uptime; readlink /proc/self/ns/time")
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
		f := strings.Fields(out)
		inside, _ := strconv.ParseFloat(f[0], 64)
		host, _ := os.ReadFile("/proc/uptime")
		outside, _ := strconv.ParseFloat(strings.Fields(string(host))[0], 64)
		if inside < outside+day-60 || inside > outside+day+60 {
			t.Fatalf("uptime inside %.0f s, outside %.0f s: want a day more", inside, outside)
		}
		own, _ := os.Readlink("/proc/self/ns/time")
		if f[2] == own {
			t.Fatalf("the time namespace is the host's: %s", f[2])
		}
	})
}

// TestSpecJSONRoundTrip: every preset survives JSON unchanged, and unknown fields
// are refused.
func TestSpecJSONRoundTrip(t *testing.T) {
	for name, opt := range map[string]sandbox.Option{
		"rootful": sandbox.Rootful(), "rootless": sandbox.Rootless(),
		"privileged": sandbox.Privileged(), "super-privileged": sandbox.SuperPrivileged(),
	} {
		spec := sandbox.NewBuilder(opt, sandbox.WithHostname("h"), sandbox.WithUser(1, 2, 3),
			sandbox.WithRlimit("nofile", 10, 20), sandbox.WithTimeOffsets(5, 7),
			sandbox.WithUserNS([]namespace.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}, nil)).Spec()
		data, err := spec.JSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := sandbox.ParseSpec(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := back.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(data) {
			t.Errorf("%s: the Spec changed through JSON:\n%s\nbecame\n%s", name, data, again)
		}
		if back.Hostname != "h" || back.User == nil || back.User.GID != 2 || back.Namespaces.Time == nil || back.Namespaces.Time.Boottime != 7 ||
			!reflect.DeepEqual(back.Caps, spec.Caps) || back.Seccomp != spec.Seccomp || back.Privileged != spec.Privileged {
			t.Errorf("%s: fields lost through JSON:\n%s", name, data)
		}
	}
	if _, err := sandbox.ParseSpec([]byte(`{"bogus": 1}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
}

// heldMountNS returns the descriptors of this process that refer to the mount
// namespace link (such as "mnt:[4026532301]").
func heldMountNS(t *testing.T, link string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && l == link {
			fds = append(fds, e.Name())
		}
	}
	return fds
}

// pidfdMountNS reports whether the kernel hands out a process's mount namespace
// through its pidfd (PIDFD_GET_MNT_NAMESPACE), by asking for this process's own.
func pidfdMountNS(t *testing.T) bool {
	t.Helper()
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	defer unix.Close(pidfd)
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(pidfd), unix.PIDFD_GET_MNT_NAMESPACE, 0)
	if e != 0 {
		t.Logf("PIDFD_GET_MNT_NAMESPACE: %v: the kernel lacks it", e)
		return false
	}
	unix.Close(int(fd))
	return true
}

// TestMountNamespaceReleasedLate checks how a sandbox's mount namespace ends: with an
// ephemeral root, the parent holds it from the start and drops it after Wait, off
// Wait's path, and Template.Close waits until it is gone; with a persistent upper
// layer, which the next sandbox must be able to mount, it ends with the sandbox.
func TestMountNamespaceReleasedLate(t *testing.T) {
	// Without PIDFD_GET_MNT_NAMESPACE (Linux 6.11) the parent takes no reference:
	// the namespace then always ends with the sandbox.
	canHold := pidfdMountNS(t)
	testutil.Modes(t, func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts []sandbox.Option
			late bool
		}{
			{"ephemeral", nil, true},
			{"norootfs", []sandbox.Option{sandbox.WithoutRootfs()}, true},
			{"persistent", func() []sandbox.Option { u, w := upperDirs(t); return []sandbox.Option{sandbox.WithOverlayUpper(u, w)} }(), false},
			{"fork", []sandbox.Option{sandbox.WithSpawnMode(sandbox.SpawnFork)}, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := testutil.OpenFDs(t)
				tpl, err := sandbox.NewBuilder(append(tc.opts, sandbox.WithoutCgroup())...).Build()
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tpl.Close() }) // on failure; the test closes it itself
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", "read x; true"}, Stdin: r})
				r.Close()
				if err != nil {
					w.Close()
					t.Fatal(err)
				}
				t.Cleanup(func() { w.Close(); p.Wait() }) // before the Template's, on failure
				link, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid()) + "/ns/mnt")
				if err != nil {
					t.Fatal(err)
				}
				if self, _ := os.Readlink("/proc/self/ns/mnt"); link == self {
					t.Fatalf("the sandbox shares the test's mount namespace %s", link)
				}
				held := heldMountNS(t, link)
				if !canHold {
					tc.late = false
				}
				if tc.late && len(held) != 1 {
					t.Errorf("the parent holds %d references to the sandbox's mount namespace %s, want 1", len(held), link)
				}
				for _, fd := range held {
					// Close-on-exec, or a process the caller executes meanwhile
					// would inherit the sandbox's mount namespace.
					info, err := os.ReadFile("/proc/self/fdinfo/" + fd)
					if err != nil {
						t.Fatal(err)
					}
					var flags int64
					for _, l := range strings.Split(string(info), "\n") {
						if v, ok := strings.CutPrefix(l, "flags:"); ok {
							flags, _ = strconv.ParseInt(strings.TrimSpace(v), 8, 64)
						}
					}
					if flags&syscall.O_CLOEXEC == 0 {
						t.Errorf("the reference to the mount namespace (fd %s, flags %o) is not close-on-exec", fd, flags)
					}
				}
				if !tc.late && len(held) != 0 {
					t.Errorf("the parent holds the sandbox's mount namespace %s (fds %v); its persistent upper layer would stay in use", link, held)
				}
				w.Close()
				if st, err := p.Wait(); err != nil || !st.Success() {
					t.Fatal(st, err)
				}
				tpl.Close()
				if held := heldMountNS(t, link); len(held) != 0 {
					t.Errorf("after Close the parent still holds the mount namespace %s (fds %v)", link, held)
				}
				if after := testutil.OpenFDs(t); after != before {
					t.Errorf("%d descriptors open after Close, %d before", after, before)
				}
			})
		}
	})
}
