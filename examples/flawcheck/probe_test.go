package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// envFlawcheck passes the flawcheck binary built for uid 65534 to the rootless half.
const envFlawcheck = "PADDOCK_FLAWCHECK"

func buildForNobody(t *testing.T) string {
	return testutil.BuildForNobody(t, "github.com/paddock-sandbox/paddock/examples/flawcheck", "flawcheck")
}

// probeDoc is what flawcheck --probe --json prints.
type probeDoc struct {
	Host    *exposure.HostFacts `json:"host"`
	Results []probeResult       `json:"probes"`
	Notes   []string            `json:"notes"`
}

// runProbe runs flawcheck --probe --json with args and returns its output and
// exit status.
func runProbe(t *testing.T, bin string, args ...string) (probeDoc, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--probe", "--json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("flawcheck --probe %v: %v", args, err)
	}
	var doc probeDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("flawcheck --probe %v: output is not JSON (%v): %s\n%s", args, err, out, stderr.String())
	}
	return doc, code
}

// TestProbeAgrees starts every preset the caller can start (all five as root; the
// rootless kinds as uid 65534 too) and checks from inside each precondition the
// verdicts rest on: on this host, the model and the sandboxes must agree on all.
func TestProbeAgrees(t *testing.T) {
	testutil.ModesWith(t, envFlawcheck, buildForNobody, func(t *testing.T, bin string) {
		doc, code := runProbe(t, bin)
		want := []string{"rootful", "rootless", "privileged", "privileged-rootless", "super-privileged"}
		if testutil.Rootless() {
			want = []string{"rootless", "privileged-rootless"}
		}
		if len(doc.Results) != 2*len(want) {
			t.Fatalf("%d results, want the spec's and the live model of %v: %+v", len(doc.Results), want, doc.Results)
		}
		for i, r := range doc.Results {
			if r.Config != want[i/2] || r.Model != []string{"spec", "live"}[i%2] {
				t.Errorf("result %d is %q's %s model, want %q's", i, r.Config, r.Model, want[i/2])
			}
			if r.Err != "" {
				t.Errorf("%s: %s", r.Config, r.Err)
			}
			if r.Checked < 100 || r.Agree != r.Checked {
				t.Errorf("%s: %d checked, %d agree", r.Config, r.Checked, r.Agree)
			}
			for _, d := range r.Disagreements {
				t.Errorf("%s: %s: %s: the model says %s, the sandbox did %s", r.Config, d.Flaw, d.Precondition, d.Model, d.Sandbox)
			}
		}
		if code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	})
}

// TestProbeFindsMutations starts a sandbox whose Spec differs in one fact from
// the Spec the model is derived from, without telling the model: a filter that
// lets unshare (or fsconfig) through, a capability added. --probe must report each difference,
// so that agreement cannot come from the model copying what the probes see.
func TestProbeFindsMutations(t *testing.T) {
	testutil.ModesWith(t, envFlawcheck, buildForNobody, func(t *testing.T, bin string) {
		allow := func(name string) sandbox.Option {
			p := seccomp.Default(caps.DockerDefault.Names())
			p.Syscalls = append([]seccomp.Rule{{Names: []string{name}, Action: seccomp.ActAllow}}, p.Syscalls...)
			return sandbox.WithSeccompProfile(p)
		}
		for _, c := range []struct {
			name string
			opt  sandbox.Option
			want string // in the precondition of a disagreement
		}{
			{"seccomp allows unshare", allow("unshare"), "create user+"},
			{"seccomp allows fsconfig", allow("fsconfig"), "fsconfig("},
			{"CAP_NET_ADMIN added", sandbox.WithCapAdd("CAP_NET_ADMIN"), "CAP_NET_ADMIN in the sandbox's sets"},
		} {
			t.Run(c.name, func(t *testing.T) {
				data, err := sandbox.NewBuilder(sandbox.Rootless(), c.opt).Spec().JSON()
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(testutil.SharedTempDir(t, "paddock-probe-"), "start.json")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				doc, code := runProbe(t, bin, "--preset", "rootless", "--start-spec", file)
				if len(doc.Results) != 2 || doc.Results[0].Err != "" || doc.Results[0].Model != "spec" {
					t.Fatalf("results %+v", doc.Results)
				}
				found := false
				for _, d := range doc.Results[0].Disagreements {
					t.Logf("%s: %s: the model says %s, the sandbox did %s", d.Flaw, d.Precondition, d.Model, d.Sandbox)
					if strings.Contains(d.Precondition, c.want) {
						found = true
					}
				}
				if !found {
					t.Errorf("no disagreement on %q", c.want)
				}
				if code != 3 {
					t.Errorf("exit status %d, want 3", code)
				}
			})
		}
	})
}

