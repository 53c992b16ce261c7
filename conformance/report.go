package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// The kinds of reason a file fails under Paddock.
var reasonKinds = map[string]string{
	"host":  "host limit",   // the peers fail it the same way on this host
	"suite": "suite defect", // the 2019 suite expects what the spec does not say
	"gap":   "Paddock gap",  // Paddock does not do it yet
	// a behaviour Paddock keeps with the peers, which fail the file the same way
	"shared": "as runc and crun do",
	// what Paddock refuses by design, where a peer may do it
	"design": "Paddock refuses",
	// a file whose checks race with each other, under every runtime: Paddock's
	// failure of it is run again (see retryRaces)
	"race": "the suite's own race",
}

// A reason says why Paddock fails a file.
type reason struct {
	Kind, Text string
}

// open reports whether the reason is one Paddock could act on (a gap, or a
// refusal by design that could be revisited), as opposed to one it shares
// with every runtime on this host.
func (r reason) open() bool { return r.Kind == "gap" || r.Kind == "design" }

// readReasons reads the reasons file: one line per file, "FILE KIND TEXT",
// KIND one of host, suite, gap, shared, design and race; blank lines and lines starting
// with # are skipped.
func readReasons(path string) (map[string]reason, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseReasons(bufio.NewScanner(f), path)
}

// parseReasons parses the lines of a reasons file named name.
func parseReasons(sc *bufio.Scanner, name string) (map[string]reason, error) {
	out := map[string]reason{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) < 3 || reasonKinds[f[1]] == "" {
			return nil, fmt.Errorf("%s:%d: want FILE host|suite|gap|shared|design|race TEXT", name, n)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s given twice", name, n, f[0])
		}
		out[f[0]] = reason{Kind: f[1], Text: strings.TrimSpace(f[2])}
	}
	return out, sc.Err()
}

// table is the results of a run: each file's result under each runtime.
type table struct {
	runtimes []runtime
	files    []string
	results  map[string]map[string]result // file → runtime name → result
	reasons  map[string]reason
	detached []string
	took     time.Duration
}

// paddock is the name of the runtime under test; the others are its peers.
const paddock = "paddock"

// cell renders one result.
func cell(r result) string {
	s := "fail (" + r.Why + ")"
	if r.Pass {
		s = "pass"
	}
	if a := r.Again; a != nil && !a.Pass {
		s += ", then fail (" + a.Why + ") when run again"
	}
	for i, e := range r.Earlier {
		if i == 0 {
			s += fmt.Sprintf(" on run %d, after", len(r.Earlier)+1)
		} else {
			s += ","
		}
		s += " fail (" + e.Why + ")"
	}
	return s
}

// progress is the line printed after a file ran under every runtime.
func (tb *table) progress(file string) string {
	var parts []string
	for _, rt := range tb.runtimes {
		r := tb.results[file][rt.Name]
		parts = append(parts, fmt.Sprintf("%s %s %.1fs", rt.Name, cell(r), r.Took.Seconds()))
	}
	return fmt.Sprintf("%-36s %s", file, strings.Join(parts, ", "))
}

// passes counts the files the runtime name passes.
func (tb *table) passes(name string) int {
	n := 0
	for _, f := range tb.files {
		if tb.results[f][name].Pass {
			n++
		}
	}
	return n
}

// peerPasses reports whether a peer of Paddock passes file, and which: a
// peer passes a file when it passed it in this run and, where the file was run
// again for it (confirmPeers), passed it again.
func (tb *table) peerPasses(file string) []string {
	var out []string
	for _, rt := range tb.runtimes {
		if rt.Name != paddock && tb.results[file][rt.Name].steady() {
			out = append(out, rt.Name)
		}
	}
	return out
}

// cause is the reason column for a file Paddock fails.
func (tb *table) cause(file string) string {
	r, ok := tb.reasons[file]
	if !ok {
		return "**no reason recorded**"
	}
	s := reasonKinds[r.Kind] + ": " + r.Text
	if peers := tb.peerPasses(file); len(peers) > 0 && r.Kind != "gap" && r.Kind != "race" {
		s += " (**but " + strings.Join(peers, " and ") + " passed in this run**)"
	}
	return s
}

// check returns what is wrong with Paddock's results: fewer passes than min
// (only for a run of every file), a file Paddock fails with no reason recorded
// (a new failure), and a file a peer passes that Paddock fails for a reason
// the peer's pass contradicts (a host limit, a suite defect, a behaviour kept
// with the peers). A failure recorded as a gap or a refusal by design is not a
// problem of the run: it is an open item, which open lists.
func (tb *table) check(min int, complete bool) []string {
	var out []string
	if n := tb.passes(paddock); complete && n < min {
		out = append(out, fmt.Sprintf("paddock passes %d files, fewer than %d", n, min))
	}
	for _, f := range tb.files {
		res := tb.results[f][paddock]
		if res.Pass {
			continue
		}
		r, ok := tb.reasons[f]
		peers := tb.peerPasses(f)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: paddock failed (%s) with no reason recorded in conformance/reasons.txt", f, res.Output))
		case len(peers) > 0 && !r.open() && r.Kind != "race":
			out = append(out, fmt.Sprintf("%s: %s passed, paddock failed (%s), and its recorded reason is a %s", f, strings.Join(peers, " and "), res.Output, reasonKinds[r.Kind]))
		}
	}
	return out
}

