package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/paddock-sandbox/paddock/bench/internal/privatens"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// envStage marks the re-executed harness: "ns" inside the private mount
// namespace, "run" once the namespace is ready (and the user dropped).
const envStage = "SIDEBYSIDE_STAGE"

// privatens.UnifiedMount is the cgroup v2 mount of a hybrid host that crun 1.8.1 trips on.

type cmdList []command

type command struct {
	Name string   `json:"name"`
	Argv []string `json:"argv"`
}

// String implements fmt.Stringer.
func (l *cmdList) String() string { return fmt.Sprint(*l) }

// Set implements flag.Value.
func (l *cmdList) Set(v string) error {
	name, argv, ok := strings.Cut(v, "=")
	if !ok || name == "" || strings.TrimSpace(argv) == "" {
		return fmt.Errorf("-cmd %q: want NAME=ARGV", v)
	}
	for _, c := range *l {
		if c.Name == name {
			return fmt.Errorf("-cmd %q: name %q given twice", v, name)
		}
	}
	*l = append(*l, command{Name: name, Argv: strings.Fields(argv)})
	return nil
}

// Result is one command's figures in milliseconds.
type Result struct {
	command
	Runs     int `json:"runs"`     // measured runs that succeeded
	Failures int `json:"failures"` // measured runs that failed, left out of the figures
	// WarmupFailures counts the warm-up runs that failed.
	WarmupFailures int       `json:"warmup_failures"`
	MedianMS       float64   `json:"median_ms"`
	P10MS          float64   `json:"p10_ms"`
	P90MS          float64   `json:"p90_ms"`
	MeanMS         float64   `json:"mean_ms"`
	Ratio          float64   `json:"ratio_to_true"`
	Samples        []float64 `json:"samples_ms"`
}

// Report is the JSON document the harness writes.
type Report struct {
	Date       string   `json:"date"`
	Kernel     string   `json:"kernel"`
	Machine    string   `json:"machine"`
	CPUs       int      `json:"cpus"`
	GoVersion  string   `json:"go_version"`
	UID        int      `json:"uid"`
	MountNS    string   `json:"mount_ns"`
	N          int      `json:"n"`
	Warmup     int      `json:"warmup"`
	Order      string   `json:"order"`
	Baseline   string   `json:"baseline"`
	Results    []Result `json:"results"`
	WallSecond float64  `json:"wall_seconds"`
}

