package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-sandbox/paddock/bench/internal/mdsection"
	"github.com/paddock-sandbox/paddock/bench/internal/privatens"
)

// heading starts the section this command writes.
const heading = "## The library beside exec'd peers (Go benchmarks)"

// order is the sub-benchmarks of BenchmarkPeers, as the tables list them.
var order = []string{"exec-true", "paddock", "paddock-pooled", "bwrap", "crun", "runc"}

// targets are the speed-ups that a pooled start is to reach over each peer.
var targets = []struct {
	peer string
	x    float64
}{{"bwrap", 3}, {"crun", 5}, {"runc", 10}}

// result is what one run's output says of one sub-benchmark.
type result struct {
	nsOp   []float64 // one per round
	failed int       // runs that failed, over all rounds (left out of ns/op)
	probe  string
	skip   string
	allocs string
}

// median is the median of r's ns/op figures, 0 where there are none.
func (r *result) median() float64 {
	if r == nil || len(r.nsOp) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(r.nsOp))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var (
	benchLine = regexp.MustCompile(`^BenchmarkPeers/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s(\d+) allocs/op)?`)
	nameLine  = regexp.MustCompile(`^(?:--- (?:BENCH|SKIP|FAIL): )?BenchmarkPeers/(\S+?)(?:-\d+)?$`)
	logLine   = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)
	failLine  = regexp.MustCompile(`\s([\d.]+) failed\s`)
)

