package mdsection

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReplace: a section is replaced up to the next one, and appended where
// the file has none.
func TestReplace(t *testing.T) {
	md := filepath.Join(t.TempDir(), "B.md")
	if err := os.WriteFile(md, []byte("# T\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct{ heading, section, want string }{
		{"## A", "## A\n\none\n", "# T\n\n## A\n\none\n"},
		{"## B", "## B\n\ntwo\n", "# T\n\n## A\n\none\n\n## B\n\ntwo\n"},
		{"## A", "## A\n\nnew\n", "# T\n\n## A\n\nnew\n\n## B\n\ntwo\n"},
	}
	for _, s := range steps {
		if err := Replace(md, s.heading, s.section); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(md); string(b) != s.want {
			t.Fatalf("after %s: %q, want %q", s.heading, b, s.want)
		}
	}
}
