package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// sysprobe returns internal/testutil/sysprobe built for uid 65534.
func sysprobe(t testing.TB) string { return testutil.Sysprobe(t) }

// withProbe makes the directory of the probe exe visible at the same path in the
// sandbox: it lies in a temporary directory, which the default root hides.
func withProbe(opts []sandbox.Option, exe string) []sandbox.Option {
	dir := filepath.Dir(exe)
	return append(opts[:len(opts):len(opts)], sandbox.WithBind(dir, dir, true))
}

// procStatus returns the lines of /proc/self/status as the target sees them,
// keyed by field name.
func procStatus(t *testing.T, opts ...sandbox.Option) map[string]string {
	t.Helper()
	out, st := run(t, opts, "/bin/cat", "/proc/self/status")
	if !st.Success() {
		t.Fatalf("cat /proc/self/status: %v\n%s", st, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// wantStatus checks fields of procStatus's result.
func wantStatus(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func capHex(s caps.Set) string { return fmt.Sprintf("%016x", uint64(s)) }

func TestDefaultPrivileges(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		docker := capHex(caps.DockerDefault)
		if docker != "00000000a80425fb" {
			t.Fatalf("caps.DockerDefault is %s", docker)
		}
		wantStatus(t, procStatus(t), map[string]string{
			"CapEff": docker, "CapPrm": docker, "CapBnd": docker,
			"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
			"Seccomp": "2", "NoNewPrivs": "1",
		})

		// What a container must not do, with the shell tools a user would try.
		for _, c := range []struct{ name, script string }{
			{"unshare -U", "unshare -U true"},
			{"unshare -m", "unshare -m true"},
			{"mount", "mount -t tmpfs none /mnt"},
		} {
			wantRefused(t, c.name, c.script)
		}

		// Ordinary programs run: a shell and coreutils.
		script := `set -e
ls / >/dev/null; cat /etc/passwd >/dev/null; id -u; date >/dev/null; sort </etc/passwd >/dev/null
seq 3 | wc -l; mkdir -p /tmp/d && echo hi >/tmp/d/f && cat /tmp/d/f; rm -r /tmp/d
echo done`
		out, st := run(t, nil, "/bin/sh", "-c", script)
		if !st.Success() || out != "0\n3\nhi\ndone\n" {
			t.Errorf("ordinary programs: %v\n%s", st, out)
		}

		// The same with busybox's applets, which call the kernel their own way.
		t.Run("busybox", func(t *testing.T) {
			testutil.Require(t, "busybox", "busybox-static")
			wantRefused(t, "busybox mount", "busybox mount -t tmpfs none /mnt")
			wantRefused(t, "busybox unshare", "busybox unshare -U true")
			script := `set -e
busybox echo bb; busybox ls / >/dev/null; busybox ps >/dev/null; busybox sh -c 'echo $((6*7))'
busybox sha256sum /etc/passwd >/dev/null; busybox tar -cf /tmp/t.tar /etc/hostname 2>/dev/null; busybox wc -c </tmp/t.tar >/dev/null
echo done`
			out, st := run(t, nil, "/bin/sh", "-c", script)
			if !st.Success() || out != "bb\n42\ndone\n" {
				t.Errorf("busybox applets: %v\n%s", st, out)
			}
		})
	})
}

// wantRefused runs script in the default sandbox and checks that the kernel refused
// it with EPERM.
func wantRefused(t *testing.T, name, script string) {
	t.Helper()
	out, st := run(t, nil, "/bin/sh", "-c", script+" 2>&1")
	if st.Success() {
		t.Errorf("%s succeeded inside the default sandbox: %s", name, out)
	} else if !strings.Contains(out, "not permitted") && !strings.Contains(out, "permission denied") {
		t.Errorf("%s: want EPERM, got %v: %s", name, st, out)
	}
}

func TestPrivilegedPrivileges(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		own, err := caps.Inspect(0)
		if err != nil {
			t.Fatal(err)
		}
		// A privileged sandbox gets all that the caller can pass on: its bounding
		// set (a container host may already lack some: this one lacks
		// CAP_SYS_RESOURCE).
		full := capHex(own.Bounding & caps.Full())
		got := procStatus(t, sandbox.Privileged())
		wantStatus(t, got, map[string]string{
			"CapEff": full, "CapPrm": full, "CapBnd": full,
			"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
			"Seccomp": "0", "NoNewPrivs": "0",
		})
		if missing := caps.Full() &^ own.Bounding; missing != 0 {
			t.Logf("the caller's bounding set lacks %s: the sandbox gets %s", missing, full)
		}
		// unshare and mount work with all capabilities.
		out, st := run(t, []sandbox.Option{sandbox.Privileged()}, "/bin/sh", "-c", "unshare -U true && mount -t tmpfs none /mnt && echo ok")
		if !st.Success() || out != "ok\n" {
			t.Errorf("privileged unshare and mount: %v\n%s", st, out)
		}
	})
}

