package sandbox_test

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// BenchmarkExecTrue is the floor: os/exec of the same /bin/true, no isolation.
func BenchmarkExecTrue(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// presets are the benchmarked sandboxes. As root, "rootless" is a root caller's
// Rootless: each start allocates a block of IDs of an automatic range and runs in
// fork mode (vfork skips, naming why).
var presets = []preset{
	{name: "rootful", opts: []sandbox.Option{sandbox.Rootful()}},
	{name: "rootless", opts: []sandbox.Option{sandbox.Rootless()}},
	{name: "rootless-nocgroup", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}},
	{name: "privileged", opts: []sandbox.Option{sandbox.Privileged()}},
	// One network namespace prepared in Build for every start (root only).
	{name: "rootful-sharednet", opts: []sandbox.Option{sandbox.Rootful(), sandbox.WithSharedNetNS()}},
	{name: "rootful-nocgroup", opts: []sandbox.Option{sandbox.Rootful(), sandbox.WithoutCgroup()}},
	{name: "norootfs", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup(), sandbox.WithoutRootfs()}},
	// One lower layer with no mounts beneath it (a static busybox): one overlay,
	// where the host's "/" takes one per top-level directory when rootless.
	{name: "rootless-rootfs", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}, busybox: true},
	{name: "super-privileged", opts: []sandbox.Option{sandbox.SuperPrivileged()}},
}

type preset struct {
	name    string
	opts    []sandbox.Option
	busybox bool // on testutil.BusyboxRoot, a root filesystem of busybox and its applets
}

// options returns the preset's options, with its root filesystem made for b.
func (p preset) options(b *testing.B) []sandbox.Option {
	opts := append([]sandbox.Option(nil), p.opts...)
	if p.busybox {
		opts = append(opts, sandbox.WithRootfs(testutil.BusyboxRoot(b)))
	}
	return opts
}

// benchStart measures Start+Wait, and reports the two halves: start-µs/op, from the
// call to the target's exec (the clone and the child's whole setup), and wait-µs/op,
// from there to the end of Wait (the target's run, its exit and the reaping).
func benchStart(b *testing.B, opts ...sandbox.Option) {
	benchStartCmd(b, sandbox.Command{Args: []string{"/bin/true"}}, opts...)
}

// benchStartCmd is benchStart of cmd; a terminal's master is closed after Wait.
func benchStartCmd(b *testing.B, cmd sandbox.Command, opts ...sandbox.Option) {
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		b.Skip(err)
	}
	defer tpl.Close()
	var h halves
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.startWait(b, tpl, cmd)
	}
	h.report(b)
}

// halves sums the two halves of Start+Wait over a benchmark's iterations.
type halves struct{ inStart, inWait time.Duration }

// startWait times one Start+Wait of cmd in tpl, which must succeed; a
// terminal's master is closed after Wait.
func (h *halves) startWait(b *testing.B, tpl *sandbox.Template, cmd sandbox.Command) {
	t0 := time.Now()
	p, err := tpl.Start(context.Background(), cmd)
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	st, err := p.Wait()
	h.inStart += t1.Sub(t0)
	h.inWait += time.Since(t1)
	if f := p.Terminal(); f != nil {
		f.Close()
	}
	if err != nil || !st.Success() {
		b.Fatal(st, err)
	}
}

// report reports the halves' means as start-µs/op and wait-µs/op.
func (h *halves) report(b *testing.B) {
	b.ReportMetric(float64(h.inStart.Microseconds())/float64(b.N), "start-µs/op")
	b.ReportMetric(float64(h.inWait.Microseconds())/float64(b.N), "wait-µs/op")
}

// BenchmarkStart measures Start+Wait of /bin/true in each preset, with and without
// a new network namespace, in fork and vfork mode.
func BenchmarkStart(b *testing.B) {
	for _, p := range presets {
		for _, net := range []bool{true, false} {
			for _, mode := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
				name := p.name
				if !net {
					name += "/nonet"
				} else if p.name == "super-privileged" {
					continue // always shares the host's network
				}
				name += "/" + string(mode)
				b.Run(name, func(b *testing.B) {
					opts := p.options(b)
					if !net {
						opts = append(opts, sandbox.WithHostNamespaces(namespace.Net))
					}
					benchStart(b, append(opts, sandbox.WithSpawnMode(mode))...)
				})
			}
		}
	}
}

// BenchmarkStartInit measures Start+Wait of /bin/true with and without an init as
// PID 1 (fork mode: an init rules vfork out), rootful and rootless, without a
// cgroup so that the cgroup's directories and rules do not drown the difference.
func BenchmarkStartInit(b *testing.B) {
	for _, p := range []preset{
		{name: "rootful", opts: []sandbox.Option{sandbox.Rootful(), sandbox.WithoutCgroup()}},
		{name: "rootless", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}},
	} {
		for _, init := range []bool{false, true} {
			name := p.name + "/noinit"
			opts := append(p.options(b), sandbox.WithSpawnMode(sandbox.SpawnFork))
			if init {
				name = p.name + "/init"
				opts = append(opts, sandbox.WithInit())
			}
			b.Run(name, func(b *testing.B) { benchStart(b, opts...) })
		}
	}
}

