package sandbox_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// kcmpVM is KCMP_VM of kcmp(2): do two processes share their mm?
const kcmpVM = 1

// sharesMM reports whether pid shares the caller's memory (kcmp), and skips
// where the kernel has no kcmp.
func sharesMM(t testing.TB, pid int) bool {
	t.Helper()
	r, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(os.Getpid()), uintptr(pid), kcmpVM, 0, 0, 0)
	if e == unix.ENOSYS {
		t.Skipf("kcmp (CONFIG_KCMP): %v", e)
	}
	if e != 0 {
		t.Fatalf("kcmp %d: %v", pid, e)
	}
	return r == 0
}

// newPids returns the children of the caller that are not in before.
func newPids(t testing.TB, before map[int]bool) []int {
	t.Helper()
	var pids []int
	for pid := range childPids(t) {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sharedMaps counts the caller's mappings of warm children's memory
// (child.SharedMem): anonymous, read-write, of their size without the guard.
func sharedMaps(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := uint64(child.SharedSize(sandbox.PoolBufLen) - 4096)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 || fields[1] != "rw-p" {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		a, _ := strconv.ParseUint(lo, 16, 64)
		b, _ := strconv.ParseUint(hi, 16, 64)
		if b-a == want {
			n++
		}
	}
	return n
}

// TestPoolSharesMemory checks that the warm children of the default sandbox
// share the caller's memory (kcmp) and leave the caller's dumpable flag as it
// was; that their memory is unmapped once they served, were killed from
// outside, or the Template closed; and that a Template whose child changes
// the caller's kernel IDs (root's Rootless, a block of subordinate IDs per
// start; a target user other than root), writes oom_score_adj or has a
// memory limit of its own keeps fork-mode children.
func TestPoolSharesMemory(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dumpable, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		before := childPids(t)
		tpl := pooled(t, context.Background(), 2)
		warm := newPids(t, before)
		if len(warm) != 2 {
			t.Fatalf("warm children %v, want 2", warm)
		}
		for _, pid := range warm {
			if !sharesMM(t, pid) {
				t.Errorf("warm child %d does not share the caller's memory", pid)
			}
		}
		if n := sharedMaps(t); n != 2 {
			t.Errorf("%d mappings of warm children, want 2", n)
		}
		if out := probeOut(t, tpl, "id -u"); out != "0" {
			t.Errorf("id -u: %q", out)
		}
		waitWarm(t, tpl, 2)
		warm = newPids(t, before)
		if err := syscall.Kill(warm[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitZombie(t, warm[0]) // a start that takes it before it died fails, as it should
		if out := probeOut(t, tpl, "echo ok"); out != "ok" {
			t.Errorf("got %q", out)
		}
		if d, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); d != dumpable {
			t.Errorf("the caller's dumpable flag went from %d to %d", dumpable, d)
		}
		tpl.Close()
		if n := sharedMaps(t); n != 0 {
			t.Errorf("%d mappings of warm children after Close", n)
		}
		forkOnly(t, sandbox.WithOOMScoreAdj(100))
		if !testutil.Rootless() {
			forkOnly(t, sandbox.Rootless())
			forkOnly(t, sandbox.WithMemoryLimit(256<<20))
			forkOnly(t, sandbox.WithUser(1000, 1000))
		}
	})
}

// waitZombie waits until the child pid has died, unreaped.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("pid %d still runs 5s after SIGKILL", pid)
}

// forkOnly checks that the warm children of a pool of opts do not share the
// caller's memory.
func forkOnly(t *testing.T, opts ...sandbox.Option) {
	t.Helper()
	before := childPids(t)
	tpl := pooled(t, context.Background(), 1, opts...)
	defer tpl.Close()
	for _, pid := range newPids(t, before) {
		if sharesMM(t, pid) {
			t.Errorf("%v: warm child %d shares the caller's memory", opts, pid)
		}
	}
	if out := probeOut(t, tpl, "echo ok"); out != "ok" {
		t.Errorf("got %q", out)
	}
}

// TestPoolUnderGC starts a few hundred pooled sandboxes, each with its own
// argv and environment, while the caller allocates and collects without a
// pause: what a shared warm child writes (its copy of the Start, the pool's
// buffer) is none of the collector's, and what it reads the parent keeps.
func TestPoolUnderGC(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 2)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			churn(stop)
		}()
		defer func() { close(stop); wg.Wait() }()
		n := 300
		if testing.Short() {
			n = 50
		}
		for i := 0; i < n; i++ {
			v := strconv.Itoa(i) + strings.Repeat("x", i%97)
			st, err := tpl.Run(context.Background(), sandbox.Command{
				Args: []string{"/bin/sh", "-c", `test "$1" = "$V"`, "sh", v},
				Env:  []string{"V=" + v, "PATH=/usr/bin:/bin"},
			})
			if err != nil || !st.Success() {
				t.Fatalf("start %d: %v %v", i, st, err)
			}
		}
	})
}

