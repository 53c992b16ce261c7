package sandbox_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// pid1View is what sysprobe's pid1 mode learned of PID 1 from one source.
type pid1View struct {
	errno  syscall.Errno
	found  string // indexes of the secrets found, or "-"
	detail string
}

// probePID1 runs sysprobe's pid1 mode in a sandbox built from opts and returns
// its findings by source, with the probe's own pid under "self".
func probePID1(t *testing.T, probe string, opts []sandbox.Option, secrets ...string) map[string]pid1View {
	t.Helper()
	tpl, err := sandbox.NewBuilder(withProbe(opts, probe)...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	var out strings.Builder
	st, err := tpl.Run(t.Context(), sandbox.Command{
		Args:   append([]string{probe, "pid1"}, secrets...),
		Env:    []string{"PATH=/usr/bin:/bin"},
		Stdout: &out, Stderr: &out,
	})
	if err != nil || !st.Success() {
		t.Fatalf("sysprobe pid1: %v %v\n%s", st, err, out.String())
	}
	views := map[string]pid1View{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			t.Fatalf("sysprobe pid1 printed %q", line)
		}
		n, err1 := strconv.Atoi(f[1])
		detail, err2 := strconv.Unquote(f[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("sysprobe pid1 printed %q", line)
		}
		views[f[0]] = pid1View{errno: syscall.Errno(n), found: f[2], detail: detail}
	}
	return views
}

func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "paddock-secret-" + hex.EncodeToString(b)
}

func refused(e syscall.Errno) bool { return e == syscall.EACCES || e == syscall.EPERM }

// TestInitHoldsNothingOfTheCaller looks at PID 1 from inside sandboxes with an init:
// the caller holds one secret in its environment and another only in its heap, and
// the target searches what /proc/1 and ptrace give it. In the non-privileged
// presets PID 1 is out of reach (it is not dumpable, and the target lacks
// CAP_SYS_PTRACE); in the privileged ones, which hold CAP_SYS_PTRACE, it may be read,
// and holds neither secret, no descriptor and no environment: it is the project's
// init, executed from its sealed memfd, not a copy of the caller.
func TestInitHoldsNothingOfTheCaller(t *testing.T) {
	probe := sysprobe(t)
	testutil.Modes(t, func(t *testing.T) {
		envSecret, heapSecret := randomSecret(t), randomSecret(t)
		t.Setenv("PADDOCK_TEST_SECRET", envSecret)
		held := []byte(heapSecret)
		for _, c := range []struct {
			name       string
			privileged bool
		}{{"default", false}, {"privileged", true}} {
			t.Run(c.name, func(t *testing.T) {
				opts := []sandbox.Option{sandbox.WithInit()}
				if c.privileged {
					opts = append(opts, sandbox.Privileged())
				}
				v := probePID1(t, probe, opts, envSecret, heapSecret)
				checkPID1(t, v, c.privileged, c.privileged)
			})
		}
		runtime.KeepAlive(held)
	})
}

// checkPID1 holds the findings of sysprobe pid1 to what an init that holds nothing
// of the caller shows. With privileged false, every source but the command line
// (world-readable whatever the dumpable flag) must be refused. With privileged
// true each may be readable instead, and then must show nothing of the caller: an
// empty environment, no mapped file but the init's memfd, no secret in memory;
// scanned demands that the memory was in fact read, so that the test proves
// something.
func checkPID1(t *testing.T, v map[string]pid1View, privileged, scanned bool) {
	t.Helper()
	for _, k := range []string{"self", "environ", "cmdline", "maps", "mem", "fd", "ptrace-seize", "ptrace-attach"} {
		if _, ok := v[k]; !ok {
			t.Fatalf("sysprobe pid1 reported nothing on %s: %v", k, v)
		}
		if v[k].found != "-" {
			t.Errorf("%s of PID 1 holds the caller's secrets %s (errno %d, %q)", k, v[k].found, v[k].errno, v[k].detail)
		}
	}
	self := v["self"].errno // the probe prints its own pid there
	if want := initName + "\x00" + strconv.Itoa(int(self)) + "\x00"; v["cmdline"].errno != 0 || v["cmdline"].detail != want {
		t.Errorf("cmdline of PID 1: errno %d, %q; want %q", v["cmdline"].errno, v["cmdline"].detail, want)
	}
	// The directory belongs to root inside, who may list it: it must be empty.
	if fd := v["fd"]; fd.errno == 0 && fd.detail != "" || fd.errno != 0 && !refused(fd.errno) {
		t.Errorf("/proc/1/fd: errno %d, descriptors %q; want none", fd.errno, fd.detail)
	}
	for _, k := range []string{"environ", "maps", "mem", "ptrace-seize", "ptrace-attach"} {
		if e := v[k].errno; !refused(e) && (!privileged || e != 0) {
			t.Errorf("%s of PID 1: errno %d (%q), want EACCES or EPERM", k, e, v[k].detail)
		}
	}
	if !privileged {
		return
	}
	if e := v["environ"]; e.errno == 0 && e.detail != "" {
		t.Errorf("environ of PID 1: %q; want an empty environment", e.detail)
	}
	if m := v["maps"]; m.errno == 0 {
		for _, line := range strings.Split(strings.TrimSpace(m.detail), "\n") {
			f := strings.Fields(line)
			if len(f) > 5 && strings.HasPrefix(f[5], "/") && !strings.HasPrefix(f[5], "/memfd:"+initName) {
				t.Errorf("PID 1 maps a file other than the init's memfd: %q", line)
			}
		}
	}
	if m := v["mem"]; scanned && (m.errno != 0 || m.detail == "0 bytes") {
		t.Errorf("privileged: the memory of PID 1 was not scanned (errno %d, %s): the test proves nothing", m.errno, m.detail)
	}
	t.Logf("privileged: environ %d, maps %d, mem %d (%s), ptrace seize %d, attach %d",
		v["environ"].errno, v["maps"].errno, v["mem"].errno, v["mem"].detail, v["ptrace-seize"].errno, v["ptrace-attach"].errno)
}

