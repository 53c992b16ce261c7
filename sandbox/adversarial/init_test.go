package adversarial_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// sysprobe returns internal/testutil/sysprobe built for uid 65534.
func sysprobe(t testing.TB) string { return testutil.Sysprobe(t) }

// withProbe makes the directory of the probe exe visible at the same path in the
// sandbox: it lies in a temporary directory, which the default root hides.
func withProbe(opts []sandbox.Option, exe string) []sandbox.Option {
	dir := filepath.Dir(exe)
	return append(opts[:len(opts):len(opts)], sandbox.WithBind(dir, dir, true))
}

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
