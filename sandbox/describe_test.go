package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestDescribeMatchesInside runs examples/inspect inside live sandboxes and checks
// that what it sees of itself is what Spec.Describe said before the start, and what
// `inspect --preset NAME` prints for the same preset: namespaces' states, maps,
// capability sets, seccomp mode, no_new_privs, masked and read-only paths, kind.
func TestDescribeMatchesInside(t *testing.T) {
	testutil.ModesWith(t, "PADDOCK_DESCRIBE_BIN", buildInspect, describeInsideAll)
}

// buildInspect builds examples/inspect, and beside it examples/run and
// examples/flawcheck, into a directory that uid 65534 can reach.
func buildInspect(t *testing.T) string {
	t.Helper()
	bin := testutil.BuildForNobody(t, "../examples/inspect", "inspect")
	for _, name := range []string{"run", "flawcheck"} {
		build := exec.Command("go", "build", "-o", filepath.Join(filepath.Dir(bin), name), "../examples/"+name)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	return bin
}

func describeInsideAll(t *testing.T, bin string) {
	// The default preset of the caller: rootful for root, rootless for anyone else.
	name, priv := "rootful", "privileged"
	if testutil.Rootless() {
		name, priv = "rootless", "rootless-privileged"
	}
	t.Run(name, func(t *testing.T) { describeInside(t, bin, name) })
	t.Run(priv, func(t *testing.T) { describeInside(t, bin, priv, sandbox.Privileged()) })
	t.Run(name+"/dry-run", func(t *testing.T) { dryRunInside(t, bin) })
	t.Run(priv+"/dry-run", func(t *testing.T) { dryRunInside(t, bin, "--privileged") })
	t.Run(name+"/flawcheck", func(t *testing.T) { flawcheckLive(t, bin, name) })
}

// describeInside compares three reports of one preset: Describe of the Spec, the
// inspect binary's --preset output, and the binary's report from inside a live
// sandbox of that Spec.
func describeInside(t *testing.T, bin, preset string, opts ...sandbox.Option) {
	const target = "/paddock-inspect"
	opts = append(opts, sandbox.WithBind(filepath.Dir(bin), target, true))
	b := sandbox.NewBuilder(opts...)
	described, err := b.Spec().Describe()
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	tpl, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	var out, errOut bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{
		Args:   []string{target + "/" + filepath.Base(bin), "--json"},
		Stdout: &out, Stderr: &errOut,
	})
	if err != nil || !st.Success() {
		t.Fatalf("inspect in the sandbox: %v %v\n%s%s", st, err, out.String(), errOut.String())
	}
	var inside inspect.Report
	if err := json.Unmarshal(out.Bytes(), &inside); err != nil {
		t.Fatalf("inspect printed %v:\n%s%s", err, out.String(), errOut.String())
	}

	pout, err := exec.Command(bin, "--json", "--preset", preset).Output()
	if err != nil {
		t.Fatalf("inspect --preset %s: %v", preset, err)
	}
	var fromTool inspect.Report
	if err := json.Unmarshal(pout, &fromTool); err != nil {
		t.Fatalf("inspect --preset %s printed %v:\n%s", preset, err, pout)
	}
	t.Logf("described: %s %q\ninside: %s %q", described.Kind, described.Reasons, inside.Kind, inside.Reasons)
	sameMechanisms(t, "Describe", described, "inside", &inside)
	sameMechanisms(t, "inspect --preset "+preset, &fromTool, "inside", &inside)
}

