package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJudge: a file passes with exit 0, no "not ok" and an ok that is not a
// skip; an empty plan passes without a diagnostic block.
func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name, tap string
		exit      int
		timedOut  bool
		pass      bool
	}{
		{"ok", "TAP version 13\nok 1 - a\nok 2 # SKIP b\n1..2\n", 0, false, true},
		{"not ok", "TAP version 13\nok 1 - a\nnot ok 2 - b\n1..2\n", 0, false, false},
		{"only skips", "TAP version 13\nok 1 # SKIP a\n1..1\n", 0, false, false},
		{"lower-case skip", "ok 1 # skip a\n1..1\n", 0, false, false},
		{"exit status", "ok 1 - a\n1..1\n", 1, false, false},
		{"timed out", "ok 1 - a\n", -1, true, false},
		{"empty plan", "TAP version 13\n1..0\n", 0, false, true},
		{"empty plan, error block", "TAP version 13\n1..0\n  ---\n  {\"error\": \"x\"}\n  ...\n", 0, false, false},
		{"not ok inside a block is not counted", "ok 1 - a\n  ---\n  {\"stdout\": \"x\\nnot ok 3\"}\n  ...\n1..1\n", 0, false, true},
		{"nothing", "", 0, false, false},
	} {
		v := judge(c.tap, c.exit, c.timedOut)
		if v.Pass != c.pass {
			t.Errorf("%s: judge = %+v, want pass %v", c.name, v, c.pass)
		}
		if !v.Pass && v.Why == "" {
			t.Errorf("%s: a failure without its reason", c.name)
		}
	}
}

// TestParseReasons: the reasons file's lines, comments, and its errors.
func TestParseReasons(t *testing.T) {
	in := "# comment\n\nlinux_sysctl gap sysctl, being built\nkill suite the 2019 suite expects X\nlinux_ns_itype design no mount namespace\n"
	r, err := parseReasons(bufio.NewScanner(strings.NewReader(in)), "r")
	if err != nil || len(r) != 3 || r["linux_ns_itype"].Kind != "design" || r["linux_sysctl"] != (reason{"gap", "sysctl, being built"}) || r["kill"].Kind != "suite" {
		t.Errorf("parseReasons = %v, %v", r, err)
	}
	for _, bad := range []string{"kill\n", "kill why\n", "kill odd text\n", "kill host a\nkill host b\n"} {
		if _, err := parseReasons(bufio.NewScanner(strings.NewReader(bad)), "r"); err == nil {
			t.Errorf("parseReasons(%q) took it", bad)
		}
	}
}