// initName is the init's argv[0].
const initName = "paddock-init"

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

// TestInitWithLandlock runs an init under Landlock rules that let the target read
// /proc. PID 1 does not take the target's ruleset, which would forbid executing
// the init's memfd, and the target still cannot reach it: a process in a Landlock
// domain can neither trace nor open the memory of one outside it, whatever its
// capabilities, so even a privileged target is refused.
func TestInitWithLandlock(t *testing.T) {
	if _, err := landlock.ABI(); errors.Is(err, landlock.ErrNotSupported) {
		t.Skipf("Landlock: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	probe := sysprobe(t)
	testutil.Modes(t, func(t *testing.T) {
		rules := sandbox.WithLandlock(true,
			landlock.Rule{Path: "/usr", Access: landlock.Read | landlock.Execute},
			landlock.Rule{Path: filepath.Dir(probe), Access: landlock.Read | landlock.Execute},
			landlock.Rule{Path: "/proc", Access: landlock.Read},
		)
		for _, c := range initPresets {
			t.Run(c.name, func(t *testing.T) {
				v := probePID1(t, probe, append(c.opts, rules))
				// PID 1's memory and ptrace are refused to every Landlocked target;
				// this kernel lets one that holds CAP_SYS_PTRACE read environ and
				// maps (PTRACE_MODE_READ), which show nothing of the caller.
				checkPID1(t, v, c.name == "privileged", false)
				if c.name == "privileged" && (!refused(v["mem"].errno) || !refused(v["ptrace-attach"].errno)) {
					t.Errorf("a Landlocked target reached the memory of PID 1 outside its domain: mem %d, ptrace %d", v["mem"].errno, v["ptrace-attach"].errno)
				}
			})
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
					var ue *sandbox.UnsupportedError
					if !errors.As(err, &ue) || ue.Field != "init" || !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), c.rule.Names[0]) {
						t.Fatalf("Build: %v; want an *UnsupportedError for the init naming %s", err, c.rule.Names[0])
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
		tpl, err := sandbox.NewBuilder(sandbox.WithSeccompProfile(prof), sandbox.WithInit()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var out bytes.Buffer
		p, err := tpl.Start(t.Context(), sandbox.Command{
			Args:   []string{"/bin/sh", "-c", "mkdir /tmp/notified; echo rc=$?"},
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		l := p.SeccompListener()
		if l == nil {
			p.Kill()
			p.Wait()
			t.Fatal("no listener")
		}
		// struct seccomp_notif (80 bytes) in, struct seccomp_notif_resp (24) out:
		// refuse with EROFS, as TestSeccompNotify does.
		var req [80]byte
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, l.Fd(), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req[0]))); e != 0 {
			t.Fatalf("NOTIF_RECV: %v", e)
		}
		var resp [24]byte
		copy(resp[:8], req[:8])
		*(*int32)(unsafe.Pointer(&resp[16])) = -int32(unix.EROFS)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, l.Fd(), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp[0]))); e != 0 {
			t.Fatalf("NOTIF_SEND: %v", e)
		}
		if _, err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "Read-only file system") {
			t.Fatalf("the supervisor's answer did not reach the target: %q", out.String())
		}
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
		var ue *sandbox.UnsupportedError
		if err == nil {
			tpl.Close()
		}
		if !errors.As(err, &ue) || ue.Field != "init" || !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), "memfd_noexec = 2") {
			t.Fatalf("Build under vm.memfd_noexec=2: %v; want an *UnsupportedError for the init naming the setting", err)
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