// sameMechanisms fails t on any mechanism in which reports a and b differ.
func sameMechanisms(t *testing.T, an string, a *inspect.Report, bn string, b *inspect.Report) {
	t.Helper()
	for _, k := range namespace.Kinds {
		if x, y := a.Get(k).State, b.Get(k).State; x != y {
			t.Errorf("%s namespace: %s %s, %s %s", k, an, x, bn, y)
		}
	}
	if !slices.Equal(a.UIDMap, b.UIDMap) || !slices.Equal(a.GIDMap, b.GIDMap) || a.Setgroups != b.Setgroups {
		t.Errorf("maps: %s %v %v %s, %s %v %v %s", an, a.UIDMap, a.GIDMap, a.Setgroups, bn, b.UIDMap, b.GIDMap, b.Setgroups)
	}
	ac, bc := a.Capabilities, b.Capabilities
	for _, set := range []struct {
		name string
		x, y []string
	}{
		{"bounding", ac.Bounding, bc.Bounding}, {"effective", ac.Effective, bc.Effective},
		{"permitted", ac.Permitted, bc.Permitted}, {"inheritable", ac.Inheritable, bc.Inheritable},
		{"ambient", ac.Ambient, bc.Ambient},
	} {
		if !slices.Equal(set.x, set.y) {
			t.Errorf("%s capabilities: %s %v, %s %v", set.name, an, set.x, bn, set.y)
		}
	}
	if a.Seccomp.Mode != b.Seccomp.Mode || a.Seccomp.Filters != b.Seccomp.Filters {
		t.Errorf("seccomp: %s %+v, %s %+v", an, a.Seccomp, bn, b.Seccomp)
	}
	if a.NoNewPrivs != b.NoNewPrivs {
		t.Errorf("no_new_privs: %s %v, %s %v", an, a.NoNewPrivs, bn, b.NoNewPrivs)
	}
	if !slices.Equal(a.Mounts.Masked, b.Mounts.Masked) || !slices.Equal(a.Mounts.Unmasked, b.Mounts.Unmasked) {
		t.Errorf("masked: %s %v (not %v), %s %v (not %v)", an, a.Mounts.Masked, a.Mounts.Unmasked, bn, b.Mounts.Masked, b.Mounts.Unmasked)
	}
	if !slices.Equal(a.Mounts.ReadOnly, b.Mounts.ReadOnly) || !slices.Equal(a.Mounts.Writable, b.Mounts.Writable) {
		t.Errorf("read-only: %s %v (not %v), %s %v (not %v)", an, a.Mounts.ReadOnly, a.Mounts.Writable, bn, b.Mounts.ReadOnly, b.Mounts.Writable)
	}
	if x, y := a.Rlimits, b.Rlimits; x != y {
		t.Errorf("rlimits: %s %+v, %s %+v", an, x, bn, y)
	}
	if a.Rootless != b.Rootless {
		t.Errorf("rootless: %s %v, %s %v", an, a.Rootless, bn, b.Rootless)
	}
	// From inside, the bounding set can only be compared with every capability of
	// the kernel, so a capability the host itself lacks counts as dropped there and
	// a privileged sandbox may look rootful or rootless. The kinds must agree
	// otherwise.
	explained := a.Kind == inspect.KindPrivileged && len(bc.Dropped) > len(ac.Dropped) && b.Capabilities.Baseline != ac.Baseline
	if a.Kind != b.Kind && !explained {
		t.Errorf("kind: %s %q, %s %q", an, a.Kind, bn, b.Kind)
	}
}

// dryRunInside compares the Plan that `run --dry-run FLAGS` prints with what
// examples/inspect reports from inside a sandbox that `run FLAGS` starts.
func dryRunInside(t *testing.T, bin string, flags ...string) {
	run := filepath.Join(filepath.Dir(bin), "run")
	out, err := exec.Command(run, append([]string{"--dry-run"}, flags...)...).Output()
	if err != nil {
		t.Fatalf("run --dry-run %v: %v", flags, err)
	}
	var dry struct {
		Plan plan.Plan `json:"plan"`
	}
	if err := json.Unmarshal(out, &dry); err != nil {
		t.Fatalf("run --dry-run printed %v:\n%s", err, out)
	}
	const target = "/paddock-inspect"
	args := append(append([]string{"-v", filepath.Dir(bin) + ":" + target + ":ro"}, flags...),
		"--", target+"/"+filepath.Base(bin), "--json")
	out, err = exec.Command(run, args...).Output()
	if err != nil {
		t.Fatalf("run %v: %v\n%s", args, err, out)
	}
	var inside inspect.Report
	if err := json.Unmarshal(out, &inside); err != nil {
		t.Fatalf("inspect printed %v:\n%s", err, out)
	}
	sameMechanisms(t, "run --dry-run", inspect.FromPlan(&dry.Plan), "inside", &inside)
}

// flawcheckLive compares the verdicts of `flawcheck --preset NAME --json`, read
// off the preset's Plan, with those of the same preset's live sandbox, inspected
// from outside (exposure.FromReport).
func flawcheckLive(t *testing.T, bin, preset string) {
	out, err := exec.Command(filepath.Join(filepath.Dir(bin), "flawcheck"), "--preset", preset, "--json").Output()
	if err != nil {
		t.Fatalf("flawcheck --preset %s: %v", preset, err)
	}
	var doc struct {
		Rows []struct {
			ID    string `json:"id"`
			Cells []struct {
				Exposed bool `json:"exposed"`
			} `json:"verdicts"`
		} `json:"verdicts"`
	}
	err = json.Unmarshal(out, &doc)
	rows := doc.Rows
	if err != nil || len(rows) == 0 {
		t.Fatalf("flawcheck printed %v:\n%s", err, out)
	}
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Wait() }()
	r, err := inspect.ProcessAgainst(p.Pid(), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	live, err := exposure.FromReport(r)
	if err != nil {
		t.Fatal(err)
	}
	flaws := map[string]exposure.Flaw{}
	for _, f := range exposure.Catalogue() {
		flaws[f.ID] = f
	}
	for _, row := range rows {
		f, ok := flaws[row.ID]
		if !ok || len(row.Cells) != 1 {
			t.Fatalf("flawcheck row %+v", row)
		}
		if v := exposure.Evaluate(live, f); v.Exposed != row.Cells[0].Exposed {
			t.Errorf("%s: flawcheck says exposed %v, the live sandbox %v: %s", row.ID, row.Cells[0].Exposed, v.Exposed, strings.Join(v.Steps, "; "))
		}
	}
}