// readRun reads one run's `go test -v -bench` output.
func readRun(path string) (map[string]*result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]*result{}
	get := func(name string) *result {
		if out[name] == nil {
			out[name] = &result{}
		}
		return out[name]
	}
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := benchLine.FindStringSubmatch(line); m != nil {
			ns, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", path, line, err)
			}
			r := get(m[1])
			r.nsOp, r.allocs, cur = append(r.nsOp, ns), m[3], m[1]
			if f := failLine.FindStringSubmatch(line); f != nil {
				n, _ := strconv.ParseFloat(f[1], 64)
				r.failed += int(n)
			}
		} else if m := nameLine.FindStringSubmatch(line); m != nil {
			cur = m[1]
		} else if m := logLine.FindStringSubmatch(line); m != nil && cur != "" {
			r := get(cur)
			if text, ok := strings.CutPrefix(m[1], "probe: "); ok && r.probe == "" {
				r.probe = text
			} else if r.skip == "" { // go test prints a skip's reason before its "--- SKIP" line
				r.skip = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if out["exec-true"].median() == 0 || out["paddock"].median() == 0 {
		return nil, fmt.Errorf("%s: no BenchmarkPeers/exec-true or BenchmarkPeers/paddock figures", path)
	}
	return out, nil
}

func main() {
	md := flag.String("md", "BENCHMARKS.md", "the Markdown file whose section is replaced or appended")
	root := flag.String("root", "", "BenchmarkPeers output, run as root")
	rootless := flag.String("rootless", "", "BenchmarkPeers output, run as uid 65534 (optional)")
	runs := flag.Int("runs", 0, "the -test.benchtime count given to each sub-benchmark, to restate it")
	rounds := flag.Int("rounds", 0, "how many times the test binary ran, to restate it")
	flag.Parse()
	if *root == "" {
		fail(errors.New("-root is required"))
	}
	var b strings.Builder
	b.WriteString(heading + "\n\n" + intro)
	fmt.Fprintf(&b, "\n%s, %d CPUs, %s, %s (load average %s); %d rounds of %d runs per sub-benchmark; mount namespace: private, %s detached.\n",
		privatens.Uname(), runtime.NumCPU(), runtime.Version(), time.Now().UTC().Format(time.RFC3339), loadAverage(), *rounds, *runs, privatens.UnifiedMount)
	done, err := readRuns(*root, *rootless)
	if err != nil {
		fail(err)
	}
	b.WriteString("\n| target | where | measured | met |\n|---|---|---:|---|\n")
	for _, r := range done {
		target(&b, r)
	}
	for _, r := range done {
		table(&b, r)
	}
	b.WriteString(notes)
	if err := mdsection.Replace(*md, heading, b.String()); err != nil {
		fail(err)
	}
}

// A run is one run's results, by sub-benchmark, and where it ran.
type run struct {
	title string
	res   map[string]*result
}

// readRuns reads the run as root and, where given, the run as uid 65534.
func readRuns(root, rootless string) ([]run, error) {
	var done []run
	for _, m := range []struct{ path, title string }{{root, "as root"}, {rootless, "as uid 65534"}} {
		if m.path == "" {
			continue
		}
		res, err := readRun(m.path)
		if err != nil {
			return nil, err
		}
		done = append(done, run{m.title, res})
	}
	return done, nil
}

// target writes the rows of the targets table of one run: the pooled start
// against each peer.
func target(b *strings.Builder, r run) {
	pd := r.res["paddock-pooled"]
	for _, t := range targets {
		what := fmt.Sprintf("Template.Start+Wait, pooled, ≥ %g× faster than os/exec of %s with the same isolation (`BenchmarkPeers/paddock-pooled` against `/%s`)", t.x, t.peer, t.peer)
		peer := r.res[t.peer]
		if peer.median() == 0 || pd.median() == 0 {
			fmt.Fprintf(b, "| %s | %s | not run | **no** |\n", what, r.title)
			continue
		}
		x := peer.median() / pd.median()
		fmt.Fprintf(b, "| %s | %s | %.2f× (rounds: %s) | %s |\n", what, r.title, x, roundRatios(peer, pd), yes(x >= t.x))
	}
}

// roundRatios is the least and the greatest of num's ns/op over den's, round
// by round: the spread of a ratio whose two figures ran close together in time.
func roundRatios(num, den *result) string {
	var rs []float64
	for i := range min(len(num.nsOp), len(den.nsOp)) {
		rs = append(rs, num.nsOp[i]/den.nsOp[i])
	}
	if len(rs) == 0 {
		return "none"
	}
	return fmt.Sprintf("%.2f–%.2f×", slices.Min(rs), slices.Max(rs))
}

// table writes the table of one run, with what each sandbox reported of itself.
func table(b *strings.Builder, r run) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	res, title := r.res, r.title
	floor, pd := res["exec-true"].median(), res["paddock"].median()
	p("\n### %s\n\n", strings.ToUpper(title[:1])+title[1:])
	pooled := res["paddock-pooled"].median()
	p("| sub-benchmark | ns/op | ratio to exec-true | Paddock's speed-up over it | pooled | allocs/op | failed runs |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range order {
		r := res[name]
		switch {
		case r == nil:
			p("| %s | not run | | | | | |\n", name)
		case r.median() == 0:
			p("| %s | skipped: %s | | | | | |\n", name, strings.ReplaceAll(r.skip, "|", `\|`))
		default:
			up, upPooled := "", ""
			if name != "exec-true" && !strings.HasPrefix(name, "paddock") {
				up = fmt.Sprintf("**%.2f×**", r.median()/pd)
				if pooled > 0 {
					upPooled = fmt.Sprintf("**%.2f×**", r.median()/pooled)
				}
			}
			p("| %s | %.0f | %.2f× | %s | %s | %s | %d |\n", name, r.median(), r.median()/floor, up, upPooled, r.allocs, r.failed)
		}
	}
	p("\nWhat each sandbox reported of itself (`peerProbe`: `/proc/self/status`, the namespaces it does\nnot share with the benchmark, a write to its root):\n\n```\n")
	for _, name := range order[1:] {
		if r := res[name]; r != nil && r.probe != "" {
			p("%-8s %s\n", name, r.probe)
		}
	}
	p("```\n")
}

// loadAverage is the 1, 5 and 15 minute load averages of /proc/loadavg.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " / ")
	}
	return "unknown"
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peers:", err)
	os.Exit(1)
}
