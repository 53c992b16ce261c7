package sandbox_test

import (
	"context"
	"os"
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
// there nothing waits for the refill, which counts.
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
// before each start. It reports as cold/op the share of starts before which the
// pool was not full after a second: those may have started without it.
func benchPooled(b *testing.B, opts ...sandbox.Option) {
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		b.Skip(err)
	}
	defer tpl.Close()
	ctx := context.Background()
	if err := tpl.Pool(ctx, poolSize); err != nil {
		b.Fatal(err)
	}
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	var inStart, inWait time.Duration
	cold := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if !waitPool(tpl, poolSize, time.Second) {
			cold++
		}
		b.StartTimer()
		t0 := time.Now()
		p, err := tpl.Start(ctx, cmd)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		st, err := p.Wait()
		inStart += t1.Sub(t0)
		inWait += time.Since(t1)
		if err != nil || !st.Success() {
			b.Fatal(st, err)
		}
	}
	b.ReportMetric(float64(inStart.Microseconds())/float64(b.N), "start-µs/op")
	b.ReportMetric(float64(inWait.Microseconds())/float64(b.N), "wait-µs/op")
	b.ReportMetric(float64(cold)/float64(b.N), "cold/op")
}
