package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownProperties: a configuration with properties the runtime spec
// does not define is created and run, as root and as uid 65534, as the spec
// requires of a runtime, and create names each property in a warning.
func TestUnknownProperties(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		b := r.bundle(t, []string{"sh", "-c", "echo ran > /out/ran"}, out, func(cfg map[string]any) {
			cfg["unknown"] = "value"
			cfg["process"].(map[string]any)["wings"] = 2
		})
		o := r.must(t, "create", "--bundle", b, "box")
		if !strings.Contains(o, "warning") || !strings.Contains(o, "process.wings, unknown") {
			t.Errorf("create's warning: %q", o)
		}
		r.must(t, "start", "box")
		r.waitStatus(t, "box", "stopped")
		if got, err := os.ReadFile(filepath.Join(out, "ran")); string(got) != "ran\n" {
			t.Errorf("the command's output: %q, %v", got, err)
		}
		r.must(t, "delete", "box")
		r.gone(t, "box")
	})
}