// A sysCase is one raw system call for the probe, with Docker's verdict on it.
type sysCase struct {
	name string
	nr   uint64
	args []uint64
	// docker is the errno Docker's default profile answers with; 0 means allowed.
	docker syscall.Errno
	// ambiguous marks a refused call that the kernel itself refuses with the same
	// errno when the filter lets it through (a capability check comes first): it
	// shows the filter's answer but cannot prove the filter gave it.
	ambiguous bool
}

func (c sysCase) arg() string {
	s := strconv.FormatUint(c.nr, 10)
	for _, a := range c.args {
		s += "/" + strconv.FormatUint(a, 10)
	}
	return s
}

func (c sysCase) data() seccomp.Data {
	d := seccomp.Data{Nr: int32(c.nr), Arch: unix.AUDIT_ARCH_X86_64}
	copy(d.Args[:], c.args)
	return d
}

const neg1 = ^uint64(0)

// sysCases are calls whose arguments make them harmless even when they run: invalid
// flags, NULL pointers, bad descriptors, a socket type the kernel rejects before it
// loads a protocol module. Each allowed call's real result differs from the
// filter's answer to a refused one, unless marked ambiguous. unshare(CLONE_NEWUSER)
// comes last: where it runs it would change the probe's user namespace, though from
// a multi-threaded process (the Go runtime's) the kernel refuses it with EINVAL.
var sysCases = []sysCase{
	{name: "getpid", nr: unix.SYS_GETPID},
	{name: "uname(NULL)", nr: unix.SYS_UNAME, args: []uint64{0}},
	{name: "close(-1)", nr: unix.SYS_CLOSE, args: []uint64{neg1}},
	{name: "getcwd(NULL, 0)", nr: unix.SYS_GETCWD},
	{name: "personality(0xffffffff)", nr: unix.SYS_PERSONALITY, args: []uint64{0xffffffff}},
	{name: "personality(0)", nr: unix.SYS_PERSONALITY, args: []uint64{0}},
	{name: "personality(ADDR_NO_RANDOMIZE)", nr: unix.SYS_PERSONALITY, args: []uint64{0x0040000}, docker: unix.EPERM},
	{name: "personality(1<<32)", nr: unix.SYS_PERSONALITY, args: []uint64{1 << 32}, docker: unix.EPERM},
	{name: "socket(AF_UNIX, bad type)", nr: unix.SYS_SOCKET, args: []uint64{unix.AF_UNIX, 15, 0}},
	{name: "socket(AF_INET, bad type)", nr: unix.SYS_SOCKET, args: []uint64{unix.AF_INET, 15, 0}},
	{name: "socket(AF_NETLINK, bad type)", nr: unix.SYS_SOCKET, args: []uint64{unix.AF_NETLINK, 15, 0}},
	{name: "socket(AF_VSOCK, bad type)", nr: unix.SYS_SOCKET, args: []uint64{unix.AF_VSOCK, 15, 0}, docker: unix.EPERM},
	{name: "socket(AF_ALG, bad type)", nr: unix.SYS_SOCKET, args: []uint64{unix.AF_ALG, 15, 0}, docker: unix.EPERM},
	// The kernel reads the family as an int (AF_UNIX); the filter sees all 64 bits.
	{name: "socket(1<<32|AF_UNIX, bad type)", nr: unix.SYS_SOCKET, args: []uint64{1<<32 | unix.AF_UNIX, 15, 0}, docker: unix.EPERM},
	{name: "clone(CLONE_SIGHAND)", nr: unix.SYS_CLONE, args: []uint64{unix.CLONE_SIGHAND}},
	{name: "clone(CLONE_NEWUSER|CLONE_FS)", nr: unix.SYS_CLONE, args: []uint64{unix.CLONE_NEWUSER | unix.CLONE_FS}, docker: unix.EPERM},
	{name: "clone(CLONE_NEWNS|CLONE_SIGHAND)", nr: unix.SYS_CLONE, args: []uint64{unix.CLONE_NEWNS | unix.CLONE_SIGHAND}, docker: unix.EPERM},
	{name: "clone3(NULL, 0)", nr: unix.SYS_CLONE3, args: []uint64{0, 0}, docker: unix.ENOSYS},
	{name: "unshare(0)", nr: unix.SYS_UNSHARE, args: []uint64{0}, docker: unix.EPERM},
	{name: "mount(NULL...)", nr: unix.SYS_MOUNT, docker: unix.EPERM},
	{name: "umount2(NULL, bad flags)", nr: unix.SYS_UMOUNT2, args: []uint64{0, 0xffff}, docker: unix.EPERM},
	{name: "keyctl(bad command)", nr: unix.SYS_KEYCTL, args: []uint64{9999}, docker: unix.EPERM},
	{name: "add_key(NULL...)", nr: unix.SYS_ADD_KEY, docker: unix.EPERM},
	{name: "request_key(NULL...)", nr: unix.SYS_REQUEST_KEY, docker: unix.EPERM},
	{name: "bpf(bad command)", nr: unix.SYS_BPF, args: []uint64{9999, 0, 0}, docker: unix.EPERM},
	{name: "perf_event_open(NULL, bad flags)", nr: unix.SYS_PERF_EVENT_OPEN, args: []uint64{0, 0, neg1, neg1, 0xffffffff}, docker: unix.EPERM},
	{name: "setns(-1, 0)", nr: unix.SYS_SETNS, args: []uint64{neg1, 0}, docker: unix.EPERM},
	{name: "clock_settime(bad clock)", nr: unix.SYS_CLOCK_SETTIME, args: []uint64{999, 0}, docker: unix.EPERM},
	// A bad timeval address fails before the kernel's CAP_SYS_TIME check.
	{name: "settimeofday(bad address)", nr: unix.SYS_SETTIMEOFDAY, args: []uint64{1, 0}, docker: unix.EPERM},
	{name: "iopl(4)", nr: unix.SYS_IOPL, args: []uint64{4}, docker: unix.EPERM},
	{name: "ioperm(0, 0, 0)", nr: unix.SYS_IOPERM, docker: unix.EPERM},
	{name: "mbind(bad mode)", nr: unix.SYS_MBIND, args: []uint64{0, 0, 99}, docker: unix.EPERM},
	{name: "open_by_handle_at(-1, NULL)", nr: unix.SYS_OPEN_BY_HANDLE_AT, args: []uint64{neg1, 0, 0}, docker: unix.EPERM},
	{name: "fsconfig(-1, bad command)", nr: unix.SYS_FSCONFIG, args: []uint64{neg1, 999}, docker: unix.EPERM},
	{name: "lookup_dcookie", nr: unix.SYS_LOOKUP_DCOOKIE, docker: unix.EPERM},
	{name: "chroot(NULL)", nr: unix.SYS_CHROOT},
	{name: "ptrace(PTRACE_SEIZE, no such pid)", nr: unix.SYS_PTRACE, args: []uint64{unix.PTRACE_SEIZE, 0x3fffffff}},
	{name: "process_vm_readv(no iovec)", nr: unix.SYS_PROCESS_VM_READV, args: []uint64{0x3fffffff}},
	{name: "pidfd_getfd(-1)", nr: unix.SYS_PIDFD_GETFD, args: []uint64{neg1, 0, 0}, docker: unix.EPERM},
	{name: "reboot(bad magic)", nr: unix.SYS_REBOOT, args: []uint64{0xfee1dead, 0, 0}, docker: unix.EPERM, ambiguous: true},
	{name: "swapon(NULL)", nr: unix.SYS_SWAPON, docker: unix.EPERM, ambiguous: true},
	{name: "init_module(NULL)", nr: unix.SYS_INIT_MODULE, docker: unix.EPERM, ambiguous: true},
	// Numbers above the profile's newest syscall get ENOSYS (runc's stub, so that
	// libc falls back to an older call).
	{name: "syscall 1000", nr: 1000, docker: unix.ENOSYS, ambiguous: true},
	{name: "unshare(CLONE_NEWUSER)", nr: unix.SYS_UNSHARE, args: []uint64{unix.CLONE_NEWUSER}, docker: unix.EPERM},
}

