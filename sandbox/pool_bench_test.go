package sandbox_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/sandbox"
)

// poolSize is the pool of every pooled benchmark.
const poolSize = 2

// poolPresets are the sandboxes of BenchmarkPool, named as the start-latency
// targets name them.
var poolPresets = []struct {
	preset
	rootOnly bool // a user may build it but not start it
}{
	// The rootful default: a new network namespace (and the other namespaces),
	// a cgroup of its own, an overlay on the host's "/".
	{preset: preset{name: "rootful-netns", opts: []sandbox.Option{sandbox.Rootful()}}, rootOnly: true},
	// The default rootless sandbox on the host's "/" (one overlay per top-level
	// directory); as root, a block of subordinate IDs per start.
	{preset: preset{name: "rootless", opts: []sandbox.Option{sandbox.Rootless()}}},
	// The same on a single lower layer, a busybox root with nothing mounted beneath.
	{preset: preset{name: "rootless-rootfs", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}, busybox: true}},
}

// BenchmarkPool measures Start+Wait of /bin/true in an unpooled and a pooled
// start of the same Template, beside exec-true (BenchmarkExecTrue) in the same
// run. Before each pooled start the pool is full again (not timed): the refill
// that the start begins runs beside it, as it would, but not on the next start's
// path. The throughput rows are those of BenchmarkThroughput for the default
// Template (NewBuilder() with no option) with 2 starters, unpooled and pooled;
// there nothing waits for the refill, which counts. The memory rows
// (benchPoolMemory) are what each warm sandbox of the default Template costs a
// caller with an empty heap and with a 1 GiB live one.
func BenchmarkPool(b *testing.B) {
	b.Run("exec-true", BenchmarkExecTrue)
	for _, p := range poolPresets {
		for _, pooled := range []bool{false, true} {
			name := p.name + "/unpooled"
			if pooled {
				name = p.name + "/pooled"
			}
			b.Run(name, func(b *testing.B) {
				if p.rootOnly && os.Geteuid() != 0 {
					b.Skipf("%s: starts as root only", p.name)
				}
				if pooled {
					benchPooled(b, p.options(b)...)
				} else {
					benchStart(b, p.options(b)...)
				}
			})
		}
	}
	b.Run("throughput/default/starters=2/unpooled", func(b *testing.B) { benchThroughput(b, false) })
	b.Run("throughput/default/starters=2/pooled", func(b *testing.B) { benchThroughput(b, true) })
	for _, size := range []int{0, 1 << 30} {
		b.Run(fmt.Sprintf("memory/heap=%dMiB", size>>20), func(b *testing.B) { benchPoolMemory(b, size) })
	}
}

// BenchmarkPoolModes compares, for the rootful and rootless presets, pooled
// starts whose warm children share the caller's memory (where the preset
// allows it: as root, rootful does and rootless, with its automatic ID blocks,
// does not; as another user, rootless does) with fork-mode warm children, each
// with the refill as a start begins it (once its target has exited, or 2 ms
// after the start), begun at once beside the start (the beside rows), and
// begun 20 ms later (the norefill rows, which wait that out untimed: the floor
// of a pooled start, without the refill's clone beside it).
func BenchmarkPoolModes(b *testing.B) {
	b.Run("exec-true", BenchmarkExecTrue)
	for _, p := range presets[:2] {
		for _, fork := range []bool{false, true} {
			for _, delay := range []time.Duration{0, time.Nanosecond, 20 * time.Millisecond} {
				name := p.name + "/shared"
				if fork {
					name = p.name + "/fork"
				}
				switch delay {
				case time.Nanosecond:
					name += "/beside"
				case 20 * time.Millisecond:
					name += "/norefill"
				}
				b.Run(name, func(b *testing.B) {
					sandbox.SetWarmForkOnly(fork)
					sandbox.SetRefillDelay(delay)
					defer sandbox.SetWarmForkOnly(false)
					defer sandbox.SetRefillDelay(0)
					benchPooled(b, p.options(b)...)
				})
			}
		}
	}
}

// benchThroughput is throughput of the default Template from 2 starters, with a
// pool of poolSize, full when the timing starts, if pooled.
func benchThroughput(b *testing.B, pooled bool) {
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		b.Fatal(err)
	}
	defer tpl.Close()
	if pooled {
		if err := tpl.Pool(context.Background(), poolSize); err != nil {
			b.Fatal(err)
		}
		waitPool(tpl, poolSize, 10*time.Second)
	}
	b.ReportAllocs()
	b.ResetTimer()
	throughput(b, tpl, 2)
}

// waitPool waits until n sandboxes wait in tpl's pool, at most timeout, and
// says whether they do.
func waitPool(tpl *sandbox.Template, n int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); tpl.Warm() < n; {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return true
}

