package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// envRelease makes the test binary release the held sandbox waiting on the FIFO
// it names, as an OCI runtime's start does, and exit.
const envRelease = "PADDOCK_TEST_RELEASE"

// envCreate makes the test binary create a detached, held sandbox on the
// directory it names (the FIFO exec.fifo in it, bound at /out), print what
// Remove needs as JSON and exit at once, as an OCI runtime's create does.
const envCreate = "PADDOCK_TEST_CREATE"

func init() {
	if fifo := os.Getenv(envRelease); fifo != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sandbox.Release(ctx, fifo); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv(envCreate); dir != "" {
		d, err := createDetached(dir)
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		b, _ := json.Marshal(d)
		os.Stdout.Write(append(b, '\n'))
		os.Exit(0)
	}
}

// createDetached starts a held, detached sandbox whose target marks that it
// ran in dir, and gives it up.
func createDetached(dir string) (*sandbox.Detached, error) {
	tpl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithDetached(), sandbox.WithBind(dir, "/out", false)).Build()
	if err != nil {
		return nil, err
	}
	defer tpl.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args: []string{"/bin/sh", "-c", "echo ran > /out/ran; exec sleep 60"}, HoldFIFO: filepath.Join(dir, "exec.fifo")})
	if err != nil {
		return nil, err
	}
	return p.Detach()
}

// heldDir makes a directory with the FIFO exec.fifo in it, writable by the
// target's user.
func heldDir(t *testing.T) (dir, fifo string) {
	t.Helper()
	dir = t.TempDir()
	fifo = filepath.Join(dir, "exec.fifo")
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil { // past the umask
		t.Fatal(err)
	}
	return dir, fifo
}

// startHeld starts a held sandbox that marks in dir, bound at /out, that it ran.
func startHeld(t *testing.T, ctx context.Context, opts ...sandbox.Option) (p *sandbox.Process, dir, fifo string) {
	t.Helper()
	dir, fifo = heldDir(t)
	tpl, err := sandbox.NewBuilder(append([]sandbox.Option{sandbox.WithHold(), sandbox.WithBind(dir, "/out", false)}, opts...)...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	p, err = tpl.Start(ctx, sandbox.Command{Args: []string{"/bin/sh", "-c", "echo ran > /out/ran"}, HoldFIFO: fifo})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return p, dir, fifo
}

// notRun checks that the target has not run yet: nothing in dir, the process
// still there.
func notRun(t *testing.T, p *sandbox.Process, dir string) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Fatal("the target ran before the release")
	}
	if err := p.Signal(0); err != nil {
		t.Fatalf("the held sandbox is gone: %v", err)
	}
}

// ranOK waits for p and checks that its target ran.
func ranOK(t *testing.T, p *sandbox.Process, dir string) {
	t.Helper()
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("Wait: %v %v", st, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ran")); err != nil || string(b) != "ran\n" {
		t.Errorf("the target did not run after the release: %q %v", b, err)
	}
}

// TestHold: a held start does not run its target until it is released in
// process, and then runs it.
func TestHold(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		p, dir, _ := startHeld(t, context.Background())
		if !p.Held() {
			t.Error("Held() is false after the start")
		}
		notRun(t, p, dir)
		if err := p.Release(context.Background()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if p.Held() {
			t.Error("Held() is true after the release")
		}
		ranOK(t, p, dir)
	})
}

// TestHoldInit: with an init, the init runs and the target is held.
func TestHoldInit(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		p, dir, _ := startHeld(t, context.Background(), sandbox.WithInit())
		notRun(t, p, dir)
		if err := p.Release(context.Background()); err != nil {
			t.Fatalf("Release: %v", err)
		}
		ranOK(t, p, dir)
	})
}

// TestHoldExecFailure: a target that cannot be executed fails the start of a
// held sandbox, before it holds, as runc's create fails, with the errno that
// execve would give: a path not there, a name no PATH directory holds, a
// directory, a file without execute permission. A file that is executable
// holds. As root and as uid 65534.
func TestHoldExecFailure(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir, fifo := heldDir(t)
		if err := os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "prog"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		tpl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithBind(dir, "/out", false)).Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer tpl.Close()
		for _, c := range []struct {
			args  []string
			errno syscall.Errno
		}{
			{[]string{"/no/such/program"}, syscall.ENOENT},
			{[]string{"no-such-program-in-path"}, syscall.ENOENT},
			{[]string{"/etc"}, syscall.EACCES},
			{[]string{"/out/noexec"}, syscall.EACCES},
			{[]string{"/out/prog"}, 0},
		} {
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: c.args, HoldFIFO: fifo})
			if c.errno == 0 {
				if err != nil {
					t.Fatalf("%s: Start: %v", c.args[0], err)
				}
				p.Kill()
				p.Wait()
				continue
			}
			var ce *sandbox.ChildError
			if !errors.As(err, &ce) || ce.Stage != "exec" || ce.Errno != c.errno {
				t.Errorf("%s: Start: %v; want a *ChildError of stage exec with %v", c.args[0], err, c.errno)
			}
			if err == nil {
				p.Kill()
				p.Wait()
			}
		}
	})
}

// TestHoldReleasedByAnotherProcess: another process releases the sandbox by its
// FIFO alone, as an OCI runtime's start does.
func TestHoldReleasedByAnotherProcess(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		p, dir, fifo := startHeld(t, context.Background())
		notRun(t, p, dir)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envRelease+"="+fifo)
		if out, err := cmd.CombinedOutput(); err != nil {
			p.Kill()
			p.Wait()
			t.Fatalf("the releasing process: %v: %s", err, out)
		}
		ranOK(t, p, dir)
	})
}