// probeCalls runs the probe's call mode on cases inside a sandbox built from opts and
// returns the errno of each.
func probeCalls(t *testing.T, probe string, opts []sandbox.Option, cases []sysCase) []syscall.Errno {
	t.Helper()
	args := []string{probe, "call"}
	for _, c := range cases {
		args = append(args, c.arg())
	}
	out, st := run(t, withProbe(opts, probe), args...)
	if !st.Success() {
		t.Fatalf("probe: %v\n%s", st, out)
	}
	lines := strings.Fields(out)
	if len(lines) != len(cases) {
		t.Fatalf("probe printed %d results for %d calls:\n%s", len(lines), len(cases), out)
	}
	res := make([]syscall.Errno, len(lines))
	for i, l := range lines {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("probe output %q", l)
		}
		res[i] = syscall.Errno(n)
	}
	return res
}

// TestSyscallsMatchFilter makes each call of sysCases for real inside a default
// sandbox and checks the kernel's answer against Docker's verdict and against the
// interpreter's reading of the very program the sandbox loads. The same calls in a
// sandbox without a filter show what the kernel answers when a call runs, which
// proves that a refusal came from the filter.
func TestSyscallsMatchFilter(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the cases are x86_64 system calls")
	}
	probe := sysprobe(t)
	testutil.Modes(t, func(t *testing.T) {
		f, err := seccomp.Compile(seccomp.Default(caps.DockerDefault.Names()))
		if err != nil {
			t.Fatal(err)
		}
		filtered := probeCalls(t, probe, nil, sysCases)
		raw := probeCalls(t, probe, []sandbox.Option{sandbox.WithoutSeccomp()}, sysCases)
		refused, proven := 0, 0
		for i, c := range sysCases {
			act, e := f.Evaluate(c.data())
			want := syscall.Errno(0)
			if act == seccomp.ActErrno {
				want = syscall.Errno(e)
			} else if act != seccomp.ActAllow {
				t.Errorf("%s: the filter says %s", c.name, act)
				continue
			}
			if want != c.docker {
				t.Errorf("%s: the filter answers %v (%d), Docker's profile %v (%d)", c.name, want, want, c.docker, c.docker)
			}
			switch {
			case want == 0 && filtered[i] != raw[i]:
				t.Errorf("%s: allowed, but the kernel answered %v (%d) under the filter and %v (%d) without", c.name, filtered[i], filtered[i], raw[i], raw[i])
			case want != 0 && filtered[i] != want:
				t.Errorf("%s: the filter should answer %v (%d), the kernel answered %v (%d)", c.name, want, want, filtered[i], filtered[i])
			case want != 0 && raw[i] == want && !c.ambiguous:
				t.Errorf("%s: without the filter the kernel also answers %v (%d): the case proves nothing; pick other arguments or mark it ambiguous", c.name, raw[i], raw[i])
			case want == 0 && (raw[i] == unix.EPERM || raw[i] == unix.ENOSYS):
				t.Errorf("%s: allowed, but the kernel's own answer %v (%d) looks like a refusal: pick other arguments", c.name, raw[i], raw[i])
			case want != 0 && raw[i] != want:
				proven++
			}
			if want != 0 {
				refused++
			}
			if testing.Verbose() {
				t.Logf("%-36s filter %-4d kernel %-4d unconfined %d", c.name, want, filtered[i], raw[i])
			}
		}
		t.Logf("%d calls, %d refused by the filter, %d of them proven by a different unconfined answer", len(sysCases), refused, proven)
	})
}

