package seccomp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// benchEnv makes the re-executed test binary run benchChild instead of the tests.
const benchEnv = "PADDOCK_SECCOMP_BENCH_CHILD"

// benchCalls is the number of system calls timed per kind in a child.
const benchCalls = 1_000_000

func init() {
	if mode := os.Getenv(benchEnv); mode != "" {
		if err := benchChild(mode); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// benchChild runs in a fresh process. It sets no_new_privs and loads the compiled
// Default profile on the calling thread (no TSYNC, as the sandbox child does), timing
// the seccomp(2) call, then a second identical filter on top. In mode "syscalls" it
// also times getpid() and personality(0xffffffff) before and after loading. It prints
// "key=nanoseconds" pairs on one line.
func benchChild(mode string) error {
	runtime.LockOSThread()
	if mode == "large" {
		return loadLarge()
	}
	f, err := Compile(Default(dockerCaps))
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	var out []string
	report := func(k string, ns float64) { out = append(out, fmt.Sprintf("%s=%.1f", k, ns)) }
	calls := func(prefix string) {
		if mode != "syscalls" {
			return
		}
		report(prefix+"getpid", timeCalls(unix.SYS_GETPID, 0))
		report(prefix+"personality", timeCalls(unix.SYS_PERSONALITY, 0xffffffff))
	}
	calls("bare-")
	load := func() (time.Duration, error) {
		start := time.Now()
		_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&f.Prog)))
		d := time.Since(start)
		if e != 0 {
			return 0, fmt.Errorf("seccomp(SET_MODE_FILTER): %w", e)
		}
		return d, nil
	}
	d, err := load()
	if err != nil {
		return err
	}
	report("load", float64(d.Nanoseconds()))
	calls("filtered-")
	if d, err = load(); err != nil {
		return err
	}
	report("stacked", float64(d.Nanoseconds()))
	fmt.Println(strings.Join(out, " "))
	return nil
}

// timeCalls returns the mean time in nanoseconds of benchCalls raw calls of nr.
func timeCalls(nr, arg uintptr) float64 {
	start := time.Now()
	for range benchCalls {
		unix.RawSyscall(nr, arg, 0, 0)
	}
	return float64(time.Since(start).Nanoseconds()) / benchCalls
}

// runBenchChild starts one child in the given mode and parses its figures.
func runBenchChild(b *testing.B, mode string) map[string]float64 {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child: %v\n%s", err, out)
	}
	m := map[string]float64{}
	for _, kv := range strings.Fields(string(out)) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			b.Fatalf("child output %q", out)
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("child output %q: %v", out, err)
		}
		m[k] = x
	}
	return m
}

func requireSeccomp(b *testing.B) {
	b.Helper()
	if err := unix.Prctl(unix.PR_GET_SECCOMP, 0, 0, 0, 0); errors.Is(err, unix.EINVAL) {
		b.Skipf("kernel without CONFIG_SECCOMP: %v", err)
	}
}

// BenchmarkKernelLoad measures what the kernel spends in seccomp(SET_MODE_FILTER) for
// the compiled Default profile: each iteration starts a process (not timed) that
// loads it once as its first filter and once more on top. The metrics are the median
// times in µs; ns/op is the cost of the whole process and means nothing here.
func BenchmarkKernelLoad(b *testing.B) {
	requireSeccomp(b)
	var load, stacked []float64
	for b.Loop() {
		m := runBenchChild(b, "load")
		load, stacked = append(load, m["load"]), append(stacked, m["stacked"])
	}
	b.ReportMetric(median(load)/1e3, "load-µs")
	b.ReportMetric(median(stacked)/1e3, "stacked-µs")
	b.ReportMetric(float64(len(mustCompile(b).Program)), "insns")
}

// BenchmarkKernelSyscall measures the cost the loaded Default profile adds to a call
// that the kernel's allow cache lets through (getpid) and to one that runs the
// filter to its argument check (personality(0xffffffff)), each timed over a million
// calls in a child before and after loading. The metrics are medians in ns per call.
func BenchmarkKernelSyscall(b *testing.B) {
	requireSeccomp(b)
	ms := map[string][]float64{}
	for b.Loop() {
		for k, v := range runBenchChild(b, "syscalls") {
			ms[k] = append(ms[k], v)
		}
	}
	for _, k := range []string{"bare-getpid", "filtered-getpid", "bare-personality", "filtered-personality"} {
		b.ReportMetric(median(ms[k]), k+"-ns")
	}
}

func mustCompile(b *testing.B) *Filter {
	f, err := Compile(Default(dockerCaps))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