// churn allocates pointer-rich garbage and collects until stop closes.
func churn(stop chan struct{}) {
	type node struct {
		next *node
		buf  []byte
	}
	var keep *node
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		for j := 0; j < 1000; j++ {
			keep = &node{next: keep, buf: make([]byte, 64)}
		}
		if i%4 == 0 {
			keep = nil
			runtime.GC()
		}
	}
}

// TestPoolSharedStartFails checks that a pooled start whose command cannot
// run fails with its typed error and leaves no mapping behind.
func TestPoolSharedStartFails(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1)
		_, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/no/such/program"}})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Errno != syscall.ENOENT {
			t.Fatalf("got %v", err)
		}
		waitWarm(t, tpl, 1)
		tpl.Close()
		if n := sharedMaps(t); n != 0 {
			t.Errorf("%d mappings of warm children after Close", n)
		}
	})
}

// BenchmarkPoolHeap measures a pooled Start+Wait of /bin/true in the default
// sandbox from a caller that holds a 1 GiB live heap, with warm children that
// share the caller's memory and with fork-mode ones (the refill 20 ms late,
// waited out untimed), and what a pool of 4 costs beside the caller: warm-ms,
// the time to fill it; pte-KiB/child, the page tables of a warm child that
// has an mm of its own (VmPTE; none for a shared one); kept-MiB, the memory
// that the warm children alone still hold once the caller has rewritten its
// heap (the sum of their Pss: the pages they kept of the caller's old heap);
// rss-MiB, the growth of the caller's own RSS over that rewrite.
func BenchmarkPoolHeap(b *testing.B) {
	for _, fork := range []bool{false, true} {
		name := "heap=1024MiB/shared"
		if fork {
			name = "heap=1024MiB/fork"
		}
		b.Run(name, func(b *testing.B) {
			sandbox.SetWarmForkOnly(fork)
			sandbox.SetRefillDelay(20 * time.Millisecond)
			defer sandbox.SetWarmForkOnly(false)
			defer sandbox.SetRefillDelay(0)
			fillHeap(1 << 30)
			defer func() { heap = nil; runtime.GC() }()
			benchPoolHeap(b)
		})
	}
}

// fillHeap makes heap a live, resident heap of size bytes.
func fillHeap(size int) {
	heap = nil
	for n := 0; n < size; n += 64 << 20 {
		chunk := make([]byte, 64<<20)
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i] = 1
		}
		heap = append(heap, chunk)
	}
}

func benchPoolHeap(b *testing.B) {
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		b.Skip(err)
	}
	defer tpl.Close()
	const n = 4
	before := childPids(b)
	t0 := time.Now()
	if err := tpl.Pool(context.Background(), n); err != nil {
		b.Fatal(err)
	}
	for tpl.Warm() < n {
		time.Sleep(100 * time.Microsecond)
	}
	warmMs := float64(time.Since(t0).Microseconds()) / 1000
	pte, kept, rss := warmCost(b, newPids(b, before))
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for deadline := time.Now().Add(5 * time.Second); tpl.Warm() < n && time.Now().Before(deadline); {
			time.Sleep(50 * time.Microsecond)
		}
		b.StartTimer()
		if st, err := tpl.Run(context.Background(), cmd); err != nil || !st.Success() {
			b.Fatal(st, err)
		}
	}
	b.ReportMetric(warmMs, "warm-ms")
	b.ReportMetric(pte, "pte-KiB/child")
	b.ReportMetric(kept, "kept-MiB")
	b.ReportMetric(rss, "rss-MiB")
}

// warmCost measures the warm children pids: the page tables of one that has
// an mm of its own, and, over a rewrite of the caller's heap, what they alone
// keep and how the caller's RSS grows (see BenchmarkPoolHeap).
func warmCost(b *testing.B, pids []int) (pteKiB, keptMiB, rssMiB float64) {
	var own []int
	for _, pid := range pids {
		if !sharesMM(b, pid) {
			own = append(own, pid)
		}
	}
	for _, pid := range own {
		pteKiB += procField(b, pid, "status", "VmPTE:") / float64(len(own))
	}
	rss0 := procField(b, os.Getpid(), "status", "VmRSS:")
	for _, chunk := range heap {
		for i := 0; i < len(chunk); i += 4096 {
			chunk[i]++
		}
	}
	for _, pid := range own {
		keptMiB += procField(b, pid, "smaps_rollup", "Pss:") / 1024
	}
	return pteKiB, keptMiB, (procField(b, os.Getpid(), "status", "VmRSS:") - rss0) / 1024
}

// procField reads the value in kB of the line key of /proc/pid/file.
func procField(b *testing.B, pid int, file, key string) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			v, _ := strconv.ParseFloat(f[0], 64)
			return v
		}
	}
	b.Fatalf("no %s in /proc/%d/%s", key, pid, file)
	return 0
}
