package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxRoot builds a minimal root filesystem that every user can read: Debian's
// static busybox at /bin/busybox with its applets linked beside it, empty /proc,
// /sys, /dev, /etc, /tmp and /run, /etc/hostname ("busybox") and /etc/mtab (which
// Podman would otherwise create, and a rootless Podman cannot in a root it does not
// own). It skips t where busybox is not installed; the root is removed when t ends.
func BusyboxRoot(t testing.TB) string {
	t.Helper()
	bb := Require(t, "busybox", "busybox-static")
	dir := SharedTempDir(t, "paddock-busybox-")
	for _, d := range []string{"bin", "proc", "sys", "dev", "etc", "tmp", "run"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(bb, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, name := range strings.Fields(string(list)) {
		if name != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(dir, "bin", name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Symlink("/proc/mounts", filepath.Join(dir, "etc/mtab")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/hostname"), []byte("busybox\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