// benchPooled is benchStart with a pool of poolSize, full again (not timed)
// before each start (benchPooledLoop).
func benchPooled(b *testing.B, opts ...sandbox.Option) {
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		b.Skip(err)
	}
	defer tpl.Close()
	if err := tpl.Pool(context.Background(), poolSize); err != nil {
		b.Fatal(err)
	}
	benchPooledLoop(b, tpl)
}

// benchPooledLoop measures Start+Wait of /bin/true in tpl, whose pool of
// poolSize is full again (not timed) before each start. It reports as cold/op
// the share of starts before which the pool was not full after a second: those
// may have started without it.
func benchPooledLoop(b *testing.B, tpl *sandbox.Template) {
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	var h halves
	cold := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if !waitPool(tpl, poolSize, time.Second) {
			cold++
		}
		b.StartTimer()
		h.startWait(b, tpl, cmd)
	}
	h.report(b)
	b.ReportMetric(float64(cold)/float64(b.N), "cold/op")
}

// benchPoolMemory measures what each warm sandbox of the default Template costs
// a caller with a live heap of size bytes. A warm child that shares the
// caller's address space (shared-children of them) costs no page or page table
// of its own and counts 0. One that is a fork of the caller shares the caller's
// pages until one side writes to one, and keeps its own copy of the page
// tables: for those it reports, per warm child, from /proc/PID/smaps_rollup and
// status, its proportional share of the pages it maps (warm-pss-KiB: a page
// shared by the caller and k warm children counts 1/(k+1)) and its page tables
// (warm-pte-KiB) once the pool is full, and its share again once the caller has
// written to every page of its heap (rewritten-pss-KiB: the old pages are then
// the warm children's alone, shared among them). The timed loop is a pooled
// Start+Wait with that heap.
func benchPoolMemory(b *testing.B, size int) {
	heap = liveHeap(size)
	defer func() { heap = nil; runtime.GC() }()
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		b.Fatal(err)
	}
	defer tpl.Close()
	before := childSet()
	if err := tpl.Pool(context.Background(), poolSize); err != nil {
		b.Fatal(err)
	}
	if !waitPool(tpl, poolSize, 10*time.Second) {
		b.Fatalf("%d warm sandboxes after 10s, want %d", tpl.Warm(), poolSize)
	}
	// A warm child that shares the caller's address space has no pages or
	// page tables of its own beyond its stack's mapping, which is the caller's:
	// its smaps would be the caller's. Only the others are read; each shared one
	// counts 0.
	var warm, own []int
	for pid := range childSet() {
		if !before[pid] {
			warm = append(warm, pid)
			if !sharesMM(b, pid) {
				own = append(own, pid)
			}
		}
	}
	if len(warm) == 0 {
		b.Fatal("no warm child")
	}
	first, err := memoryOf(own)
	if err != nil {
		b.Skipf("reading a warm child's memory: %v", err)
	}
	for _, chunk := range heap {
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i]++ // the caller's heap changes: each page is copied
		}
	}
	again, err := memoryOf(own)
	if err != nil {
		b.Fatalf("reading a warm child's memory: %v", err)
	}
	benchPooledLoop(b, tpl)
	n := float64(len(warm))
	b.ReportMetric(float64(first["Pss"])/n, "warm-pss-KiB")
	b.ReportMetric(float64(first["VmPTE"])/n, "warm-pte-KiB")
	b.ReportMetric(float64(again["Pss"])/n, "rewritten-pss-KiB")
	b.ReportMetric(float64(len(warm)-len(own)), "shared-children")
}

// liveHeap returns size bytes in chunks of 64 MiB, every page touched: a live,
// resident heap.
func liveHeap(size int) [][]byte {
	var h [][]byte
	for n := 0; n < size; n += 64 << 20 {
		chunk := make([]byte, 64<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		h = append(h, chunk)
	}
	return h
}

// childSet returns the pids of this process's children.
func childSet() map[int]bool {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	pids := map[int]bool{}
	for _, f := range tasks {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(field); err == nil {
				pids[n] = true
			}
		}
	}
	return pids
}

// memoryOf sums, over pids, the kB figures of /proc/PID/smaps_rollup and the
// VmPTE line of /proc/PID/status, by field name.
func memoryOf(pids []int) (map[string]int, error) {
	sum := map[string]int{}
	for _, pid := range pids {
		for _, file := range []string{"smaps_rollup", "status"} {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
			if err != nil {
				return nil, err
			}
			for _, line := range strings.Split(string(data), "\n") {
				f := strings.Fields(line)
				if len(f) != 3 || f[2] != "kB" || (file == "status" && f[0] != "VmPTE:") {
					continue
				}
				kb, err := strconv.Atoi(f[1])
				if err != nil {
					return nil, fmt.Errorf("/proc/%d/%s: %q: %w", pid, file, line, err)
				}
				sum[strings.TrimSuffix(f[0], ":")] += kb
			}
		}
	}
	return sum, nil
}