func main() {
	n := flag.Int("n", 200, "measured runs per command")
	warmup := flag.Int("warmup", 20, "unmeasured runs per command first (errors shown)")
	out := flag.String("o", "", "write the JSON report here (default: stdout)")
	uid := flag.Int("uid", -1, "as root: run the commands as this uid (and gid), dropped with setpriv inside the namespace")
	baseline := flag.String("baseline", "true", "name of the floor command the ratios refer to")
	noNS := flag.Bool("no-mountns", false, "do not re-execute in a private mount namespace")
	maxFail := flag.Float64("max-fail", 0.05, "abort when a command fails more than this fraction of its warm-up or measured runs")
	var cmds cmdList
	flag.Var(&cmds, "cmd", "NAME=ARGV of a command to time (repeatable)")
	flag.Parse()
	if len(cmds) == 0 {
		fail(errors.New("no -cmd given"))
	}
	if !slices.ContainsFunc(cmds, func(c command) bool { return c.Name == *baseline }) {
		fail(fmt.Errorf("the baseline %q is not among the commands", *baseline))
	}
	if *n < 1 || *warmup < 0 || *maxFail < 0 || *maxFail >= 1 {
		fail(errors.New("-n must be at least 1, -warmup at least 0 and -max-fail in [0, 1)"))
	}

	mountNS := "host"
	switch stage := os.Getenv(envStage); {
	case stage == "" && !*noNS && os.Geteuid() == 0:
		code, err := privatens.Reexec(envStage)
		fail(err)
		os.Exit(code)
	case stage == "ns":
		if err := privatens.DetachUnified(); err != nil {
			fail(err)
		}
		if *uid >= 0 {
			fail(dropTo(*uid))
		}
		mountNS = "private, " + privatens.UnifiedMount + " detached"
	case stage == "run":
		mountNS = "private, " + privatens.UnifiedMount + " detached"
	case *uid >= 0:
		fail(errors.New("-uid needs the harness to start as root"))
	}

	// One OS thread for the whole run: the namespace is the process's already
	// (unshared before exec), this keeps the spawning thread the same.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	start := time.Now()
	rep := &Report{
		Date: start.UTC().Format(time.RFC3339), Kernel: privatens.Uname(), Machine: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), UID: os.Geteuid(), MountNS: mountNS, N: *n, Warmup: *warmup,
		Order: "round-robin", Baseline: *baseline,
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fail(err)
	}
	defer devnull.Close()

	id := 0
	nextID := func() string { id++; return strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(id) }
	// Warm-up: page cache, the runtimes' own first-run work; errors show here.
	warmFailures := make([]int, len(cmds))
	for range *warmup {
		for i, c := range cmds {
			if _, err := runOnce(c, nextID(), devnull, true); err != nil {
				warmFailures[i]++
				fmt.Fprintf(os.Stderr, "sidebyside: warm-up of %s: %v\n", c.Name, err)
			}
		}
	}
	fail(tooMany(cmds, warmFailures, *warmup, *maxFail, "warm-up"))
	samples := make([][]float64, len(cmds))
	failures := make([]int, len(cmds))
	for range *n {
		for i, c := range cmds {
			d, err := runOnce(c, nextID(), devnull, false)
			if err != nil {
				failures[i]++
				fmt.Fprintf(os.Stderr, "sidebyside: %s: %v\n", c.Name, err)
				continue
			}
			samples[i] = append(samples[i], float64(d.Nanoseconds())/1e6)
		}
	}
	var floor float64
	for i, c := range cmds {
		r := Result{command: c, Runs: len(samples[i]), Failures: failures[i], WarmupFailures: warmFailures[i], Samples: samples[i]}
		if len(samples[i]) > 0 {
			s := slices.Clone(samples[i])
			slices.Sort(s)
			r.MedianMS, r.P10MS, r.P90MS = quantile(s, 0.5), quantile(s, 0.1), quantile(s, 0.9)
			var sum float64
			for _, v := range s {
				sum += v
			}
			r.MeanMS = sum / float64(len(s))
		}
		if c.Name == *baseline {
			floor = r.MedianMS
		}
		rep.Results = append(rep.Results, r)
	}
	for i := range rep.Results {
		if floor > 0 {
			rep.Results[i].Ratio = rep.Results[i].MedianMS / floor
		}
	}
	rep.WallSecond = time.Since(start).Seconds()

	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		fail(err)
	}
	data = append(data, '\n')
	if *out == "" {
		os.Stdout.Write(data)
	} else if err := os.WriteFile(*out, data, 0o644); err != nil {
		fail(err)
	}
	for _, r := range rep.Results {
		fmt.Fprintf(os.Stderr, "%-24s median %7.3f ms  p10 %7.3f  p90 %7.3f  ×%.2f  (%d runs, %d failed)\n",
			r.Name, r.MedianMS, r.P10MS, r.P90MS, r.Ratio, r.Runs, r.Failures)
	}
	fail(tooMany(cmds, failures, *n, *maxFail, "measured"))
}

// tooMany names the first command that failed more than the fraction maxFail of
// its runs (at least one failure is always allowed), or returns nil: a peer that
// fails now and then (rootless runc, about once in 200 runs here) is counted and
// its failed runs left out of the timings; one that fails often is broken.
func tooMany(cmds []command, failures []int, runs int, maxFail float64, what string) error {
	for i, f := range failures {
		if f > 1 && float64(f) > maxFail*float64(runs) {
			return fmt.Errorf("%s failed %d of %d %s runs, more than %.0f%%", cmds[i].Name, f, runs, what, maxFail*100)
		}
	}
	return nil
}

// runOnce runs c once and returns the wall time from fork to the end of wait.
// With show, the command's stderr is kept and returned in the error on failure.
func runOnce(c command, id string, devnull *os.File, show bool) (time.Duration, error) {
	argv := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		argv[i] = strings.ReplaceAll(a, "{id}", id)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	var errBuf strings.Builder
	if show {
		cmd.Stderr = &errBuf
	}
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		if msg := strings.TrimSpace(errBuf.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		return 0, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return d, nil
}

// quantile interpolates linearly between the closest ranks of sorted s.
func quantile(s []float64, q float64) float64 {
	if len(s) == 1 {
		return s[0]
	}
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	frac := pos - float64(lo)
	return s[lo]*(1-frac) + s[lo+1]*frac
}

// dropTo replaces the harness by itself run through setpriv as uid (gid = uid,
// no supplementary groups), still in this mount namespace. It returns only on error.
func dropTo(uid int) error {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return fmt.Errorf("-uid needs setpriv (util-linux): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var args []string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-uid=") && !strings.HasPrefix(a, "--uid=") {
			args = append(args, a)
		}
	}
	if slices.Contains(args, "-uid") || slices.Contains(args, "--uid") {
		return errors.New("give -uid as -uid=N")
	}
	u := strconv.Itoa(uid)
	argv := append([]string{setpriv, "--reuid=" + u, "--regid=" + u, "--clear-groups", "--", self}, args...)
	env := []string{envStage + "=run", "PATH=" + os.Getenv("PATH"), "HOME=/nonexistent", "LANG=C"}
	return syscall.Exec(setpriv, argv, env)
}

func fail(err error) {
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(2)
}