// TestI386Killed checks that a system call through the i386 gate (int 0x80, getpid
// in the i386 table) never runs under the default filter: the probe dies of
// SIGSYS. Without a filter the same call returns a pid, so the test can tell. It
// skips where the gate is closed to this process (seccomp.I386Gate): there no
// i386 call reaches the kernel at all.
func TestI386Killed(t *testing.T) {
	gate, err := seccomp.I386Gate()
	if err != nil {
		t.Fatal(err)
	}
	if gate.Closed() {
		t.Skipf("int 0x80: %s", gate)
	}
	probe := sysprobe(t)
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, withProbe([]sandbox.Option{sandbox.WithoutSeccomp()}, probe), probe, "int80", "20")
		if !st.Success() {
			t.Fatalf("int 0x80 without a filter, where the gate is open: %v\n%s", st, out)
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(out)); err != nil || pid <= 0 {
			t.Fatalf("i386 getpid without a filter returned %q, want a pid", out)
		}
		out, st = run(t, withProbe([]sandbox.Option{sandbox.Privileged()}, probe), probe, "int80", "20")
		if !st.Success() {
			t.Errorf("int 0x80 in a privileged sandbox: %v\n%s", st, out)
		}
		for _, o := range []struct {
			name string
			opt  sandbox.Option
		}{{"docker", sandbox.WithDefaultSeccomp()}, {"podman", sandbox.WithPodmanSeccomp()}} {
			out, st = run(t, withProbe([]sandbox.Option{o.opt}, probe), probe, "int80", "20")
			if st.Signal != syscall.SIGSYS {
				t.Errorf("%s: int 0x80 getpid under the filter: %v, output %q; want death by SIGSYS", o.name, st, out)
			}
		}
	})
}

