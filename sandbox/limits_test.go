package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// planOf returns the limit plan of the Spec that opts make, for the caller.
func planOf(t *testing.T, opts ...sandbox.Option) *sandbox.LimitPlan {
	t.Helper()
	lp, err := sandbox.NewBuilder(opts...).Spec().PlanLimits()
	if err != nil {
		t.Fatalf("PlanLimits: %v", err)
	}
	return lp
}

// startTpl builds opts and starts args, with stdout and stderr into out.
func startTpl(t *testing.T, opts []sandbox.Option, out *bytes.Buffer, args ...string) (*sandbox.Template, *sandbox.Process) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	cmd := sandbox.Command{Args: args}
	if out != nil {
		cmd.Stdout, cmd.Stderr = out, out
	}
	p, err := tpl.Start(context.Background(), cmd)
	if err != nil {
		t.Fatalf("Start %q: %v", args, err)
	}
	return tpl, p
}

// TestDefaultPidsLimit: the presets bound a sandbox's processes to
// DefaultPidsLimit, in its cgroup where it has one and with RLIMIT_NPROC where it
// has none; WithPidsLimit changes the bound and WithPidsLimit(-1) removes it.
func TestDefaultPidsLimit(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name string
			opts []sandbox.Option
			want int64 // -1: no bound
		}{
			{"default", nil, sandbox.DefaultPidsLimit},
			{"WithPidsLimit(100)", []sandbox.Option{sandbox.WithPidsLimit(100)}, 100},
			{"WithPidsLimit(-1)", []sandbox.Option{sandbox.WithPidsLimit(-1)}, -1},
			{"WithPidsLimit(0)", []sandbox.Option{sandbox.WithPidsLimit(0)}, -1},
			{"WithoutCgroup", []sandbox.Option{sandbox.WithoutCgroup()}, sandbox.DefaultPidsLimit},
		} {
			t.Run(c.name, func(t *testing.T) {
				lp := planOf(t, c.opts...)
				fellBack := slices.Contains(lp.FellBack, sandbox.LimitPids)
				out, _ := run(t, c.opts, "/bin/sed", "-n", `s/^Max processes  *\([0-9a-z]*\) .*/\1/p`, "/proc/self/limits")
				nproc := strings.TrimSpace(out)
				_, p := startTpl(t, c.opts, nil, "/bin/sleep", "60")
				cgPids := int64(-1)
				if info, err := cgroup.Inspect(p.Pid()); err == nil && lp.Need.Version != 0 {
					cgPids = info.Pids
				}
				p.Kill()
				if _, err := p.Wait(); err != nil {
					t.Fatal(err)
				}
				t.Logf("plan: cgroup v%d, fell back %v; inside: RLIMIT_NPROC %s; cgroup pids.max %d", lp.Need.Version, lp.FellBack, nproc, cgPids)
				switch {
				case c.want > 0 && fellBack:
					if nproc != strconv.FormatInt(c.want, 10) {
						t.Errorf("no cgroup enforces pids here: RLIMIT_NPROC inside is %s, want %d", nproc, c.want)
					}
				case c.want > 0:
					if cgPids != c.want {
						t.Errorf("pids.max of the sandbox's cgroup: %d, want %d", cgPids, c.want)
					}
				default:
					if fellBack || cgPids != -1 && lp.Need.Version != 0 {
						t.Errorf("no bound wanted: fell back %v, pids.max %d", lp.FellBack, cgPids)
					}
				}
			})
		}
	})
}

// sandboxProcs counts the processes in the pid namespace of pid (its own included).
func sandboxProcs(pid int) int {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	if err != nil {
		return 0
	}
	ents, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if l, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns/pid")); err == nil && l == ns {
			n++
		}
	}
	return n
}

// TestForkBomb: a fork bomb in a default sandbox stops at DefaultPidsLimit (the
// cgroup rootful, RLIMIT_NPROC in the user namespace rootless on cgroup v1) and
// the sandbox ends when its wall-time limit kills it, leaving nothing behind.
func TestForkBomb(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		lp := planOf(t)
		requirePidsBound(t, lp)
		bash, err := exec.LookPath("bash")
		if err != nil {
			t.Skip("the fork bomb needs bash on the host, which the default root shows")
		}
		var out bytes.Buffer
		start := time.Now()
		_, p := startTpl(t, []sandbox.Option{sandbox.WithTimeLimit(2 * time.Second)}, &out,
			// The bomb starts in a subshell: the shell that waits for the limit
			// forks once, before the bomb, and then only execs. Each of the
			// bomb's shells keeps forking, and bash (unlike dash, which exits 2)
			// survives a refused fork, so that the bomb stays at the limit
			// rather than dying out.
			bash, "-c", "f() { while :; do f & done; }; (f); exec sleep 60")
		peak, cgPeak := 0, uint64(0)
		for time.Since(start) < 1500*time.Millisecond {
			peak = max(peak, sandboxProcs(p.Pid()))
			if st, err := p.Stats(); err == nil {
				cgPeak = max(cgPeak, st.PidsCurrent)
			}
			time.Sleep(100 * time.Millisecond)
		}
		st, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v after %v; peak %d processes in the pid namespace, %d in the cgroup; pids limit hit: %v",
			st, time.Since(start).Round(time.Millisecond), peak, cgPeak, st.PidsLimitHit)
		if st.Limit != sandbox.LimitWallTime || st.Signal != syscall.SIGKILL {
			t.Errorf("the bomb ended with %v, limit %q; want SIGKILL by the wall-time limit", st, st.Limit)
		}
		if peak > sandbox.DefaultPidsLimit || cgPeak > sandbox.DefaultPidsLimit {
			t.Errorf("peak %d processes (%d in the cgroup), above the default limit %d", peak, cgPeak, sandbox.DefaultPidsLimit)
		}
		if peak < sandbox.DefaultPidsLimit/2 {
			t.Errorf("peak %d processes: the bomb never came near the limit %d", peak, sandbox.DefaultPidsLimit)
		}
		if lp.Need.Version != 0 && !st.PidsLimitHit {
			t.Errorf("the cgroup's pids.events counted no refused fork")
		}
		if n := sandboxProcs(p.Pid()); n != 0 {
			t.Errorf("%d processes of the sandbox left", n)
		}
	})
}