// TestHoldSetupFailure: a step that fails before the hold fails the start as
// always, leaving nothing behind.
func TestHoldSetupFailure(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		_, fifo := heldDir(t)
		tpl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithWorkdir("/no/such/dir")).Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer tpl.Close()
		before := testutil.OpenFDs(t)
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: fifo})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Stage != "workdir" || !errors.Is(err, syscall.ENOENT) {
			if p != nil {
				p.Kill()
				p.Wait()
			}
			t.Fatalf("Start: %v; want a *ChildError of stage workdir, ENOENT", err)
		}
		if after := testutil.OpenFDs(t); after != before {
			t.Errorf("descriptors: %d before the start, %d after", before, after)
		}
	})
}

// TestHoldContext: the end of the start's context kills a held sandbox, whose
// target never runs, and a Release that waits with an ended context stops.
func TestHoldContext(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		p, dir, _ := startHeld(t, ctx)
		notRun(t, p, dir)
		cancel()
		st, err := p.Wait()
		if !errors.Is(err, context.Canceled) || st == nil || st.Signal != syscall.SIGKILL {
			t.Fatalf("Wait: %v, %v; want the context's error and SIGKILL", st, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Error("the target ran")
		}
	})
}

// TestHoldCommand: a held Template needs a FIFO for each start, a FIFO that is
// one, and another Template none.
func TestHoldCommand(t *testing.T) {
	dir, fifo := heldDir(t)
	held, err := sandbox.NewBuilder(sandbox.WithHold()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	plain, err := sandbox.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for _, c := range []struct {
		name string
		tpl  *sandbox.Template
		fifo string
	}{
		{"no FIFO", held, ""},
		{"not a FIFO", held, dir},
		{"missing", held, filepath.Join(dir, "missing")},
		{"not held", plain, fifo},
	} {
		p, err := c.tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, HoldFIFO: c.fifo})
		if err == nil {
			p.Kill()
			p.Wait()
		}
		if !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("%s: %v, want ErrInvalidSpec", c.name, err)
		}
	}
}

// TestHoldPlan: the Plan shows the hold, in fork mode, and a detached sandbox
// without a parent-death signal; Build refuses what cannot work.
func TestHoldPlan(t *testing.T) {
	pl, err := sandbox.NewBuilder(sandbox.WithHold(), sandbox.WithDetached()).Spec().Plan()
	if err != nil {
		t.Fatal(err)
	}
	if sp := pl.Spawn; sp.Hold != plan.HoldBeforeExec || sp.Mode != plan.Fork || !sp.Detached || sp.ParentDeathSignal != 0 {
		t.Errorf("Plan.Spawn %+v: want held, fork mode, detached, no parent-death signal", sp)
	}
	for _, c := range []struct {
		name string
		opts []sandbox.Option
		want error
	}{
		{"vfork", []sandbox.Option{sandbox.WithHold(), sandbox.WithSpawnMode(sandbox.SpawnVfork)}, sandbox.ErrInvalidSpec},
		{"landlock", []sandbox.Option{sandbox.WithHold(), sandbox.WithLandlock(false, landlock.Rule{Path: "/", Access: landlock.Read | landlock.Write})}, sandbox.ErrNotSupported},
		{"detached with a wall time", []sandbox.Option{sandbox.WithDetached(), func(s *sandbox.Spec) { s.Limits.WallTime = time.Minute }}, sandbox.ErrNotSupported},
		{"detached with a parent-death signal", []sandbox.Option{sandbox.WithDetached(), func(s *sandbox.Spec) { s.ParentDeathSignal = 9 }}, sandbox.ErrNotSupported},
	} {
		tpl, err := sandbox.NewBuilder(c.opts...).Build()
		if err == nil {
			tpl.Close()
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: Build: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestDetached: a detached, held sandbox outlives the process that created it;
// released from here it runs its target; Remove kills it, reaps it and removes
// its cgroup, leaving nothing behind (testutil.Main checks). This process
// stands in for an engine's shim: a child subreaper, to which the orphaned
// sandbox comes.
func TestDetached(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		var was int
		unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&was)), 0, 0, 0)
		if was == 0 {
			if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		}
		dir, fifo := heldDir(t)
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envCreate+"="+dir)
		out, err := cmd.Output()
		var d sandbox.Detached
		if err != nil || json.Unmarshal(out, &d) != nil || d.Pid <= 0 {
			t.Fatalf("the creating process: %v: %s", err, out)
		}
		defer sandbox.Remove(&d)
		t.Logf("detached: %+v", d)
		if unix.Kill(d.Pid, 0) != nil {
			t.Fatalf("the sandbox (pid %d) did not outlive its creator", d.Pid)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
			t.Fatal("the target ran before the release")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sandbox.Release(ctx, fifo); err != nil {
			t.Fatalf("Release: %v", err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(filepath.Join(dir, "ran")); string(b) == "ran\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the target did not run after the release")
			}
		}
		if err := sandbox.Remove(&d); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if b, err := os.ReadFile("/proc/" + strconv.Itoa(d.Pid) + "/stat"); err == nil {
			t.Errorf("the sandbox is still there after Remove (killed and reaped): %s", b)
		}
		for _, c := range d.Cgroup {
			if _, err := os.Stat(c); err == nil {
				t.Errorf("its cgroup %s is still there", c)
			}
		}
	})
}
