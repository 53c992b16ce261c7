package mounts

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestIDMapSupported: root can idmap a copy of the temporary directory's mount
// (or the test skips, naming why not) and cannot idmap sysfs.
func TestIDMapSupported(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("idmapped mounts need CAP_SYS_ADMIN over the filesystem (root)")
	}
	dir := t.TempDir()
	err := IDMapSupported(dir, true)
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("idmapped mounts of %s: %v", dir, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := IDMapSupported("/sys/kernel", false); !errors.Is(err, ErrNotSupported) || !errors.As(err, new(syscall.Errno)) ||
		!strings.Contains(err.Error(), "/sys/kernel (sysfs)") || !strings.Contains(err.Error(), "does not support") {
		t.Errorf("sysfs: %v, want ErrNotSupported naming the path, its filesystem and the reason", err)
	}

}
