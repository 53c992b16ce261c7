package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paddock-sandbox/paddock/namespace"
)

// TestAutoRangeLine: the line granted is the one the namespace package suggests,
// for the files it reads, and the idle lock file removed is the one it makes.
func TestAutoRangeLine(t *testing.T) {
	want := fmt.Sprintf("%s:%d:%d", namespace.AutoUser, namespace.SuggestedAutoStart, namespace.SuggestedAutoCount)
	if AutoRangeLine != want || !slices.Equal(subIDFiles, []string{namespace.SubUIDFile, namespace.SubGIDFile}) {
		t.Errorf("AutoRangeLine %q, files %v; want %q and the namespace package's files", AutoRangeLine, subIDFiles, want)
	}
	if autoLockDir != namespace.AutoLockDir || autoLockFile != namespace.LockFileName {
		t.Errorf("lock file %s/%s, want the namespace package's %s/%s", autoLockDir, autoLockFile, namespace.AutoLockDir, namespace.LockFileName)
	}
}

// TestGrantIn: grants nest, as test binaries running at once take them, and each
// undo takes one back; a range of the host's own is left alone; a file that did
// not exist is removed again.
func TestGrantIn(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, before, during string }{
		{"empty", "", AutoRangeLine + "\n" + AutoRangeLine + "\n"},
		{"no final newline", "alice:100000:65536", AutoRangeLine + "\n" + AutoRangeLine + "\n" + "alice:100000:65536"},
		{"the host's own range", "containers:2000000:65536\n", "containers:2000000:65536\n"},
		{"the same line already", AutoRangeLine + "\n", AutoRangeLine + "\n" + AutoRangeLine + "\n" + AutoRangeLine + "\n"},
	} {
		file := filepath.Join(dir, c.name)
		if err := os.WriteFile(file, []byte(c.before), 0o644); err != nil {
			t.Fatal(err)
		}
		undo1, err1 := grantIn(file, AutoRangeLine)
		undo2, err2 := grantIn(file, AutoRangeLine)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if got, _ := os.ReadFile(file); string(got) != c.during {
			t.Errorf("%s: granted twice: %q, want %q", c.name, got, c.during)
		}
		undo1()
		undo2()
		if got, _ := os.ReadFile(file); string(got) != c.before {
			t.Errorf("%s: after both undos: %q, want %q", c.name, got, c.before)
		}
	}
	file := filepath.Join(dir, "absent")
	undo, err := grantIn(file, AutoRangeLine)
	if err != nil {
		t.Fatal(err)
	}
	undo()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a file the grant created is left: %v", err)
	}
}
