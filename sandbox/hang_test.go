package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// stuckExecve is Docker's profile with a rule that holds the target's execve for a
// seccomp notification, but only when its path argument is not NULL, which it
// never is: Build, which evaluates the calls of the child with their pointers as
// 0, cannot see it, and the child waits before exec for a supervisor that cannot
// answer before Start returns.
func stuckExecve() seccomp.Profile {
	return withRule(seccomp.Rule{Names: []string{"execve"}, Action: seccomp.ActNotify,
		Args: []seccomp.Arg{{Index: 0, Op: seccomp.OpNotEqual, Value: 0}}})
}

// ownerCgroups lists the cgroups of this process's sandboxes that still exist.
func ownerCgroups(t *testing.T) []string {
	t.Helper()
	id, held := owner.Held()
	if !held {
		return nil
	}
	var found []string
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.Contains(d.Name(), id) {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// ticker counts the largest gap between the ticks of a goroutine, while another
// forces garbage collections: a stop-the-world that waits for a thread stuck in
// a vfork clone stops the ticks too.
type ticker struct {
	stop     chan struct{}
	maxGap   atomic.Int64
	lastTick atomic.Int64
}

func startTicker() *ticker {
	tk := &ticker{stop: make(chan struct{})}
	tk.lastTick.Store(time.Now().UnixNano())
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tk.stop:
				return
			case now := <-tick.C:
				gap := now.UnixNano() - tk.lastTick.Swap(now.UnixNano())
				if gap > tk.maxGap.Load() {
					tk.maxGap.Store(gap)
				}
			}
		}
	}()
	go func() {
		for {
			select {
			case <-tk.stop:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.GC()
			}
		}
	}()
	return tk
}

// tickedSince waits up to a second for a tick after t.
func (tk *ticker) tickedSince(t time.Time) bool {
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if tk.lastTick.Load() > t.UnixNano() {
			return true
		}
	}
	return false
}

// TestStartStuckChild starts a child that a seccomp notification holds before
// exec, in both spawn modes, with a deadline: Start must return within 2 s of it
// with an error that matches context.DeadlineExceeded, while a goroutine keeps
// ticking through the garbage collections that another forces, and leave nothing
// behind.
func TestStartStuckChild(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, m := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
			t.Run(string(m), func(t *testing.T) {
				testutil.UnderWatchdog(t, 60*time.Second, func(t *testing.T) { startStuck(t, m) })
			})
		}
	})
}

func startStuck(t *testing.T, m sandbox.SpawnMode) {
	tpl, err := sandbox.NewBuilder(sandbox.WithSpawnMode(m), sandbox.WithSeccompProfile(stuckExecve())).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	fds := testutil.FDs()
	const timeout = 1500 * time.Millisecond
	tk := startTicker()
	defer close(tk.stop)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	p, err := tpl.Start(ctx, sandbox.Command{Args: []string{"/bin/true"}})
	took := time.Since(start)
	if err == nil {
		p.Kill()
		p.Wait()
		t.Fatalf("Start succeeded after %v; want a failure at the deadline", took)
	}
	t.Logf("Start returned after %v: %v", took, err)
	var ce *sandbox.ChildError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ce) || !errors.Is(err, sandbox.ErrSetup) {
		t.Errorf("%v (%T): want a *ChildError matching context.DeadlineExceeded and ErrSetup", err, err)
	}
	if took > timeout+2*time.Second {
		t.Errorf("Start returned %v after the deadline", took-timeout)
	}
	if !tk.tickedSince(start.Add(took)) {
		t.Errorf("no tick after Start returned: the program is frozen")
	}
	gap := time.Duration(tk.maxGap.Load())
	t.Logf("largest gap between ticks: %v", gap)
	if gap > 500*time.Millisecond {
		t.Errorf("the ticks stopped for %v: the start froze the program", gap)
	}
	testutil.NoNewFDs(t, fds)
	testutil.NoChildren(t)
	if left := ownerCgroups(t); len(left) > 0 {
		t.Errorf("cgroups left behind: %v", left)
	}
}

// TestStartChildKilled kills a child stuck before exec from outside: Start must
// fail, naming the signal, rather than return a Process that never ran.
func TestStartChildKilled(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, m := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
			t.Run(string(m), func(t *testing.T) {
				testutil.UnderWatchdog(t, 60*time.Second, func(t *testing.T) { killStuck(t, m) })
			})
		}
	})
}

func killStuck(t *testing.T, m sandbox.SpawnMode) {
	tpl, err := sandbox.NewBuilder(sandbox.WithSpawnMode(m), sandbox.WithSeccompProfile(stuckExecve())).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	// The deadline is a safety net: the kill comes long before it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for {
			if pids := children(); len(pids) > 0 {
				time.Sleep(200 * time.Millisecond)
				syscall.Kill(pids[0], syscall.SIGKILL)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	p, err := tpl.Start(ctx, sandbox.Command{Args: []string{"/bin/true"}})
	if err == nil {
		st, _ := p.Wait()
		t.Fatalf("Start succeeded (%v) although the target never ran", st)
	}
	var ce *sandbox.ChildError
	if !errors.As(err, &ce) || !errors.Is(err, sandbox.ErrSetup) || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("%v (%T): want a *ChildError naming the kill", err, err)
	}
	t.Log(err)
	testutil.NoChildren(t)
}

// children returns the pids of this process's children.
func children() []int {
	tasks, _ := os.ReadDir("/proc/self/task")
	var pids []int
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			var pid int
			for _, c := range f {
				pid = pid*10 + int(c-'0')
			}
			pids = append(pids, pid)
		}
	}
	return pids
}
