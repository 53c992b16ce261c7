package sandbox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

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
