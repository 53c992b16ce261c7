package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the tests leave anything behind on the host.
func TestMain(m *testing.M) { testutil.Main(m) }

// TestPresetKinds: --preset describes each preset as the kind it is named after,
// for this caller. Root's rootless presets draw from an automatic range
// (testutil.Main grants namespace.AutoUser one for the run): rootless, with a
// uid map whose outside ID is not 0.
func TestPresetKinds(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "inspect")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	for _, c := range []struct{ preset, kind string }{
		{"rootless", "rootless"}, {"rootless-privileged", "privileged (rootless)"}, {"rootful", "rootful"},
	} {
		if c.preset == "rootful" && os.Geteuid() != 0 {
			continue
		}
		out, err := exec.Command(bin, "--preset", c.preset).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "\nKind             "+c.kind+"\n") {
			t.Errorf("--preset %s: %v; want the kind %s:\n%s", c.preset, err, c.kind, out)
		}
		if strings.HasPrefix(c.preset, "rootless") && strings.Contains(string(out), "\nUID map          0→0 ") {
			t.Errorf("--preset %s maps root inside to host root:\n%s", c.preset, out)
		}
	}
}
