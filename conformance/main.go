// Command conformance runs the OCI runtime-tools validation suite against
// runc, crun and paddock-runtime, one file at a time, and writes
// CONFORMANCE.md: a table of which files each runtime passes, the reason of
// each file Paddock fails (from reasons.txt, keyed by file), the totals, the
// host, and how to run it again.
//
// It runs as root (the suite creates containers as root), from the
// repository's root, through conformance/run.sh:
//
//	conformance/run.sh [-files REGEXP] [-timeout 2m] [-min N] [-out CONFORMANCE.md] [-tap DIR]
//
// It builds the suite in a throwaway module in a temporary directory (the
// suite's module and pinned dependencies come from the Go module proxy),
// builds paddock-runtime, then runs every file under each runtime with a
// state directory of its own, in a private mount namespace, under a timeout,
// and removes what the file left (containers, the suite's cgroups). With -tap,
// each file's TAP output is kept below that directory; without, it goes with
// the temporary directory, which the run removes.
//
// It exits 1 when Paddock passes fewer than -min files, fails a file that
// reasons.txt gives no reason for, or fails a file that runc or crun passes in
// the same run (and again, when run a second time for the check: see
// confirmPeers) for a reason other than a recorded gap or refusal by design;
// those it lists as open. It exits 2 when the run itself could not be made or
// left something behind on the host.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// config is the command line.
type config struct {
	out, reasons, intro, only string
	tap                       string // where each file's TAP output is kept, or ""
	runc, crun                string
	timeout                   time.Duration
	min                       int
	peers                     bool
}

func main() {
	c := config{}
	flag.StringVar(&c.out, "out", "CONFORMANCE.md", "the table to write (only after a run of every file)")
	flag.StringVar(&c.reasons, "reasons", "conformance/reasons.txt", "why Paddock fails the files it fails")
	flag.StringVar(&c.intro, "intro", "conformance/intro.md", "the table's introduction")
	flag.StringVar(&c.tap, "tap", "", "keep each file's TAP output below this directory (by default it goes with the run's temporary directory)")
	flag.StringVar(&c.only, "files", "", "run only the files whose name matches this regular expression")
	flag.StringVar(&c.runc, "runc", "runc", "the runc binary")
	flag.StringVar(&c.crun, "crun", "crun", "the crun binary")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Minute, "the limit on each file's run")
	flag.IntVar(&c.min, "min", 40, "the fewest files Paddock must pass")
	flag.BoolVar(&c.peers, "peers", true, "run runc and crun too (without them, nothing is written or compared)")
	flag.Parse()
	code, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
	}
	os.Exit(code)
}

// run builds and runs everything and returns the exit status.
func run(c config) (int, error) {
	if os.Geteuid() != 0 {
		return 2, fmt.Errorf("run as root: the suite creates containers as root")
	}
	reasons, err := readReasons(c.reasons)
	if err != nil {
		return 2, err
	}
	tmp, err := os.MkdirTemp("", "paddock-conformance-")
	if err != nil {
		return 2, err
	}
	// Bundles lie below it: a container whose root is another user outside
	// (linux.uidMappings) must be able to reach its root filesystem.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 2, err
	}
	if c.tap == "" {
		c.tap = filepath.Join(tmp, "tap")
	}
	fmt.Fprintf(os.Stderr, "conformance: working in %s (each file's TAP output in %s)\n", tmp, c.tap)
	defer os.RemoveAll(tmp)
	rts, err := runtimes(c, tmp)
	if err != nil {
		return 2, err
	}
	s, err := buildSuite(tmp)
	if err != nil {
		return 2, err
	}
	files, err := selectFiles(s.files, c.only)
	if err != nil {
		return 2, err
	}
	tb, err := runAll(c, s, tmp, rts, files, reasons)
	if err != nil {
		return 2, err
	}
	return finish(c, tb, c.peers && len(files) == len(s.files))
}

// runtimes finds runc and crun and builds paddock-runtime into dir.
func runtimes(c config, dir string) ([]runtime, error) {
	var rts []runtime
	for _, name := range []string{c.runc, c.crun} {
		if !c.peers {
			break
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return nil, err
		}
		rts = append(rts, runtime{Name: filepath.Base(name), Binary: p})
	}
	bin := filepath.Join(dir, "paddock-runtime")
	if out, err := exec.Command("go", "build", "-o", bin, "./examples/paddock-runtime").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build paddock-runtime: %v\n%s", err, out)
	}
	return append(rts, runtime{Name: "paddock", Binary: bin}), nil
}

