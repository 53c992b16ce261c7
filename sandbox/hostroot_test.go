package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// hostSecretScript prints what a sandbox on the default root sees of the host's
// secrets and temporary files: the size of /etc/shadow as the sandbox reads it
// ("-" when it cannot), the entries of /root, /home, /var/lib, /run and /tmp, and
// whether the host's canary file in its temporary directory is visible.
const hostSecretScript = `
size() { if [ -r "$1" ]; then wc -c < "$1"; else echo -; fi; }
count() { if [ -x "$1" ]; then ls -A "$1" | wc -l; else echo -; fi; }
echo "shadow $(size /etc/shadow)"
for d in /root /home /var/lib /run /tmp; do echo "$d $(count $d)"; done
if [ -e %[1]q ]; then echo canary visible; else echo canary hidden; fi
echo scratch > /tmp/scratch && echo "tmp writable"
`

// TestHostRoot checks that the default root, the host's own "/", does not hand the
// sandbox the host's secrets or temporary files, in every kind but
// super-privileged: /etc/shadow reads as empty (root of a rootful sandbox read it
// whole before), /root, /home, /var/lib and /run are empty, and /tmp is an empty
// tmpfs of its own. WithHostRoot with an empty HostRoot shows them again.
func TestHostRoot(t *testing.T) {
	shadow, err := os.Stat("/etc/shadow")
	if err != nil || shadow.Size() == 0 {
		t.Skipf("this host has no /etc/shadow to hide: %v", err)
	}
	testutil.Modes(t, func(t *testing.T) {
		canary := filepath.Join(os.TempDir(), "paddock-canary")
		if err := os.WriteFile(canary, []byte("host secret\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(canary)
		script := fmt.Sprintf(hostSecretScript, canary)
		for _, kind := range []struct {
			name string
			opts []sandbox.Option
		}{{"default", nil}, {"privileged", []sandbox.Option{sandbox.Privileged()}}} {
			t.Run(kind.name, func(t *testing.T) {
				out := sh(t, kind.opts, script)
				for _, want := range []string{"/home 0\n", "/var/lib 0\n", "/run 0\n", "/tmp 0\n", "canary hidden\n", "tmp writable\n"} {
					if !strings.Contains(out, want) {
						t.Errorf("want %q in:\n%s", strings.TrimSpace(want), out)
					}
				}
				// Rootless, /root and /etc/shadow are closed to the caller on the
				// host, and stay so.
				for _, closed := range []string{"/root", "shadow"} {
					if !strings.Contains(out, closed+" 0\n") && !(testutil.Rootless() && strings.Contains(out, closed+" -\n")) {
						t.Errorf("%s is visible:\n%s", closed, out)
					}
				}
			})
		}
		t.Run("shown", func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithHostRoot(mounts.HostRoot{})}, script)
			if !strings.Contains(out, "canary visible\n") {
				t.Errorf("an empty HostRoot still hides the host's temporary files:\n%s", out)
			}
			if !testutil.Rootless() && !strings.Contains(out, fmt.Sprintf("shadow %d\n", shadow.Size())) {
				t.Errorf("an empty HostRoot still hides /etc/shadow from root:\n%s", out)
			}
		})
	})
}

// TestHostRootBindsBelowHidden checks that the sandbox's own mounts below a hidden
// directory stay visible: the hidden directory is an empty read-only tmpfs with
// the bind in it.
func TestHostRootBindsBelowHidden(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := sh(t, []sandbox.Option{sandbox.WithBind(dir, "/home/me/work", true)}, `
cat /home/me/work/f
ls -A /home
touch /home/x 2>&1 | grep -c 'Read-only file system'`)
		if out != "mine\nme\n1\n" {
			t.Errorf("a bind below the hidden /home:\n%s", out)
		}
	})
}

// TestOverlaySize checks the bound of the ephemeral writable layer: by default
// overlay.DefaultSize (1 GiB), and past a smaller bound a write fails with ENOSPC
// instead of taking the host's memory, for a new file in an existing directory and
// a new top-level one.
func TestOverlaySize(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out := sh(t, nil, `stat -f -c '%b %S' /`)
		var blocks, bsize int64
		if _, err := fmt.Sscan(out, &blocks, &bsize); err != nil || blocks*bsize != 1<<30 {
			t.Errorf("the default writable layer holds %d bytes (%q), want 1 GiB", blocks*bsize, out)
		}
		out, st := run(t, []sandbox.Option{sandbox.WithOverlaySize("8m")}, "/bin/sh", "-c", `
for f in /usr/paddock-big /paddock-big; do
	dd if=/dev/zero of=$f bs=1M count=16 2>&1 | grep -c 'No space left on device'
	echo $(( $(wc -c < $f) <= 8 * 1024 * 1024 ))
done`)
		if !st.Success() || out != "1\n1\n1\n1\n" {
			t.Errorf("writing 16 MiB under an 8 MiB bound: %v\n%s", st, out)
		}
	})
}

// TestHiddenPathsResolve checks what mounts.DefaultHostRoot hides on this host:
// the named secrets that exist, and every root-only entry of the directories it
// scans.
func TestHiddenPathsResolve(t *testing.T) {
	hidden := map[string]bool{}
	for _, h := range mounts.DefaultHostRoot().Resolve() {
		hidden[h.Path] = true
	}
	for _, p := range []string{"/etc/shadow", "/etc/gshadow", "/root", "/home", "/var/lib"} {
		if _, err := os.Stat(p); err == nil && !hidden[p] {
			t.Errorf("%s exists but is not hidden", p)
		}
	}
	ents, _ := os.ReadDir("/etc")
	for _, e := range ents {
		p := "/etc/" + e.Name()
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil {
			continue
		}
		private := st.Mode&0o004 == 0 || (st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&0o001 == 0)
		if private && !hidden[p] {
			t.Errorf("%s is root-only (mode %o) but not hidden", p, st.Mode&0o7777)
		}
	}
}