func TestPrivilegeBuildErrors(t *testing.T) {
	build := func(t *testing.T, opts ...sandbox.Option) error {
		t.Helper()
		tpl, err := sandbox.NewBuilder(opts...).Build()
		if err == nil {
			tpl.Close()
			t.Fatal("Build succeeded")
		}
		if !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Fatalf("%v does not match sandbox.ErrInvalidSpec", err)
		}
		var se *sandbox.SpecError
		if !errors.As(err, &se) {
			t.Fatalf("%v is not a *sandbox.SpecError", err)
		}
		return err
	}
	t.Run("unknown capability", func(t *testing.T) {
		err := build(t, sandbox.WithCapAdd("CAP_BOGUS"))
		var ce *caps.SpecError
		if !errors.As(err, &ce) || !errors.Is(err, caps.ErrUnknown) || !strings.Contains(ce.Name, "BOGUS") {
			t.Fatalf("%v: want a *caps.SpecError naming CAP_BOGUS and matching caps.ErrUnknown", err)
		}
	})
	t.Run("unknown ambient capability", func(t *testing.T) {
		err := build(t, sandbox.WithAmbientCaps("CAP_NOPE"))
		if !errors.Is(err, caps.ErrUnknown) || !strings.Contains(err.Error(), "NOPE") {
			t.Fatalf("%v: want an error naming CAP_NOPE", err)
		}
	})
	t.Run("unknown syscall", func(t *testing.T) {
		prof := seccomp.Profile{DefaultAction: seccomp.ActErrno, Syscalls: []seccomp.Rule{
			{Names: []string{"read", "write"}, Action: seccomp.ActAllow},
			{Names: []string{"getpid", "no_such_call"}, Action: seccomp.ActAllow},
		}}
		err := build(t, sandbox.WithSeccompProfile(prof))
		var pe *seccomp.ProfileError
		if !errors.As(err, &pe) || pe.Index != 1 || pe.Name != "no_such_call" || !strings.Contains(err.Error(), "unknown syscall name") {
			t.Fatalf("%v: want a *seccomp.ProfileError for rule 1 naming no_such_call", err)
		}
	})
	t.Run("argument index", func(t *testing.T) {
		prof := seccomp.Profile{DefaultAction: seccomp.ActAllow, Syscalls: []seccomp.Rule{
			{Names: []string{"personality"}, Action: seccomp.ActErrno, Args: []seccomp.Arg{{Index: 0, Value: 1, Op: seccomp.OpEqualTo}, {Index: 6, Value: 1, Op: seccomp.OpEqualTo}}},
		}}
		err := build(t, sandbox.WithSeccompProfile(prof))
		var pe *seccomp.ProfileError
		if !errors.As(err, &pe) || pe.Field != "args[1].index" || !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("%v: want a *seccomp.ProfileError for condition 1's index", err)
		}
	})
	t.Run("unknown action", func(t *testing.T) {
		prof := seccomp.Profile{DefaultAction: "SCMP_ACT_MAYBE"}
		err := build(t, sandbox.WithSeccompProfile(prof))
		var pe *seccomp.ProfileError
		if !errors.As(err, &pe) || pe.Field != "defaultAction" || !strings.Contains(err.Error(), "unknown action") {
			t.Fatalf("%v: want a *seccomp.ProfileError naming defaultAction", err)
		}
	})
	t.Run("malformed profile file", func(t *testing.T) {
		for _, c := range []struct {
			name, json, field string
			index             int
		}{
			{"syntax", `{"defaultAction": "SCMP_ACT_ERRNO",`, "", -1},
			{"action", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["write"], "action": "SCMP_ACT_BOGUS"}]}`, "action", 1},
			{"operator", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_ALMOST"}]}]}`, "", 0},
			{"index", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]}`, "", 0},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := seccomp.ParseJSON([]byte(c.json), nil)
				if !errors.Is(err, seccomp.ErrInvalidProfile) {
					t.Fatalf("%v does not match seccomp.ErrInvalidProfile", err)
				}
				var pe *seccomp.ProfileError
				if !errors.As(err, &pe) {
					t.Fatalf("%v (%T) is not a *seccomp.ProfileError", err, err)
				}
				if pe.Index != c.index || (c.field != "" && pe.Field != c.field) {
					t.Errorf("%v: entry %d field %q, want entry %d field %q", err, pe.Index, pe.Field, c.index, c.field)
				}
			})
		}
	})
	t.Run("landlock rule", func(t *testing.T) {
		err := build(t, sandbox.WithLandlock(false, landlock.Rule{Path: "/usr", Access: landlock.Read}, landlock.Rule{Path: "tmp", Access: landlock.Write}))
		var le *landlock.RuleError
		if !errors.As(err, &le) || le.Index != 1 || !errors.Is(err, landlock.ErrInvalid) {
			t.Fatalf("%v: want a *landlock.RuleError for rule 1", err)
		}
	})
}

func TestCapabilityOptions(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		nbs := capHex(caps.Of(caps.NetBindService))
		t.Run("drop all, add one", func(t *testing.T) {
			wantStatus(t, procStatus(t, sandbox.WithCapDrop("ALL"), sandbox.WithCapAdd("NET_BIND_SERVICE")), map[string]string{
				"CapEff": nbs, "CapPrm": nbs, "CapBnd": nbs, "CapInh": "0000000000000000", "CapAmb": "0000000000000000",
			})
		})
		t.Run("drop some", func(t *testing.T) {
			want := capHex(caps.DockerDefault.Drop(caps.NetRaw, caps.Mknod))
			wantStatus(t, procStatus(t, sandbox.WithCapDrop("net_raw", "CAP_MKNOD")), map[string]string{"CapEff": want, "CapBnd": want})
		})
		// A rootless sandbox maps only the caller's uid, to root: a non-root user
		// needs range maps (TestRangeMapsRootless runs a rootless sandbox with them).
		nonRoot := func(t *testing.T) {
			zero := "0000000000000000"
			docker := capHex(caps.DockerDefault)
			wantStatus(t, procStatus(t, sandbox.WithUser(1000, 1000)), map[string]string{
				"Uid": "1000\t1000\t1000\t1000", "CapEff": zero, "CapPrm": zero, "CapAmb": zero, "CapBnd": docker,
			})
			wantStatus(t, procStatus(t, sandbox.WithUser(1000, 1000), sandbox.WithAmbientCaps("CAP_NET_BIND_SERVICE")), map[string]string{
				"Uid": "1000\t1000\t1000\t1000", "CapEff": nbs, "CapPrm": nbs, "CapInh": nbs, "CapAmb": nbs, "CapBnd": docker,
			})
			// The ambient capability works: a non-root user binds port 80, which
			// it cannot do without.
			testutil.Require(t, "busybox", "busybox-static")
			bind := `busybox nc -l -p 80 </dev/null >/dev/null 2>/tmp/err & pid=$!