// open lists the files a peer passes and Paddock fails for a recorded gap or
// refusal: what is left to do, or to decide, to pass every file a peer passes.
func (tb *table) open() []string {
	var out []string
	for _, f := range tb.files {
		if peers := tb.peerPasses(f); len(peers) > 0 && !tb.results[f][paddock].Pass && tb.reasons[f].open() {
			out = append(out, fmt.Sprintf("%s: %s passed, paddock failed (%s)", f, strings.Join(peers, " and "), reasonKinds[tb.reasons[f].Kind]))
		}
	}
	return out
}

// summary is the totals, for the terminal.
func (tb *table) summary() string {
	var b strings.Builder
	for _, rt := range tb.runtimes {
		fmt.Fprintf(&b, "%s: %d of %d\n", rt.Name, tb.passes(rt.Name), len(tb.files))
	}
	fmt.Fprintf(&b, "took %s\n", tb.took.Round(time.Second))
	return b.String()
}

// markdown renders CONFORMANCE.md.
func (tb *table) markdown(c config) string {
	var b strings.Builder
	b.WriteString("<!-- Generated by conformance/run.sh from conformance/intro.md and conformance/reasons.txt: edit those, not this file. -->\n")
	if intro, err := os.ReadFile(c.intro); err == nil {
		b.Write(intro)
		b.WriteString("\n")
	}
	b.WriteString("## Results\n\n| file | runc | crun | paddock | why Paddock fails |\n|---|---|---|---|---|\n")
	for _, f := range tb.files {
		row := []string{"`" + f + "`"}
		for _, rt := range tb.runtimes {
			row = append(row, cell(tb.results[f][rt.Name]))
		}
		why := ""
		if !tb.results[f][paddock].Pass {
			why = tb.cause(f)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", strings.Join(row, " | "), why)
	}
	row := []string{"**total**"}
	for _, rt := range tb.runtimes {
		row = append(row, fmt.Sprintf("**%d / %d**", tb.passes(rt.Name), len(tb.files)))
	}
	fmt.Fprintf(&b, "| %s | |\n\n", strings.Join(row, " | "))
	b.WriteString(tb.causeCounts())
	b.WriteString(tb.host())
	b.WriteString(rerun)
	return b.String()
}

// causeCounts counts Paddock's failures by kind of reason.
func (tb *table) causeCounts() string {
	n := map[string]int{}
	for _, f := range tb.files {
		if !tb.results[f][paddock].Pass {
			n[tb.reasons[f].Kind]++
		}
	}
	var kinds []string
	for k := range n {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		name := reasonKinds[k]
		if name == "" {
			name = "no reason recorded"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, n[k]))
	}
	return "Paddock's failures by cause: " + strings.Join(parts, ", ") + ".\n\n"
}

// host describes the machine of the run.
func (tb *table) host() string {
	var b strings.Builder
	b.WriteString("## The host of this run\n\n")
	fmt.Fprintf(&b, "- kernel: %s\n", firstLine("uname", "-r"))
	fmt.Fprintf(&b, "- cgroups: %s\n", cgroupLayout(tb.detached))
	for _, rt := range tb.runtimes {
		if rt.Name == paddock {
			fmt.Fprintf(&b, "- paddock-runtime: %s, at commit %s\n", firstLine(rt.Binary, "--version"), firstLine("git", "describe", "--always", "--dirty"))
			continue
		}
		fmt.Fprintf(&b, "- %s: %s\n", rt.Name, firstLine(rt.Binary, "--version"))
	}
	fmt.Fprintf(&b, "- %s; the whole run took %s\n\n", firstLine("go", "version"), tb.took.Round(time.Second))
	return b.String()
}

// cgroupLayout names the host's cgroup layout.
func cgroupLayout(detached []string) string {
	if len(detached) > 0 {
		return fmt.Sprintf("hybrid: v1 hierarchies, with cgroup2 at %s (detached in each file's mount namespace)", strings.Join(detached, ", "))
	}
	if _, err := os.Stat(cgroupRoot + "/cgroup.controllers"); err == nil {
		return "unified (v2 only)"
	}
	return "v1 only"
}

// firstLine runs a command and returns the first line of its output.
func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// rerun is how to run the table again.
const rerun = "## Running it again\n\n" +
	"As root, from the repository's root: `conformance/run.sh`. It needs runc, crun, `unshare` and Go with\n" +
	"access to the module proxy; it takes a few minutes. `conformance/run.sh -files 'REGEXP'` runs some files\n" +
	"only, and then prints the results without writing this file; `-tap DIR` keeps each file's TAP output\n" +
	"below DIR. `.ci/run` runs it (keeping the TAP output in the clone's `conformance/tap`) after the Go tests; it fails when Paddock passes fewer\n" +
	"files than `-min` says (the count this table last reached, so that no file is lost), fails a file with no\n" +
	"reason recorded, or fails a file a peer passes for a reason other than a recorded gap or refusal (those\n" +
	"are listed as open). A file a peer passes and Paddock\n" +
	"fails is run a second time under that peer, and counts as the peer's pass only when it passes again: some\n" +
	"files pass or fail by timing. A file whose own checks race (its reason's kind is `race`) and that Paddock\n" +
	"fails is run again under Paddock, up to twice, and the table shows every run. The totals count each\n" +
	"runtime's first run, and Paddock's last.\n"