// selectFiles returns the files that match the expression only (all if empty).
func selectFiles(files []string, only string) ([]string, error) {
	if only == "" {
		return files, nil
	}
	re, err := regexp.Compile(only)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if re.MatchString(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// runAll runs each file under each runtime in turn, one at a time, and checks
// at the end that the suite's cgroups are as they were.
func runAll(c config, s *suite, tmp string, rts []runtime, files []string, reasons map[string]reason) (*table, error) {
	detach, err := hybridV2Mounts()
	if err != nil {
		return nil, err
	}
	before, err := cgroupDirs()
	if err != nil {
		return nil, err
	}
	r := &runner{s: s, tmp: tmp, tap: c.tap, detach: detach, timeout: c.timeout}
	tb := &table{runtimes: rts, files: files, results: map[string]map[string]result{}, reasons: reasons, detached: detach}
	start := time.Now()
	for _, f := range files {
		tb.results[f] = map[string]result{}
		for _, rt := range rts {
			res, err := r.runFile(context.Background(), rt, f)
			if err != nil {
				return nil, fmt.Errorf("%s under %s: %w", f, rt.Name, err)
			}
			tb.results[f][rt.Name] = res
			if len(res.Swept) > 0 {
				fmt.Fprintf(os.Stderr, "conformance: %s under %s left or changed %d things, now put back: %s\n", f, rt.Name, len(res.Swept), strings.Join(res.Swept, ", "))
			}
		}
		fmt.Fprintln(os.Stderr, tb.progress(f))
	}
	if err := confirmPeers(r, tb); err != nil {
		return nil, err
	}
	if err := retryRaces(r, tb, rts); err != nil {
		return nil, err
	}
	tb.took = time.Since(start)
	ids := map[string]bool{}
	for _, id := range r.ids {
		ids[id] = true
	}
	if left := leftCgroups(before, ids); len(left) > 0 {
		return nil, fmt.Errorf("the host is not as found: cgroups left %q", left)
	}
	return tb, nil
}

// confirmPeers runs a second time each file that a peer passed and Paddock
// failed, under that peer: some files pass or fail by timing (crun passes
// pidfile in some runs only), and the check counts a peer's pass only where it
// holds in both runs. Paddock's own failures are not run again.
func confirmPeers(r *runner, tb *table) error {
	for _, f := range tb.files {
		if tb.results[f][paddock].Pass {
			continue
		}
		for _, rt := range tb.runtimes {
			res := tb.results[f][rt.Name]
			if rt.Name == paddock || !res.Pass {
				continue
			}
			again, err := r.runFile(context.Background(), rt, f)
			if err != nil {
				return fmt.Errorf("%s under %s, again: %w", f, rt.Name, err)
			}
			res.Again = &again.verdict
			tb.results[f][rt.Name] = res
			fmt.Fprintf(os.Stderr, "conformance: %s under %s again: %s\n", f, rt.Name, cell(again))
		}
	}
	return nil
}

// raceTries is how many times in all a racing file that Paddock fails is run.
const raceTries = 3

// retryRaces runs again, under Paddock, each file it failed whose recorded
// reason is the suite's own race (the hook of poststart and the container's
// process write to one file, and the file checks their order): runc, crun and
// Paddock each fail such a file in some runs, and one lost race says nothing
// of the runtime. The file is run up to raceTries times in all; the result
// kept is the last, with the failed runs before it.
func retryRaces(r *runner, tb *table, rts []runtime) error {
	var rt runtime
	for _, x := range rts {
		if x.Name == paddock {
			rt = x
		}
	}
	for _, f := range tb.files {
		res := tb.results[f][paddock]
		for try := 1; try < raceTries && !res.Pass && tb.reasons[f].Kind == "race"; try++ {
			earlier := append(res.Earlier, res.verdict)
			again, err := r.runFile(context.Background(), rt, f)
			if err != nil {
				return fmt.Errorf("%s under %s, run %d: %w", f, paddock, try+1, err)
			}
			again.Earlier = earlier
			res = again
			fmt.Fprintf(os.Stderr, "conformance: %s under %s, run %d: %s\n", f, paddock, try+1, cell(res))
		}
		tb.results[f][paddock] = res
	}
	return nil
}

// finish writes the table (after a run of every file) and checks Paddock's
// results against the minimum and the peers.
func finish(c config, tb *table, complete bool) (int, error) {
	if complete {
		if err := os.WriteFile(c.out, []byte(tb.markdown(c)), 0o644); err != nil {
			return 2, err
		}
		fmt.Fprintf(os.Stderr, "conformance: wrote %s\n", c.out)
	}
	fmt.Fprint(os.Stderr, tb.summary())
	problems := tb.check(c.min, complete)
	for _, o := range tb.open() {
		fmt.Fprintln(os.Stderr, "conformance: open:", o)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "conformance: FAIL:", p)
	}
	if len(problems) > 0 {
		return 1, nil
	}
	return 0, nil
}