for i in $(seq 200); do busybox netstat -ltn | grep -q ':80 ' && break; kill -0 $pid 2>/dev/null || break; sleep 0.05; done
busybox netstat -ltn | grep -c ':80 '; kill $pid 2>/dev/null; cat /tmp/err`
			out, _ := run(t, []sandbox.Option{sandbox.WithUser(1000, 1000), sandbox.WithAmbientCaps("CAP_NET_BIND_SERVICE")}, "/bin/sh", "-c", bind)
			if !strings.HasPrefix(out, "1\n") {
				t.Errorf("bind port 80 with the ambient capability:\n%s", out)
			}
			out, _ = run(t, []sandbox.Option{sandbox.WithUser(1000, 1000)}, "/bin/sh", "-c", bind)
			if !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "ermission denied") {
				t.Errorf("bind port 80 without the capability:\n%s", out)
			}
		}
		if !testutil.Rootless() {
			t.Run("non-root user", nonRoot)
		}
		t.Run("no_new_privs off", func(t *testing.T) {
			wantStatus(t, procStatus(t, sandbox.WithNoNewPrivileges(false)), map[string]string{
				"NoNewPrivs": "0", "Seccomp": "2", "CapEff": capHex(caps.DockerDefault),
			})
		})
		t.Run("unconfined", func(t *testing.T) {
			wantStatus(t, procStatus(t, sandbox.WithoutSeccomp()), map[string]string{
				"NoNewPrivs": "1", "Seccomp": "0", "CapEff": capHex(caps.DockerDefault),
			})
		})
	})
}

func TestPodmanUnknownSyscall(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the cases are x86_64 system calls")
	}
	probe := sysprobe(t)
	testutil.Modes(t, func(t *testing.T) {
		cases := []sysCase{
			{name: "syscall 1000", nr: 1000},
			{name: "mount(NULL...)", nr: unix.SYS_MOUNT},
			// Docker's profile never names keyctl: it is refused as unknown.
			{name: "keyctl(bad command)", nr: unix.SYS_KEYCTL, args: []uint64{9999}},
			{name: "getpid", nr: unix.SYS_GETPID},
			{name: "clone3(NULL, 0)", nr: unix.SYS_CLONE3, args: []uint64{0, 0}},
		}
		for _, m := range []struct {
			name string
			opt  sandbox.Option
			want []syscall.Errno
		}{
			// Past the profile's newest syscall both answer ENOSYS (runc's stub);
			// below it, calls Docker's profile never names (keyctl) tell them apart.
			{"docker", sandbox.WithDefaultSeccomp(), []syscall.Errno{unix.ENOSYS, unix.EPERM, unix.EPERM, 0, unix.ENOSYS}},
			{"podman", sandbox.WithPodmanSeccomp(), []syscall.Errno{unix.ENOSYS, unix.EPERM, unix.ENOSYS, 0, unix.ENOSYS}},
		} {
			got := probeCalls(t, probe, []sandbox.Option{m.opt}, cases)
			for i, c := range cases {
				if got[i] != m.want[i] {
					t.Errorf("%s: %s answered %v (%d), want %v (%d)", m.name, c.name, got[i], got[i], m.want[i], m.want[i])
				}
			}
		}
	})
}

func TestLandlockInSandbox(t *testing.T) {
	if _, err := landlock.ABI(); errors.Is(err, landlock.ErrNotSupported) {
		t.Skipf("Landlock: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	testutil.Modes(t, func(t *testing.T) {
		rules := []sandbox.Option{sandbox.WithLandlock(true,
			landlock.Rule{Path: "/usr", Access: landlock.Read | landlock.Execute},
			landlock.Rule{Path: "/tmp", Access: landlock.Read | landlock.Write},
		)}
		// /bin and /lib are symbolic links into /usr on this kind of host; the shell
		// and its loader resolve there. Paths are those of the sandbox's own root.
		script := `cat /etc/hostname 2>&1; echo "cat=$?"
