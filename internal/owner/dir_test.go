package owner

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOwnDir: a lock directory that is a symbolic link, or that others may write
// to, is refused.
func TestOwnDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := ownDir(dir, os.Geteuid()); err != nil {
		t.Fatalf("a private directory: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if ownDir(link, os.Geteuid()) == nil {
		t.Error("a symbolic link is accepted")
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if ownDir(dir, os.Geteuid()) == nil {
		t.Error("a directory others may write to is accepted")
	}
	if ownDir(dir, os.Geteuid()+1) == nil {
		t.Error("another user's directory is accepted")
	}
}