// BenchmarkStartTerminal measures Start+Wait of /bin/true with and without a
// terminal (opened in the sandbox's own /dev/pts), rootful and rootless, without a
// cgroup so that the cgroup's directories and rules do not drown the difference.
func BenchmarkStartTerminal(b *testing.B) {
	for _, p := range []preset{
		{name: "rootful", opts: []sandbox.Option{sandbox.Rootful(), sandbox.WithoutCgroup()}},
		{name: "rootless", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}},
	} {
		for _, tty := range []bool{false, true} {
			name := p.name + "/notty"
			if tty {
				name = p.name + "/tty"
			}
			b.Run(name, func(b *testing.B) {
				benchStartCmd(b, sandbox.Command{Args: []string{"/bin/true"}, Terminal: tty}, p.options(b)...)
			})
		}
	}
}

// BenchmarkBuild measures the one-time compilation of each preset.
func BenchmarkBuild(b *testing.B) {
	for _, p := range presets {
		b.Run(p.name, func(b *testing.B) {
			opts := p.options(b)
			b.ReportAllocs()
			for b.Loop() {
				tpl, err := sandbox.NewBuilder(opts...).Build()
				if err != nil {
					b.Fatal(err)
				}
				tpl.Close()
			}
		})
	}
}

// TestStartAllocations holds the parent to a handful of allocations per Start+Wait
// of a prebuilt Template (the child allocates nothing: it is nosplit throughout,
// see internal/child's TestChildIsNosplit).
func TestStartAllocations(t *testing.T) {
	// The caller's own IDs: a root caller's Rootless would allocate a block of
	// IDs for each start (lock files), which BenchmarkStart measures.
	tpl, err := sandbox.NewBuilder(sandbox.Rootless(), sandbox.WithUserNS(nil, nil), sandbox.WithHostNamespaces(namespace.Net), sandbox.WithoutCgroup()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	ctx := context.Background()
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	// AllocsPerRun counts the allocations of every goroutine: the least of three
	// runs leaves out those of goroutines that earlier tests left finishing.
	allocs := math.Inf(1)
	for range 3 {
		allocs = min(allocs, testing.AllocsPerRun(20, func() {
			if _, err := tpl.Run(ctx, cmd); err != nil {
				t.Fatal(err)
			}
		}))
	}
	t.Logf("%.0f allocations per Start+Wait", allocs)
	// Under the race detector sync.Pool drops what is put back at random (the
	// vfork stacks, the Process pool), so the count says nothing there.
	if raceEnabled {
		t.Logf("race detector: the bound of 10 is checked without it")
		return
	}
	if allocs > 10 {
		t.Errorf("%.0f allocations per Start+Wait, want at most 10", allocs)
	}
}

// heap keeps a live heap of the given size reachable while a benchmark runs.
var heap [][]byte

// BenchmarkHeap starts sandboxes from a process that holds a 1 GiB live heap: fork
// copies the page tables of that heap on every start, vfork does not.
func BenchmarkHeap(b *testing.B) {
	opts := []sandbox.Option{sandbox.Rootless(), sandbox.WithHostNamespaces(namespace.Net), sandbox.WithoutCgroup()}
	for _, size := range []int{0, 1 << 30} {
		for _, mode := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
			b.Run(fmt.Sprintf("heap=%dMiB/%s", size>>20, mode), func(b *testing.B) {
				heap = nil
				for n := 0; n < size; n += 64 << 20 {
					chunk := make([]byte, 64<<20)
					for i := 0; i < len(chunk); i += 4096 {
						chunk[i] = 1 // touch every page: a live, resident heap
					}
					heap = append(heap, chunk)
				}
				defer func() { heap = nil; runtime.GC() }()
				benchStart(b, append(opts, sandbox.WithSpawnMode(mode))...)
			})
		}
	}
}

// BenchmarkThroughput starts and reaps default sandboxes from 1, 2 and 8
// goroutines at once, and reports sandboxes per second.
func BenchmarkThroughput(b *testing.B) {
	for _, who := range []preset{
		{name: "default"},
		{name: "rootless-nocgroup", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}},
		{name: "rootless-rootfs", opts: []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}, busybox: true},
	} {
		b.Run(who.name, func(b *testing.B) {
			tpl, err := sandbox.NewBuilder(who.options(b)...).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer tpl.Close()
			for _, starters := range []int{1, 2, 8} {
				b.Run(fmt.Sprintf("starters=%d", starters), func(b *testing.B) { throughput(b, tpl, starters) })
			}
		})
	}
}

// throughput starts and reaps b.N sandboxes of tpl from the given number of
// goroutines at once.
func throughput(b *testing.B, tpl *sandbox.Template, starters int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < starters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := sandbox.Command{Args: []string{"/bin/true"}}
			for next.Add(1) <= int64(b.N) {
				if st, err := tpl.Run(context.Background(), cmd); err != nil || !st.Success() {
					b.Error(st, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sandboxes/s")
}