echo written >/tmp/landlock && cat /tmp/landlock
/usr/bin/ls /usr >/tmp/ls && echo "ls=$?"
ls /etc 2>&1 >/tmp/ls2; echo "ls etc=$?"
echo x 2>&1 >/usr/local/landlock; echo "usr write=$?"`
		out, st := run(t, rules, "/bin/sh", "-c", script)
		if !st.Success() {
			t.Fatalf("%v\n%s", st, out)
		}
		if testing.Verbose() {
			t.Logf("under Landlock:\n%s", out)
		}
		for _, want := range []string{"Permission denied", "cat=1", "written", "ls=0", "ls etc=", "usr write=", "cat=1"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "ls etc=0") || strings.Contains(out, "usr write=0") {
			t.Errorf("Landlock let a listing of /etc or a write under /usr through:\n%s", out)
		}
		// Without the rules the same reads work.
		out, st = run(t, nil, "/bin/cat", "/etc/hostname")
		if !st.Success() || out == "" {
			t.Errorf("without Landlock: %v %q", st, out)
		}
	})
}

// TestSeccompNotify hands mkdir to a user-space supervisor (SECCOMP_RET_USER_NOTIF),
// which answers it through Process.SeccompListener.
func TestSeccompNotify(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		prof := seccomp.Default(caps.DockerDefault.Names())
		prof.Syscalls = append([]seccomp.Rule{{Names: []string{"mkdir", "mkdirat"}, Action: seccomp.ActNotify}}, prof.Syscalls...)
		superviseMkdir(t, sandbox.WithSeccompProfile(prof))
	})
}

// superviseMkdir starts a sandbox built from opts, whose filter hands mkdir to a
// supervisor, that runs mkdir; it takes the notification from the Process's
// listener, checks that it is mkdir, refuses it with EROFS (an answer the kernel
// would not give here by itself), and checks that the answer reached the target.
func superviseMkdir(t *testing.T, opts ...sandbox.Option) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	superviseMkdirIn(t, tpl)
}

// superviseMkdirIn is superviseMkdir in a sandbox of tpl, whose pid it returns.
func superviseMkdirIn(t *testing.T, tpl *sandbox.Template) int {
	t.Helper()
	var out bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{
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
		t.Fatal("no listener for a profile with a notify rule")
	}
	// struct seccomp_notif is 80 bytes: id u64, pid u32, flags u32, then
	// seccomp_data (nr i32, arch u32, ip u64, args [6]u64).
	var req [80]byte
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, l.Fd(), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req[0]))); e != 0 {
		t.Fatalf("NOTIF_RECV: %v", e)
	}
	if nr := *(*int32)(unsafe.Pointer(&req[16])); nr != unix.SYS_MKDIR && nr != unix.SYS_MKDIRAT {
		t.Errorf("notified of syscall %d, want mkdir", nr)
	}
	// struct seccomp_notif_resp: id u64, val i64, error i32, flags u32.
	var resp [24]byte
	copy(resp[:8], req[:8])
	*(*int32)(unsafe.Pointer(&resp[16])) = -int32(unix.EROFS)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, l.Fd(), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp[0]))); e != 0 {
		t.Fatalf("NOTIF_SEND: %v", e)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Read-only file system") || !strings.Contains(out.String(), "rc=1") {
		t.Fatalf("the supervisor's answer did not reach the sandbox: %q", out.String())
	}
	return p.Pid()
}
