package sandbox_test

import (
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// ownDevSpec is a Spec on a busybox root without the default mounts, whose own
// mounts give it a /proc, a /dev tmpfs and a devpts on /dev/pts, as an OCI
// configuration does, and the /dev links of mounts.DefaultSymlinks.
func ownDevSpec(t *testing.T) *sandbox.Spec {
	s := sandbox.DefaultSpec()
	s.Rootfs.Lower = []string{testutil.BusyboxRoot(t)}
	s.Mounts.Defaults = false
	s.Mounts.Masked, s.Mounts.ReadOnly = nil, nil
	s.Mounts.Mounts = []mounts.Mount{
		{Source: "proc", Target: "/proc", FSType: "proc", Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
		{Source: "tmpfs", Target: "/dev", FSType: "tmpfs", Flags: unix.MS_NOSUID, Data: "mode=755,size=65536k"},
		{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620"},
	}
	s.Mounts.Symlinks = mounts.DefaultSymlinks
	return s
}

// TestTerminalOwnDevpts: a Spec without the default mounts whose own mounts
// put a devpts on /dev/pts and a tmpfs on /dev gets its terminal from that
// devpts, bound onto /dev/console too, and the /dev links it lists; without a
// terminal it has no /dev/console. As root and as uid 65534.
func TestTerminalOwnDevpts(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		opts := []sandbox.Option{sandbox.WithSpec(ownDevSpec(t))}
		script := ttyScript + `echo "console=$(stat -c '%t:%T %i' /dev/console $(tty) | uniq | wc -l)"
for l in ptmx fd stdin stdout stderr; do echo "link=$l:$(readlink /dev/$l)"; done
`
		out, st := onTerminal(t, opts, "/bin/sh", "-c", script)
		if !st.Success() {
			t.Fatalf("exit %v:\n%s", st, out)
		}
		checkTTY(t, out)
		for _, want := range []string{"console=1\n", "link=ptmx:pts/ptmx\n", "link=fd:/proc/self/fd\n",
			"link=stdin:/proc/self/fd/0\n", "link=stdout:/proc/self/fd/1\n", "link=stderr:/proc/self/fd/2\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q inside:\n%s", strings.TrimSpace(want), out)
			}
		}
		res, st := run(t, opts, "/bin/sh", "-c", "test -e /dev/console && echo console || echo none")
		if !st.Success() || res != "none\n" {
			t.Errorf("without a terminal: %q, %v", res, st)
		}
	})
}
