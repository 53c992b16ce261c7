package exposure

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/seccomp"
)

// preconditions returns what the evaluator checks of f, in a comparable form:
// everything but its names, words, sources and affected range. A version range
// is not a precondition: two bugs of one subsystem that an attacker reaches the
// same way differ in it, and an older kernel simply has both. What counts is
// what the attack needs: capabilities, calls and their arguments, namespaces,
// files, devices, host sharing, the kernel code it is in and, for a runtime
// flaw, what must happen outside the sandbox.
func preconditions(t *testing.T, f Flaw) string {
	t.Helper()
	plain := func(c Call) Call {
		out := Call{Name: c.Name, ABI: c.ABI}
		for _, a := range c.Args {
			out.Args = append(out.Args, ArgValue{Index: a.Index, Value: Value{N: a.Value.N}})
		}
		return out
	}
	k := Flaw{Kind: f.Kind, Namespaces: f.Namespaces, Devices: f.Devices, Host: f.Host, GainOnExec: f.GainOnExec,
		Triggers: f.Triggers}
	for _, n := range f.KernelConfig {
		k.KernelConfig = append(k.KernelConfig, KernelNeed{Config: n.Config, Module: n.Module})
	}
	k.SELinux.Blocks = f.SELinux.Blocks
	for _, c := range f.Capabilities {
		k.Capabilities = append(k.Capabilities, CapNeed{Cap: c.Cap, Scope: c.Scope, Over: c.Over})
	}
	for _, s := range f.Syscalls {
		n := SyscallNeed{Call: plain(s.Call)}
		for _, c := range s.AnyOf {
			n.AnyOf = append(n.AnyOf, plain(c))
		}
		k.Syscalls = append(k.Syscalls, n)
	}
	for _, p := range f.Paths {
		k.Paths = append(k.Paths, PathNeed{Path: p.Path, Access: p.Access, HostOwned: p.HostOwned})
	}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCatalogueDistinct holds the catalogue to a matrix of flaws and layers
// rather than a list of near-duplicates: no two entries may need exactly the
// same things, and each names at least one public source.
func TestCatalogueDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, f := range Catalogue() {
		if len(f.Sources) == 0 {
			t.Errorf("%s: no source", f.ID)
		}
		k := preconditions(t, f)
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s have the same preconditions: %s", other, f.ID, k)
			continue
		}
		seen[k] = f.ID
	}
	// The check itself: a copy that differs only in words and sources is caught.
	f := flawByID(t, "CVE-2022-0847")
	g := f
	g.ID, g.Summary, g.Notes, g.Sources = "X", "other words", "", []string{"https://example.org"}
	g.Syscalls = append([]SyscallNeed(nil), f.Syscalls...)
	g.Syscalls[1].Why = "said differently"
	if preconditions(t, f) != preconditions(t, g) {
		t.Error("entries that differ only in words compare as different")
	}
	g.Versions = VersionRange{Introduced: "2.6", Fixed: []string{"5.17"}}
	g.Affects = "another release"
	if preconditions(t, f) != preconditions(t, g) {
		t.Error("entries that differ only in their affected range compare as different")
	}
	g.KernelConfig = []KernelNeed{{Config: "CONFIG_X"}}
	if preconditions(t, f) == preconditions(t, g) {
		t.Error("entries that need different kernel code compare as equal")
	}
	r := flawByID(t, "CVE-2022-29162")
	q := r
	q.Triggers = []Trigger{TriggerStart}
	if preconditions(t, r) == preconditions(t, q) {
		t.Error("runtime entries with different triggers compare as equal")
	}
}

// TestVerdictsNameBlockers checks, for every flaw of the catalogue in the five
// presets and in variants of them (a fixed kernel, an old one, no i386 gate, a
// kernel without any optional code), that a verdict either says the flaw is
// reachable, or names each layer that stops it on its own, or the pairs that
// do, or says that no single layer or pair does.
func TestVerdictsNameBlockers(t *testing.T) {
	var configs []Mechanisms
	for _, m := range Presets() {
		configs = append(configs, m)
		for _, k := range []string{"6.18.0", "4.4.0"} {
			v := m
			v.Name, v.Kernel = m.Name+" on "+k, k
			configs = append(configs, v)
		}
		v := m
		v.Name, v.I386 = m.Name+" without IA32", seccomp.I386NoEmulation
		configs = append(configs, v)
		v = m
		v.Name, v.KernelCode = m.Name+" on a kernel built with nothing optional", &KernelCode{Config: map[string]string{}}
		configs = append(configs, v)
	}
	for _, m := range configs {
		for _, f := range Catalogue() {
			v := Evaluate(m, f)
			if err := namesBlockers(v); err != nil {
				t.Errorf("%s on %s (%s): %v\n%s", f.ID, m.Name, v, err, strings.Join(v.Steps, "\n"))
			}
		}
	}
}

// namesBlockers checks the summary of one verdict: its last step and its String.
func namesBlockers(v Verdict) error {
	if len(v.Steps) == 0 {
		return fmt.Errorf("no steps")
	}
	last := v.Steps[len(v.Steps)-1]
	switch {
	case v.Exposed:
		if len(v.Blockers) > 0 || len(v.Combinations) > 0 || !strings.Contains(last, "reachable") {
			return fmt.Errorf("exposed, but blockers %v, pairs %v, last step %q", v.Blockers, v.Combinations, last)
		}
	case len(v.Blockers) > 0:
		for _, b := range v.Blockers {
			if !strings.Contains(last, string(b)) || !strings.Contains(v.String(), string(b)) {
				return fmt.Errorf("blocker %s not named in %q or %q", b, last, v)
			}
		}
	case len(v.Combinations) > 0:
		for _, p := range v.Combinations {
			if !strings.Contains(last, string(p[0])+" with "+string(p[1])) || !strings.Contains(v.String(), string(p[0])+"+"+string(p[1])) {
				return fmt.Errorf("pair %v not named in %q or %q", p, last, v)
			}
		}
	default:
		if !strings.Contains(last, "No single layer or pair") || v.String() != "mitigated (combined)" {
			return fmt.Errorf("mitigated without blockers, but last step %q", last)
		}
	}
	return nil
}

// TestDocumentedCount keeps the size of the catalogue that README.md and
// SECURITY.md state in step with the catalogue.
func TestDocumentedCount(t *testing.T) {
	want := fmt.Sprintf("%d", len(Catalogue()))
	for _, c := range []struct{ file, pattern string }{
		{"../README.md", `catalogue\s+describes\s+(\d+)\s+flaws`},
		{"../SECURITY.md", `catalogue\s+of\s+(\d+)\s+kernel\s+and\s+runtime\s+flaws`},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(c.pattern).FindSubmatch(b)
		if m == nil {
			t.Errorf("%s does not say how many flaws the catalogue holds (%s)", c.file, c.pattern)
		} else if string(m[1]) != want {
			t.Errorf("%s says %s flaws, the catalogue holds %s", c.file, m[1], want)
		}
	}
}
