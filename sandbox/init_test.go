package sandbox_test

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// initPresets are the presets in which an init applies, each for root and, through
// testutil.Modes, for uid 65534.
var initPresets = []struct {
	name string
	opts []sandbox.Option
}{
	{"default", []sandbox.Option{sandbox.WithInit()}},
	{"privileged", []sandbox.Option{sandbox.WithInit(), sandbox.Privileged()}},
}

// TestInitReapsForwardsAndExits holds the init to its work in every preset: the
// target's exit code comes back, 128+N when signal N killed it; orphans are reaped;
// signals sent to the sandbox reach the target.
func TestInitReapsForwardsAndExits(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range initPresets {
			t.Run(c.name, func(t *testing.T) {
				tpl, err := sandbox.NewBuilder(c.opts...).Build()
				if err != nil {
					t.Fatal(err)
				}
				defer tpl.Close()
				if out, st := runTemplate(t, tpl, "/bin/sh", "-c", "exit 3"); st.Code != 3 {
					t.Errorf("exit 3 through the init: %v %s", st, out)
				}
				// The target is not PID 1: its own SIGKILL kills it.
				if out, st := runTemplate(t, tpl, "/bin/sh", "-c", "kill -KILL $$"); st.Code != 128+9 {
					t.Errorf("a target killed by SIGKILL: %v %s, want exit 137", st, out)
				}
				// Two orphans end while the target sleeps: the init reaps them.
				script := `(sleep 0.05 &); (sleep 0.05 &); sleep 0.4
for f in /proc/[0-9]*/stat; do read -r l < "$f" && set -- ${l##*) } && [ "$1" = Z ] && echo "zombie ${f%/stat}"; done; echo done`
				if out, st := runTemplate(t, tpl, "/bin/sh", "-c", script); !st.Success() || strings.TrimSpace(out) != "done" {
					t.Errorf("orphans: %v\n%s", st, out)
				}
				forwarded(t, tpl)
			})
		}
	})
}

// forwarded sends SIGUSR1, then SIGTERM, to a sandbox of tpl whose shell traps
// both, and checks that both reached it through the init.
func forwarded(t *testing.T, tpl *sandbox.Template) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := tpl.Start(t.Context(), sandbox.Command{
		Args:   []string{"/bin/sh", "-c", `trap "echo usr1" USR1; trap "exit 42" TERM; echo ready; while :; do sleep 0.02; done`},
		Stdout: w,
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(r)
	if l, err := lines.ReadString('\n'); l != "ready\n" {
		p.Kill()
		p.Wait()
		t.Fatalf("read %q, %v; want ready", l, err)
	}
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if l, err := lines.ReadString('\n'); l != "usr1\n" {
		p.Kill()
		p.Wait()
		t.Fatalf("after SIGUSR1 read %q, %v; want usr1", l, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || st.Code != 42 {
		t.Errorf("after SIGTERM: %v %v, want exit 42 from the target's trap", st, err)
	}
}

// TestInitWithManyDescriptors gives the target every descriptor a sandbox can
// have: the child's shuffle overwrites 0..63, and the init's memfd, which lives
// above them, must survive it and stay out of the target's hands; and a sandbox
// whose descriptor limit lies below the memfd's number still starts its init.
func TestInitWithManyDescriptors(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder(sandbox.WithInit()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var extra []*os.File
		for len(extra) < 64-3 {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			extra = append(extra, f)
		}
		var out strings.Builder
		st, err := tpl.Run(t.Context(), sandbox.Command{
			Args:       []string{"/bin/sh", "-c", `ls -l /proc/self/fd/ | grep -c memfd; ls /proc/self/fd | wc -l`},
			Stdout:     &out,
			ExtraFiles: extra,
		})
		if err != nil {
			t.Fatal(err)
		}
		// ls sees the 64 descriptors and the one it reads the directory with.
		if f := strings.Fields(out.String()); !st.Success() || len(f) != 2 || f[0] != "0" || f[1] != "65" {
			t.Fatalf("%v: memfd descriptors, descriptors: %q; want 0 and 65", st, out.String())
		}
		// A descriptor limit below the memfd's number does not stop its exec: the
		// limit bounds new descriptors only.
		low, err := sandbox.NewBuilder(sandbox.WithInit(), sandbox.WithRlimit("RLIMIT_NOFILE", 8, 8)).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer low.Close()
		if out, st := runTemplate(t, low, "/bin/sh", "-c", "ulimit -n; exit 4"); st.Code != 4 || strings.TrimSpace(out) != "8" {
			t.Errorf("under RLIMIT_NOFILE 8: %v %q", st, out)
		}
	})
}

// withRule returns Docker's default profile with r ahead of its rules.
func withRule(r seccomp.Rule) seccomp.Profile {
	prof := seccomp.Default(caps.DockerDefault.Names())
	prof.Syscalls = append([]seccomp.Rule{r}, prof.Syscalls...)
	return prof
}

// TestInitSeccomp checks the target's seccomp filter against the init's system
// calls at Build: PID 1 loads it before it executes the init. A filter that
// refuses execveat, or kills on a call the init makes, is reported as not
// supported; one that only refuses close_range (the init holds no descriptor
// anyway, all were closed on exec) works.
func TestInitSeccomp(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name string
			rule seccomp.Rule
			ok   bool
		}{
			{"execveat refused", seccomp.Rule{Names: []string{"execveat"}, Action: seccomp.ActErrno}, false},
			{"wait4 kills", seccomp.Rule{Names: []string{"wait4"}, Action: seccomp.ActKillProcess}, false},
			{"close_range refused", seccomp.Rule{Names: []string{"close_range"}, Action: seccomp.ActErrno}, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				prof := sandbox.WithSeccompProfile(withRule(c.rule))
				tpl, err := sandbox.NewBuilder(prof, sandbox.WithInit()).Build()
				if !c.ok {
					var ue *sandbox.SpecError
					if !errors.As(err, &ue) || ue.Field != "init" || !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), c.rule.Names[0]) {
						t.Fatalf("Build: %v; want a not-supported *SpecError for the init naming %s", err, c.rule.Names[0])
					}
					if tpl, err := sandbox.NewBuilder(prof).Build(); err != nil {
						t.Errorf("the same profile without an init: %v", err)
					} else {
						tpl.Close()
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer tpl.Close()
				if out, st := runTemplate(t, tpl, "/bin/sh", "-c", "exit 5"); st.Code != 5 {
					t.Errorf("%v %s, want exit 5", st, out)
				}
			})
		}
	})
}