// TestLimitCategories: each limit ends a run with ExitStatus.Limit naming it.
func TestLimitCategories(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Run("none", func(t *testing.T) {
			out, st := run(t, []sandbox.Option{sandbox.WithTimeLimit(time.Minute), sandbox.WithCPUTimeLimit(time.Minute),
				sandbox.WithOutputLimit(1 << 20)}, "/bin/sh", "-c", "echo hi")
			if !st.Success() || st.Limit != "" || out != "hi\n" {
				t.Fatalf("%v, limit %q, output %q", st, st.Limit, out)
			}
		})
		t.Run("wall-time", func(t *testing.T) { testWallTime(t) })
		t.Run("cpu-time", func(t *testing.T) { testCPUTime(t) })
		t.Run("memory", func(t *testing.T) { testMemory(t) })
		t.Run("pids", func(t *testing.T) { testPids(t) })
		t.Run("output", func(t *testing.T) { testOutput(t) })
	})
}

func testWallTime(t *testing.T) {
	start := time.Now()
	out, st := run(t, []sandbox.Option{sandbox.WithTimeLimit(200 * time.Millisecond)}, "/bin/sleep", "10")
	took := time.Since(start)
	if st.Limit != sandbox.LimitWallTime || st.Signal != syscall.SIGKILL || took > 5*time.Second {
		t.Fatalf("sleep 10 under a 200 ms limit: %v after %v, limit %q: %s", st, took, st.Limit, out)
	}
}

// testCPUTime runs a busy loop under a 1 s CPU limit: as PID 1 (which ignores
// SIGXCPU, so the kernel's SIGKILL or the cgroup's watch ends it), as a child of
// the shell and behind an init (SIGXCPU ends it).
func testCPUTime(t *testing.T) {
	limit := sandbox.WithCPUTimeLimit(time.Second)
	for _, c := range []struct {
		name string
		opts []sandbox.Option
		args []string
	}{
		{"PID 1", []sandbox.Option{limit}, []string{"/bin/sh", "-c", "while :; do :; done"}},
		{"child", []sandbox.Option{limit}, []string{"/bin/sh", "-c", "sh -c 'while :; do :; done'"}},
		{"init", []sandbox.Option{limit, sandbox.WithInit()}, []string{"/bin/sh", "-c", "while :; do :; done"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "init" {
				requireInit(t)
			}
			start := time.Now()
			out, st := run(t, c.opts, c.args...)
			took := time.Since(start)
			cpu := time.Duration(st.Rusage.Utime.Nano() + st.Rusage.Stime.Nano())
			t.Logf("%v after %v, %v of CPU time; cgroup %+v", st, took.Round(time.Millisecond), cpu.Round(time.Millisecond), st.Cgroup)
			if st.Limit != sandbox.LimitCPUTime || took > 10*time.Second {
				t.Fatalf("a busy loop under a 1 s CPU limit: %v after %v, limit %q: %s", st, took, st.Limit, out)
			}
		})
	}
}