// TestProbeVariants probes sandboxes that differ from the presets in the layers
// the model reads (Podman's ENOSYS profile, an added CAP_SYS_ADMIN, no filter,
// the host's namespaces, unmasked paths, user namespaces given or taken away),
// each described to the model: model and sandbox must still agree.
func TestProbeVariants(t *testing.T) {
	testutil.ModesWith(t, envFlawcheck, buildForNobody, func(t *testing.T, bin string) {
		idMap := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		variants := map[string][]sandbox.Option{
			"rootless, Podman's profile":       {sandbox.Rootless(), sandbox.WithPodmanSeccomp()},
			"rootless, CAP_SYS_ADMIN":          {sandbox.Rootless(), sandbox.WithCapAdd("CAP_SYS_ADMIN")},
			"rootless, no filter":              {sandbox.Rootless(), sandbox.WithoutSeccomp()},
			"rootless, no_new_privs off":       {sandbox.Rootless(), sandbox.WithNoNewPrivileges(false)},
			"rootless, every path unmasked":    {sandbox.Rootless(), sandbox.WithUnmask("ALL")},
			"rootful, host network":            {sandbox.Rootful(), sandbox.WithHostNamespaces("net", "ipc")},
			"rootful, CAP_SYS_ADMIN":           {sandbox.Rootful(), sandbox.WithCapAdd("CAP_SYS_ADMIN")},
			"rootful, own user namespace":      {sandbox.Rootful(), sandbox.WithUserNS(idMap, idMap)},
			"privileged, no user namespace":    {sandbox.Rootful(), sandbox.Privileged(), sandbox.WithoutUserNS()},
			"privileged, Docker's seccomp":     {sandbox.Rootful(), sandbox.Privileged(), sandbox.WithDefaultSeccomp()},
			"super-privileged, read-only root": {sandbox.SuperPrivileged(), sandbox.WithReadonlyRootfs()},
		}
		for name, opts := range variants {
			t.Run(name, func(t *testing.T) {
				if testutil.Rootless() && !strings.HasPrefix(name, "rootless") {
					t.Skipf("started by root; this caller is uid %d", os.Geteuid())
				}
				data, err := sandbox.NewBuilder(opts...).Spec().JSON()
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(testutil.SharedTempDir(t, "paddock-probe-"), "spec.json")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				doc, _ := runProbe(t, bin, "--spec", file)
				if len(doc.Results) != 2 {
					t.Fatalf("results %+v", doc.Results)
				}
				r := doc.Results[0]
				if r.Err != "" || r.Model != "spec" {
					t.Fatalf("%s model: %s", r.Model, r.Err)
				}
				for _, d := range r.Disagreements {
					t.Errorf("%s: %s: the model says %s, the sandbox did %s", d.Flaw, d.Precondition, d.Model, d.Sandbox)
				}
				if r.Checked < 100 {
					t.Errorf("%d checked", r.Checked)
				}
				// The live model reads the rest from the running probe and
				// is told the profile it was started with (Podman's answers
				// ENOSYS where Docker's answers EPERM): it must agree too.
				if r := doc.Results[1]; r.Err != "" {
					t.Errorf("live model: %s", r.Err)
				}
				for _, d := range doc.Results[1].Disagreements {
					t.Errorf("live model: %s: %s: the model says %s, the sandbox did %s", d.Flaw, d.Precondition, d.Model, d.Sandbox)
				}
			})
		}
	})
}
