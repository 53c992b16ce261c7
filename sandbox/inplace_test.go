package sandbox_test

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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
// user namespace does not own the mount namespace, so setns would fail.
func TestRootInJoinedMountNS(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		if testutil.Rootless() {
			_, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithRootInJoinedMountNS("/proc/self/ns/mnt")).Build()
			if !errors.Is(err, sandbox.ErrInvalidSpec) || !strings.Contains(err.Error(), "setns needs CAP_SYS_ADMIN") {
				t.Fatalf("rootless join of a mount namespace that its new user namespace does not own: %v", err)
			}
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