// TestInitWithSeccompListener: with a notifying rule, PID 1 loads the target's
// filter without a listener, so the one the parent receives is the target's.
func TestInitWithSeccompListener(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		prof := withRule(seccomp.Rule{Names: []string{"mkdir", "mkdirat"}, Action: seccomp.ActNotify})
		superviseMkdir(t, sandbox.WithSeccompProfile(prof), sandbox.WithInit())
	})
}

// envNoexec marks the copy of the test binary that TestInitMemfdNoexec runs in a
// pid namespace of its own.
const envNoexec = "PADDOCK_TEST_MEMFD_NOEXEC"

// TestInitMemfdNoexec sets vm.memfd_noexec to 2 (no executable memfd at all) in a
// new pid namespace, where the setting is the namespace's own (Linux 6.3), and
// builds a sandbox with an init there: Build must refuse with an error matching
// ErrNotSupported. The host's setting is read before and after, unchanged.
func TestInitMemfdNoexec(t *testing.T) {
	const knob = "/proc/sys/vm/memfd_noexec"
	if os.Getenv(envNoexec) != "" {
		if err := os.WriteFile(knob, []byte("2"), 0); err != nil {
			t.Fatalf("set vm.memfd_noexec in the new pid namespace: %v", err)
		}
		tpl, err := sandbox.NewBuilder(sandbox.WithInit()).Build()
		var ue *sandbox.SpecError
		if err == nil {
			tpl.Close()
		}
		if !errors.As(err, &ue) || ue.Field != "init" || !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "memfd_noexec = 2") {
			t.Fatalf("Build under vm.memfd_noexec=2: %v; want a not-supported *SpecError for the init naming the setting", err)
		}
		t.Log(err)
		return
	}
	before, err := os.ReadFile(knob)
	if err != nil {
		t.Skipf("vm.memfd_noexec (Linux 6.3): %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("setting vm.memfd_noexec in a pid namespace takes host root: /proc/sys is not writable from a user namespace")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run", "^TestInitMemfdNoexec$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envNoexec+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("in a new pid namespace: %v\n%s", err, out)
	}
	t.Logf("in a new pid namespace:\n%s", out)
	after, err := os.ReadFile(knob)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the host's vm.memfd_noexec changed: %q, now %q (%v)", before, after, err)
	}
}
