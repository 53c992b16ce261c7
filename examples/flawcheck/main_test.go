package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// build compiles flawcheck into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "flawcheck")
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is needed to build flawcheck: %v", err)
	}
	cmd := exec.Command(gocmd, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type row struct {
	ID    string `json:"id"`
	Cells []struct {
		Config  string `json:"config"`
		Exposed bool   `json:"exposed"`
		Steps   []string
	} `json:"verdicts"`
}

func runJSON(t *testing.T, bin string, args ...string) []row {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"--json"}, args...)...).Output()
	if err != nil {
		t.Fatalf("flawcheck %v: %v", args, err)
	}
	var doc struct {
		Host *exposure.HostFacts `json:"host"`
		Rows []row               `json:"verdicts"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("flawcheck %v: output is not JSON: %v", args, err)
	}
	if doc.Host == nil || doc.Host.Release == "" {
		t.Fatalf("flawcheck %v: no host facts", args)
	}
	rows := doc.Rows
	if n := len(exposure.Catalogue()); len(rows) != n {
		t.Fatalf("flawcheck %v: %d rows, want %d", args, len(rows), n)
	}
	return rows
}

func TestFlawcheckJSON(t *testing.T) {
	bin := build(t)

	rows := runJSON(t, bin) // one row per flaw of the catalogue
	for _, r := range rows {
		if len(r.Cells) != 5 {
			t.Fatalf("%s: %d columns, want 5", r.ID, len(r.Cells))
		}
		for j, c := range r.Cells {
			if want := exposure.Presets()[j].Name; c.Config != want {
				t.Errorf("%s: column %d is %q, want %q", r.ID, j, c.Config, want)
			}
			if len(c.Steps) == 0 {
				t.Errorf("%s on %s: no reasoning", r.ID, c.Config)
			}
		}
	}

	rows = runJSON(t, bin, "--preset", "rootless")
	if len(rows[0].Cells) != 1 || rows[0].Cells[0].Config != "rootless" {
		t.Errorf("--preset rootless: columns %+v", rows[0].Cells)
	}

	spec, err := sandbox.NewBuilder(sandbox.Rootless()).Spec().JSON()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(file, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	fromSpec := runJSON(t, bin, "--spec", file)
	for i := range rows {
		if len(fromSpec[i].Cells) != 1 || fromSpec[i].Cells[0].Exposed != rows[i].Cells[0].Exposed {
			t.Errorf("%s: --spec of the rootless Spec differs from --preset rootless", rows[i].ID)
		}
	}

	// What run --dry-run prints: the Plan is judged as it is.
	pl, err := sandbox.NewBuilder(sandbox.Rootless()).Spec().Plan()
	if err != nil {
		t.Fatal(err)
	}
	dry, err := json.Marshal(map[string]any{"spec": sandbox.NewBuilder(sandbox.Rootless()).Spec(), "plan": pl})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, dry, 0o600); err != nil {
		t.Fatal(err)
	}
	fromPlan := runJSON(t, bin, "--spec", file)
	for i := range rows {
		if len(fromPlan[i].Cells) != 1 || fromPlan[i].Cells[0].Exposed != rows[i].Cells[0].Exposed {
			t.Errorf("%s: --spec of run --dry-run's Plan differs from --preset rootless", rows[i].ID)
		}
	}

	// The test process itself, as a live process.
	self := runJSON(t, bin, "--pid", strconv.Itoa(os.Getpid()))
	if len(self[0].Cells) != 1 {
		t.Errorf("--pid: %d columns", len(self[0].Cells))
	}

	if err := exec.Command(bin, "--preset", "nope").Run(); err == nil {
		t.Error("an unknown preset was accepted")
	}
}