// TestCheck: Paddock fails the check below the minimum, on a file with no
// reason, and on a file a peer passes for a reason the peer contradicts; a
// recorded gap a peer passes is listed as open.
func TestCheck(t *testing.T) {
	tb := &table{
		runtimes: []runtime{{Name: "runc"}, {Name: "crun"}, {Name: paddock}},
		files:    []string{"a", "b"},
		results: map[string]map[string]result{
			"a": {"runc": pass(), "crun": pass(), paddock: pass()},
			"b": {"runc": fail(), "crun": pass(), paddock: fail()},
		},
		reasons: map[string]reason{"b": {"host", "no such controller"}},
	}
	if p := tb.check(1, true); len(p) != 1 || !strings.Contains(p[0], "b: crun passed") {
		t.Errorf("check = %q", p)
	}
	if p := tb.check(2, true); len(p) != 2 {
		t.Errorf("check below the minimum = %q", p)
	}
	if c := tb.cause("b"); !strings.Contains(c, "but crun passed") {
		t.Errorf("cause = %q", c)
	}
	// A peer that passes once and fails when run again does not count.
	flaky := pass()
	flaky.Again = &verdict{Why: "1 not ok"}
	tb.results["b"]["crun"] = flaky
	if p := tb.check(1, true); len(p) != 0 {
		t.Errorf("check with a pass that did not hold = %q", p)
	}
	if c := cell(flaky); !strings.Contains(c, "then fail (1 not ok) when run again") {
		t.Errorf("cell = %q", c)
	}
	flaky.Again = &verdict{Pass: true}
	tb.results["b"]["crun"] = flaky
	if p := tb.check(1, true); len(p) != 1 {
		t.Errorf("check with a pass that held = %q", p)
	}
	tb.results["b"]["crun"] = fail()
	if p := tb.check(1, true); len(p) != 0 {
		t.Errorf("check = %q", p)
	}
	// A gap a peer passes is open, not a failure of the run; a failure with
	// no reason recorded is one.
	tb.results["b"]["crun"] = pass()
	tb.reasons["b"] = reason{"gap", "not built"}
	if p := tb.check(1, true); len(p) != 0 {
		t.Errorf("check with a recorded gap = %q", p)
	}
	if o := tb.open(); len(o) != 1 || !strings.Contains(o[0], "b: crun passed") {
		t.Errorf("open = %q", o)
	}
	// A race of the suite's own is neither open nor contradicted by a peer's
	// pass; the runs that lost it are shown.
	tb.reasons["b"] = reason{"race", "the hook and the process race"}
	if p := tb.check(1, true); len(p) != 0 {
		t.Errorf("check with a recorded race = %q", p)
	}
	retried := pass()
	retried.Earlier = []verdict{{Why: "1 not ok"}, {Why: "exit status 1"}}
	if c := cell(retried); c != "pass on run 3, after fail (1 not ok), fail (exit status 1)" {
		t.Errorf("cell of a retried race = %q", c)
	}
	delete(tb.reasons, "b")
	if p := tb.check(1, true); len(p) != 1 || !strings.Contains(p[0], "no reason recorded") {
		t.Errorf("check without a reason = %q", p)
	}
}

func pass() result { return result{verdict: verdict{Pass: true}} }
func fail() result { return result{verdict: verdict{Why: "1 not ok"}} }

// TestCreatedIDs: the IDs of the containers a file created are read from its
// calls log, and only cgroups named after them or the suite's fixed names are
// the file's.
func TestCreatedIDs(t *testing.T) {
	calls := filepath.Join(t.TempDir(), "calls")
	log := "time=x level=error msg=\"create: refused\"\nexit 1: create --bundle /b a-1\nexit 0: state a-1\nexit 0: create --pid-file /p --bundle /b b-2\nexit 0: run --bundle /b c-3\n"
	if err := os.WriteFile(calls, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := createdIDs(calls)
	if len(ids) != 3 || !ids["a-1"] || !ids["b-2"] || !ids["c-3"] {
		t.Errorf("createdIDs = %v", ids)
	}
	for dir, want := range map[string]bool{
		"/sys/fs/cgroup/pids/a-1":                    true,
		"/sys/fs/cgroup/memory/x/testdir/cgrouptest": true,
		"/sys/fs/cgroup/pids/cgrouptest":             true,
		"/sys/fs/cgroup/pids/d-4":                    false,
		"/sys/fs/cgroup/pids/paddock/e":              false,
	} {
		if got := madeBy(dir, ids); got != want {
			t.Errorf("madeBy(%s) = %v, want %v", dir, got, want)
		}
	}
}

// TestRestoreDevices: an owner or mode a file changed is put back and said.
func TestRestoreDevices(t *testing.T) {
	p := filepath.Join(t.TempDir(), "null")
	if err := os.WriteFile(p, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	before := devOwners([]string{p})
	if got := restoreDevices(before); len(got) != 0 {
		t.Errorf("nothing changed, restoreDevices = %q", got)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := restoreDevices(before); len(got) != 1 || !strings.Contains(got[0], "600, put back to") {
		t.Errorf("restoreDevices = %q", got)
	}
	if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o666 {
		t.Errorf("mode after restore: %v, %v", st.Mode(), err)
	}
}