func testMemory(t *testing.T) {
	alloc := []string{"/bin/sh", "-c", `x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived`}
	limit := sandbox.WithMemoryLimit(32 << 20)
	if _, err := sandbox.NewBuilder(limit).Spec().PlanLimits(); err == nil {
		out, st := run(t, []sandbox.Option{limit}, alloc...)
		if !st.OOMKilled || st.Limit != sandbox.LimitMemory || strings.Contains(out, "survived") {
			t.Fatalf("allocating 100 MB under a 32 MiB limit: %v, OOMKilled %v, limit %q: %s", st, st.OOMKilled, st.Limit, out)
		}
		return
	} else if !errors.Is(err, sandbox.ErrNotSupported) {
		t.Fatal(err)
	} else if !strings.Contains(err.Error(), "WithRlimitFallback") {
		t.Fatalf("the refusal of a memory limit does not name the fallback: %v", err)
	}
	// No memory cgroup for this caller: RLIMIT_AS instead, when asked for.
	opts := []sandbox.Option{limit, sandbox.WithRlimitFallback(sandbox.LimitMemory, sandbox.LimitPids)}
	if lp := planOf(t, opts...); !slices.Contains(lp.FellBack, sandbox.LimitMemory) {
		t.Fatalf("the memory limit did not fall back: %+v", lp)
	}
	out, st := run(t, opts, "/bin/sh", "-c", "ulimit -v; "+alloc[2])
	t.Logf("%v: %s", st, out)
	if !strings.HasPrefix(out, strconv.Itoa(32<<10)+"\n") || strings.Contains(out, "survived") || st.Success() {
		t.Fatalf("allocating 100 MB under RLIMIT_AS of 32 MiB: %v: %s", st, out)
	}
	if st.Limit != "" {
		t.Fatalf("RLIMIT_AS makes the allocation fail; nothing can tell that it ended the run, yet limit is %q", st.Limit)
	}
}

// testPids forks more processes than the limit from the shell itself, which fails
// when a fork does.
func testPids(t *testing.T) {
	opts := []sandbox.Option{sandbox.WithPidsLimit(20), sandbox.WithTimeLimit(20 * time.Second)}
	lp := planOf(t, opts...)
	requirePidsBound(t, lp)
	out, st := run(t, opts, "/bin/sh", "-c", "for i in $(seq 100); do sleep 30 & done; echo forked")
	t.Logf("%v, limit %q, pids limit hit %v", st, st.Limit, st.PidsLimitHit)
	if st.Success() || strings.Contains(out, "forked") {
		t.Fatalf("forking 100 under a limit of 20: %v: %s", st, out)
	}
	want := sandbox.LimitPids
	if slices.Contains(lp.FellBack, sandbox.LimitPids) {
		want = "" // RLIMIT_NPROC: the fork failed, nothing counts it
	}
	if st.Limit != want || st.PidsLimitHit != (want != "") {
		t.Fatalf("forking 100 under a limit of 20: limit %q, pids limit hit %v; want %q", st.Limit, st.PidsLimitHit, want)
	}
}

func testOutput(t *testing.T) {
	const limit = 1 << 20
	opts := []sandbox.Option{sandbox.WithOutputLimit(limit), sandbox.WithTimeLimit(20 * time.Second)}
	out, st := run(t, opts, "/usr/bin/yes")
	if st.Limit != sandbox.LimitOutput || len(out) != limit || st.Signal != syscall.SIGKILL {
		t.Fatalf("yes under a 1 MiB output limit: %v, limit %q, %d bytes", st, st.Limit, len(out))
	}
	// An *os.File is counted too, and stdout and stderr count together.
	f, err := os.CreateTemp("", "paddock-output-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	st, err = tpl.Run(context.Background(), sandbox.Command{
		Args:   []string{"/bin/sh", "-c", "yes out & yes err >&2"},
		Stdout: f, Stderr: f,
	})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Limit != sandbox.LimitOutput || fi.Size() != limit {
		t.Fatalf("yes into a file, stdout and stderr: %v, limit %q, %d bytes", st, st.Limit, fi.Size())
	}
	// A terminal's output is not the copiers': refused.
	_, err = tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}, Terminal: true})
	if !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Fatalf("a terminal with an output limit: %v", err)
	}
}

// TestLimitErrors: bad limits fail Build with a SpecError naming them.
func TestLimitErrors(t *testing.T) {
	for name, opt := range map[string]sandbox.Option{
		"negative wall time": sandbox.WithTimeLimit(-time.Second),
		"negative cpu time":  sandbox.WithCPUTimeLimit(-time.Second),
		"negative output":    sandbox.WithOutputLimit(-1),
		"no such fallback":   sandbox.WithRlimitFallback(sandbox.LimitOutput),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sandbox.NewBuilder(opt).Build()
			var se *sandbox.SpecError
			if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &se) {
				t.Fatalf("want a SpecError, got %v", err)
			}
		})
	}
}

// requireInit skips t where Build refuses an init (not amd64, vm.memfd_noexec 2).
func requireInit(t *testing.T) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(sandbox.WithInit()).Build()
	if errors.Is(err, sandbox.ErrNotSupported) {
		t.Skipf("an init: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	tpl.Close()
}

// requirePidsBound skips t where nothing bounds the processes of a default sandbox:
// no pids controller for a root caller, whom RLIMIT_NPROC does not bind.
func requirePidsBound(t *testing.T, lp *sandbox.LimitPlan) {
	t.Helper()
	if !slices.Contains(lp.FellBack, sandbox.LimitPids) {
		if !slices.Contains(lp.Need.Controllers, "pids") {
			t.Fatalf("the sandbox's processes are bounded neither by a pids cgroup nor by RLIMIT_NPROC: %+v", lp)
		}
		return
	}
	if os.Geteuid() == 0 {
		t.Skipf("no pids controller for this sandbox's cgroup (%+v), and RLIMIT_NPROC does not bind root", lp.Need)
	}
}
