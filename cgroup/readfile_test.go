package cgroup

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadFile: readFile reads what os.ReadFile reads, small and large files
// and a cgroup file, and fails as it does.
func TestReadFile(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("0123456789\n"), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{big, "/proc/self/mountinfo", "/proc/self/cgroup"} {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readFile(p)
		if err != nil || (p == big && !bytes.Equal(got, want)) || len(got) == 0 {
			t.Errorf("readFile(%s): %d bytes, %v; os.ReadFile: %d bytes", p, len(got), err, len(want))
		}
	}
	var pe *os.PathError
	if _, err := readFile(filepath.Join(t.TempDir(), "missing")); !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readFile of a missing file: %v", err)
	}
}
