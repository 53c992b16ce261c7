package testutil

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MountTable returns this process's mount table (/proc/self/mountinfo) as text,
// for before/after comparisons, without the mounts below another test binary's
// temporary directory. Test binaries of other packages run at the same time
// (go test runs packages in parallel), and some of their sandboxes set their
// root up in the caller's mount namespace, which is this one: those mounts come
// and go below the temporary directory that Main gave that binary.
func MountTable(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Clean(os.TempDir())
	var keep []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && isRunDir(f[4]) && !inDir(f[4], own) {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "")
}

// isRunDir reports whether path lies below the temporary directory that Main
// gives a test binary: paddock- and a run ID in the parent temporary directory.
func isRunDir(path string) bool {
	rest, ok := strings.CutPrefix(path, filepath.Join(filepath.Dir(filepath.Clean(os.TempDir())), "paddock-"))
	if !ok {
		return false
	}
	id, _, _ := strings.Cut(rest, "/")
	return len(id) == len(runID) && strings.Trim(id, "0123456789abcdef") == ""
}

// inDir reports whether path is dir or lies below it.
func inDir(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
