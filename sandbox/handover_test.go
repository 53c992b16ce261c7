package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// joinedFirst starts a sandbox that sleeps and returns it with the options that
// join each of its namespaces (its user namespace first, where it has one), no
// init, and its pid namespace's link.
func joinedFirst(t *testing.T) (first *sandbox.Process, opts []sandbox.Option, pidNS string) {
	t.Helper()
	first = sandboxtest.Sleeper(t)
	for _, k := range namespace.Kinds {
		link, _ := os.Readlink(k.Path(first.Pid()))
		if own, _ := os.Readlink(k.Path(os.Getpid())); link != own {
			opts = append(opts, sandbox.WithJoinNamespaceOf(k, first.Pid()))
		}
	}
	pidNS, err := os.Readlink(namespace.PID.Path(first.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	return first, opts, pidNS
}

// ownChildren lists the children of this process, from every thread's
// /proc/self/task/TID/children.
func ownChildren(t *testing.T) []int {
	t.Helper()
	files, _ := filepath.Glob("/proc/self/task/*/children")
	if len(files) == 0 {
		t.Skip("/proc/PID/task/TID/children: the kernel lacks CONFIG_PROC_CHILDREN")
	}
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(w)
			pids = append(pids, n)
		}
	}
	return pids
}

// onlyChild checks that the one child of this process is pid.
func onlyChild(t *testing.T, pid int) {
	t.Helper()
	if got := ownChildren(t); !slices.Equal(got, []int{pid}) {
		t.Errorf("the children of this process are %v, want only the first sandbox's %d", got, pid)
	}
}

// TestHandover: without an init, a sandbox that joins a running one's pid
// namespace runs its target in it, not as its PID 1, and the Process is the
// target: its Pid's pid namespace is the joined one, its status comes back
// from Wait, and the child that joined the namespace is reaped.
func TestHandover(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first, opts, pidNS := joinedFirst(t)
		out, st := run(t, opts, "/bin/sh", "-c", "readlink /proc/self/ns/pid; echo $$; exit 7")
		if st.Code != 7 {
			t.Fatalf("status %v, want exit 7: %s", st, out)
		}
		lines := strings.Fields(out)
		if len(lines) != 2 || lines[0] != pidNS || lines[1] == "1" {
			t.Fatalf("the target says %q, want the pid namespace %s and a pid other than 1", out, pidNS)
		}
		onlyChild(t, first.Pid())

		tpl, err := sandbox.NewBuilder(opts...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.Readlink(namespace.PID.Path(p.Pid())); got != pidNS {
			t.Errorf("Pid %d is in the pid namespace %s, want the joined %s", p.Pid(), got, pidNS)
		}
		if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/comm"); string(comm) != "sleep\n" {
			t.Errorf("Pid %d is %q, want the target sleep", p.Pid(), comm)
		}
		if got := ownChildren(t); !slices.Contains(got, p.Pid()) || len(got) != 2 {
			t.Errorf("the children of this process are %v, want the first sandbox's and the target %d", got, p.Pid())
		}
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if st, err := p.Wait(); err != nil || st.Signal != syscall.SIGTERM {
			t.Fatalf("Wait = %v, %v; want killed by SIGTERM", st, err)
		}
		onlyChild(t, first.Pid())
	})
}

// TestHandoverFailedStep: a step of the target that fails after the handover
// is reported as that step's ChildError, and leaves no process behind.
func TestHandoverFailedStep(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first, opts, _ := joinedFirst(t)
		tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithWorkdir("/no/such/dir"))...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"true"}})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Stage != "workdir" || ce.Errno != syscall.ENOENT {
			if p != nil {
				p.Kill()
				p.Wait()
			}
			t.Fatalf("Start = %v, want the workdir step's ChildError with ENOENT", err)
		}
		onlyChild(t, first.Pid())
	})
}

// TestHandoverHeld: a held start in a joined pid namespace holds its target,
// the Process's pid, and runs it once released.
func TestHandoverHeld(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		_, opts, pidNS := joinedFirst(t)
		dir, fifo := heldDir(t)
		out, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithHold())...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{
			Args: []string{"/bin/sh", "-c", "readlink /proc/self/ns/pid"}, Stdout: out, HoldFIFO: fifo})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		if b, _ := os.ReadFile(out.Name()); len(b) != 0 || !p.Held() {
			t.Fatalf("the target ran before the release: %q", b)
		}
		if got, _ := os.Readlink(namespace.PID.Path(p.Pid())); got != pidNS {
			t.Errorf("the held Pid %d is in the pid namespace %s, want the joined %s", p.Pid(), got, pidNS)
		}
		if err := p.Release(context.Background()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Fatalf("Wait = %v, %v", st, err)
		}
		if b, _ := os.ReadFile(out.Name()); string(b) != pidNS+"\n" {
			t.Errorf("the released target said %q, want %s", b, pidNS)
		}
	})
}

// TestHandoverDetached: a detached start that hands over names its target in
// what Detach returns, in the joined pid namespace, and Remove kills and reaps
// it, as an OCI runtime's create and delete do.
func TestHandoverDetached(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first, opts, pidNS := joinedFirst(t)
		tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithDetached())...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Detach()
		if err != nil {
			p.Kill()
			p.Wait()
			t.Fatal(err)
		}
		if got, _ := os.Readlink(namespace.PID.Path(d.Pid)); got != pidNS || d.StartTime == 0 {
			t.Errorf("Detached names pid %d (start time %d) in the pid namespace %s, want the target in %s", d.Pid, d.StartTime, got, pidNS)
		}
		if err := sandbox.Remove(d); err != nil {
			t.Fatal(err)
		}
		onlyChild(t, first.Pid())
	})
}

// TestHandoverContext: the end of the start's context kills the target that
// the start handed over to, and Wait says so.
func TestHandoverContext(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first, opts, _ := joinedFirst(t)
		tpl, err := sandbox.NewBuilder(opts...).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		p, err := tpl.Start(ctx, sandbox.Command{Args: []string{"sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := p.Wait(); !errors.Is(err, context.DeadlineExceeded) || st == nil || st.Signal != syscall.SIGKILL {
			t.Fatalf("Wait = %v, %v; want killed at the deadline", st, err)
		}
		onlyChild(t, first.Pid())
	})
}

// TestHandoverNotVfork: vfork mode cannot hand over, since the parent reaps the
// child that joined the pid namespace; Build says so by field.
func TestHandoverNotVfork(t *testing.T) {
	_, err := sandbox.NewBuilder(sandbox.WithJoinNamespace(namespace.PID, "/proc/self/ns/pid"),
		sandbox.WithSpawnMode(sandbox.SpawnVfork)).Build()
	var se *sandbox.SpecError
	if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &se) || se.Field != "spawn" {
		t.Fatalf("Build = %v, want an invalid-spec *SpecError naming spawn", err)
	}
}
