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
func newPids(t *testing.T, before map[int]bool) []int {
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
// start) or writes oom_score_adj keeps fork-mode children.
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
		}
	})
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
