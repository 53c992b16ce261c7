package seccomp

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// referenceEval decides a call from the profile's rules directly, without BPF: calls
// from a foreign ABI are killed; calls numbered above every name of the profile get
// NewerErrno if set; otherwise the first rule naming the call whose conditions all
// hold decides, else the default.
func referenceEval(p Profile, d Data) (Action, uint16) {
	if d.Arch != unix.AUDIT_ARCH_X86_64 || uint32(d.Nr) >= 0x40000000 {
		return ActKillProcess, 0
	}
	if p.NewerErrno != 0 {
		top, any := -1, false
		for _, r := range p.Syscalls {
			for _, n := range r.Names {
				if v, ok := arch.X86_64.SyscallNames[n]; ok {
					top, any = max(top, v), true
				}
			}
		}
		if any && int64(uint32(d.Nr)) > int64(top) {
			return ActErrno, p.NewerErrno
		}
	}
	name, known := arch.X86_64.SyscallNumbers[int(d.Nr)]
	if known {
		for _, r := range p.Syscalls {
			if !slices.Contains(r.Names, name) {
				continue
			}
			all := true
			for _, c := range r.Args {
				all = all && refMatch(c, d.Args[c.Index])
			}
			if all {
				return r.Action, refErrno(r.Action, r.Errno)
			}
		}
	}
	return p.DefaultAction, refErrno(p.DefaultAction, p.DefaultErrno)
}

func refMatch(c Arg, v uint64) bool {
	switch c.Op {
	case OpEqualTo:
		return v == c.Value
	case OpNotEqual:
		return !(v == c.Value)
	case OpLessThan:
		return c.Value > v
	case OpLessEqual:
		return !(v > c.Value)
	case OpGreaterThan:
		return c.Value < v
	case OpGreaterEqual:
		return !(v < c.Value)
	case OpMaskedEqual:
		for b := range 64 {
			if c.Value>>b&1 == 1 && v>>b&1 != c.ValueTwo>>b&1 {
				return false
			}
		}
		return c.ValueTwo&^c.Value == 0
	}
	panic("operator " + c.Op)
}

func refErrno(a Action, e uint16) uint16 {
	switch a {
	case ActErrno:
		if e == 0 {
			return 1
		}
		return e
	case ActTrace:
		return e
	}
	return 0
}

// dockerCaps is Docker's default capability set.
var dockerCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

var allCaps = append(slices.Clone(dockerCaps), "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_BOOT",
	"CAP_SYS_MODULE", "CAP_SYS_PACCT", "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG",
	"CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH")

func nr(t testing.TB, name string) int32 {
	t.Helper()
	n, ok := arch.X86_64.SyscallNames[name]
	if !ok {
		t.Fatalf("no syscall %s", name)
	}
	return int32(n)
}

// cases builds the table of calls checked against the reference: every number of the
// x86_64 table and some beyond it with zero and random arguments, the conditional
// calls with interesting argument values, and calls from foreign ABIs.
func cases(t testing.TB) []Data {
	rng := rand.New(rand.NewPCG(1, 2))
	const x86 = unix.AUDIT_ARCH_X86_64
	var ds []Data
	nums := make([]int, 0, len(arch.X86_64.SyscallNumbers))
	for n := range arch.X86_64.SyscallNumbers {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	nums = append(nums, 335, 500, 1000, 4095, 0x3fffffff, -1)
	for _, n := range nums {
		ds = append(ds, Data{Nr: int32(n), Arch: x86})
		ds = append(ds, Data{Nr: int32(n), Arch: x86, Args: [6]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}})
	}
	nsFlags := []uint64{unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER,
		unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP, unix.CLONE_NEWTIME}
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	for _, base := range []uint64{0, uint64(unix.SIGCHLD), threadFlags, 1 << 40} {
		ds = append(ds, Data{Nr: nr(t, "clone"), Arch: x86, Args: [6]uint64{base}})
		for _, f := range nsFlags {
			ds = append(ds, Data{Nr: nr(t, "clone"), Arch: x86, Args: [6]uint64{base | f}})
			ds = append(ds, Data{Nr: nr(t, "unshare"), Arch: x86, Args: [6]uint64{base | f}})
		}
		ds = append(ds, Data{Nr: nr(t, "clone"), Arch: x86, Args: [6]uint64{1: unix.CLONE_NEWUSER, 0: base}})
	}
	for _, v := range []uint64{0, 8, 0x20000, 0x20008, 0xffffffff, 0xffffffffffffffff, 1, 0x0400000, 0x100000000, 0x100000008, 0xfffffffe} {
		ds = append(ds, Data{Nr: nr(t, "personality"), Arch: x86, Args: [6]uint64{v}})
	}
	for fam := uint64(0); fam < 50; fam++ {
		ds = append(ds, Data{Nr: nr(t, "socket"), Arch: x86, Args: [6]uint64{fam, unix.SOCK_STREAM, 0}})
	}
	ds = append(ds, Data{Nr: nr(t, "socket"), Arch: x86, Args: [6]uint64{1 << 32}},
		Data{Nr: nr(t, "socket"), Arch: x86, Args: [6]uint64{1<<32 | 1}},
		Data{Nr: nr(t, "socket"), Arch: x86, Args: [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_AUDIT}})
	// Foreign ABIs: i386 (int 0x80) and x32, with numbers that mean allowed calls natively.
	for _, n := range []int32{0, 1, 3, 4, 11, 20, 39, 56, 120, 231, 272} {
		ds = append(ds, Data{Nr: n, Arch: unix.AUDIT_ARCH_I386},
			Data{Nr: n | 0x40000000, Arch: x86},
			Data{Nr: n, Arch: unix.AUDIT_ARCH_AARCH64},
			Data{Nr: n, Arch: 0})
	}
	return ds
}

func checkAgainstReference(t *testing.T, p Profile) {
	t.Helper()
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	ds := cases(t)
	if len(ds) < 400 {
		t.Fatalf("only %d cases", len(ds))
	}
	bad := 0
	for _, d := range ds {
		ga, ge := f.Evaluate(d)
		wa, we := referenceEval(p, d)
		if ga != wa || ge != we {
			name := arch.X86_64.SyscallNumbers[int(d.Nr)]
			t.Errorf("nr %d (%s) arch %#x args %#x: compiled %s/%d, reference %s/%d", d.Nr, name, d.Arch, d.Args, ga, ge, wa, we)
			if bad++; bad > 20 {
				t.FailNow()
			}
		}
	}
}

func TestDefaultMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		caps []string
	}{{"none", nil}, {"docker", dockerCaps}, {"sysadmin", []string{"CAP_SYS_ADMIN"}}, {"all", allCaps}} {
		t.Run("docker/"+tc.name, func(t *testing.T) { checkAgainstReference(t, Default(tc.caps)) })
		t.Run("podman/"+tc.name, func(t *testing.T) { checkAgainstReference(t, PodmanDefault(tc.caps)) })
	}
}

// TestOperatorsMatchReference exercises every operator and action on 64-bit values
// whose halves differ, against random and boundary arguments.
func TestOperatorsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	values := []uint64{0, 1, 0xffffffff, 0x100000000, 0x1_00000001, 0x2_00000000, 0xffffffff_ffffffff, 0x7fffffff_80000000}
	ops := []Operator{OpEqualTo, OpNotEqual, OpLessThan, OpLessEqual, OpGreaterThan, OpGreaterEqual, OpMaskedEqual}
	actions := []Action{ActAllow, ActErrno, ActKillThread, ActTrap, ActLog, ActTrace, ActNotify, ActKillProcess}
	p := Profile{DefaultAction: ActErrno, DefaultErrno: 38}
	names := []string{"read", "write", "openat", "ioctl", "mmap", "fcntl", "prctl", "kill"}
	for i, name := range names {
		for j, op := range ops {
			v := values[(i+j)%len(values)]
			p.Syscalls = append(p.Syscalls, Rule{
				Names:  []string{name},
				Action: actions[(i+j)%len(actions)],
				Errno:  uint16(i*10 + j),
				Args:   []Arg{{Index: uint(j % 6), Op: op, Value: v, ValueTwo: v & 0xf0f0f0f0_0f0f0f0f}},
			})
		}
		// Two conditions on one rule (AND).
		p.Syscalls = append(p.Syscalls, Rule{Names: []string{name}, Action: ActAllow,
			Args: []Arg{{Index: 0, Op: OpGreaterEqual, Value: 0x1_00000000}, {Index: 1, Op: OpLessThan, Value: 0x10}}})
	}
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !f.NeedsListener {
		t.Error("NeedsListener false with a notify rule")
	}
	n := 0
	for _, name := range names {
		for range 300 {
			var d Data
			d.Nr, d.Arch = nr(t, name), unix.AUDIT_ARCH_X86_64
			for k := range d.Args {
				switch rng.IntN(3) {
				case 0:
					d.Args[k] = values[rng.IntN(len(values))]
				case 1:
					d.Args[k] = values[rng.IntN(len(values))] + uint64(rng.IntN(3)) - 1
				default:
					d.Args[k] = rng.Uint64() & (0xf0f0f0f0_0f0f0f0f | rng.Uint64())
				}
			}
			ga, ge := f.Evaluate(d)
			wa, we := referenceEval(p, d)
			if ga != wa || ge != we {
				t.Fatalf("%s args %#x: compiled %s/%d, reference %s/%d", name, d.Args, ga, ge, wa, we)
			}
			n++
		}
	}
	t.Logf("%d cases", n)
}

func TestForeignABIKilled(t *testing.T) {
	for _, p := range []Profile{Default(allCaps), {DefaultAction: ActAllow}, {DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"read"}, Action: ActAllow}}}} {
		f, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int32{0, 1, 3, 4, 11, 39, 0x3ff} {
			for _, d := range []Data{{Nr: n, Arch: unix.AUDIT_ARCH_I386}, {Nr: n | 0x40000000, Arch: unix.AUDIT_ARCH_X86_64}, {Nr: n, Arch: unix.AUDIT_ARCH_AARCH64}} {
				if a, _ := f.Evaluate(d); a != ActKillProcess {
					t.Errorf("default %s: nr %#x arch %#x: %s, want kill_process", p.DefaultAction, d.Nr, d.Arch, a)
				}
			}
		}
	}
}

func TestClone3ENOSYS(t *testing.T) {
	for _, caps := range [][]string{nil, dockerCaps, {"CAP_SYS_ADMIN"}, allCaps} {
		for _, p := range []Profile{Default(caps), PodmanDefault(caps)} {
			f, err := Compile(p)
			if err != nil {
				t.Fatal(err)
			}
			a, e := f.Evaluate(Data{Nr: nr(t, "clone3"), Arch: unix.AUDIT_ARCH_X86_64})
			if a != ActErrno || e != uint16(unix.ENOSYS) {
				t.Errorf("caps %v: clone3 → %s/%d, want errno/ENOSYS", caps, a, e)
			}
		}
	}
}

func TestDefaultVerdicts(t *testing.T) {
	x := unix.AUDIT_ARCH_X86_64
	type want struct {
		d     Data
		a     Action
		errno uint16
	}
	check := func(t *testing.T, p Profile, ws []want) {
		f, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			a, e := f.Evaluate(w.d)
			if a != w.a || e != w.errno {
				t.Errorf("%s %#x: %s/%d, want %s/%d", arch.X86_64.SyscallNumbers[int(w.d.Nr)], w.d.Args[0], a, e, w.a, w.errno)
			}
		}
	}
	check(t, Default(dockerCaps), []want{
		{Data{Nr: nr(t, "getpid"), Arch: uint32(x)}, ActAllow, 0},
		{Data{Nr: nr(t, "clone"), Arch: uint32(x), Args: [6]uint64{uint64(unix.SIGCHLD)}}, ActAllow, 0},
		{Data{Nr: nr(t, "clone"), Arch: uint32(x), Args: [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}}, ActErrno, 1},
		{Data{Nr: nr(t, "unshare"), Arch: uint32(x)}, ActErrno, 1},
		{Data{Nr: nr(t, "keyctl"), Arch: uint32(x)}, ActErrno, 1},
		{Data{Nr: nr(t, "personality"), Arch: uint32(x), Args: [6]uint64{8}}, ActAllow, 0},
		{Data{Nr: nr(t, "personality"), Arch: uint32(x), Args: [6]uint64{0x0040000}}, ActErrno, 1},
		{Data{Nr: nr(t, "socket"), Arch: uint32(x), Args: [6]uint64{unix.AF_INET}}, ActAllow, 0},
		{Data{Nr: nr(t, "socket"), Arch: uint32(x), Args: [6]uint64{unix.AF_VSOCK}}, ActErrno, 1}, // not in Docker's family list,
		{Data{Nr: nr(t, "chroot"), Arch: uint32(x)}, ActAllow, 0},
		// Newer than every name of the profile: ENOSYS, as runc's stub answers.
		{Data{Nr: 1000, Arch: uint32(x)}, ActErrno, 38},
		{Data{Nr: nr(t, "open_tree_attr"), Arch: uint32(x)}, ActErrno, 38},
	})
	check(t, PodmanDefault(nil), []want{
		{Data{Nr: nr(t, "getpid"), Arch: uint32(x)}, ActAllow, 0},
		{Data{Nr: nr(t, "clone"), Arch: uint32(x), Args: [6]uint64{unix.CLONE_NEWNS}}, ActErrno, 1},
		{Data{Nr: nr(t, "mount"), Arch: uint32(x)}, ActErrno, 1},
		{Data{Nr: nr(t, "chroot"), Arch: uint32(x)}, ActErrno, 1},
		{Data{Nr: nr(t, "keyctl"), Arch: uint32(x)}, ActErrno, 38},
		{Data{Nr: 1000, Arch: uint32(x)}, ActErrno, 38},
	})
}

// TestNumberReloadedAfterConditions guards against a failed argument check leaving an
// argument in the accumulator where later rules expect the syscall number:
// personality(1) must not match the rule for write (number 1). The elastic assembler's
// own Policy has this flaw in v1.6.0; Compile reloads the number after each
// conditional segment.
func TestNumberReloadedAfterConditions(t *testing.T) {
	p := Profile{DefaultAction: ActErrno, Syscalls: []Rule{
		{Names: []string{"personality"}, Action: ActAllow, Args: []Arg{{Index: 0, Op: OpEqualTo, Value: 8}}},
		{Names: []string{"write"}, Action: ActAllow},
	}}
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{1, unix.SYS_WRITE} {
		if a, _ := f.Evaluate(Data{Nr: unix.SYS_PERSONALITY, Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{v}}); a != ActErrno {
			t.Errorf("personality(%d): %s, want errno", v, a)
		}
	}
}

// TestNewerErrno checks that NewerErrno answers exactly the numbers above the highest
// one any rule names, counting rules whose action is the default's and rules that can
// never match, and leaves holes below it to the default.
func TestNewerErrno(t *testing.T) {
	x := uint32(unix.AUDIT_ARCH_X86_64)
	p := Profile{DefaultAction: ActErrno, NewerErrno: 38, Syscalls: []Rule{
		{Names: []string{"read", "write"}, Action: ActAllow},
		{Names: []string{"socket"}, Action: ActAllow, Args: []Arg{{Index: 0, Op: OpEqualTo, Value: 2}}},
		// Never matches, still counts: runc's stub looks at names only.
		{Names: []string{"pidfd_open"}, Action: ActAllow, Args: []Arg{{Index: 0, Op: OpMaskedEqual, Value: 1, ValueTwo: 2}}},
		{Names: []string{"kcmp"}, Action: ActErrno},
		{Names: []string{"_llseek"}, Action: ActAllow}, // not native: does not count
	}}
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	top := nr(t, "pidfd_open")
	for _, c := range []struct {
		nr    int32
		a     Action
		errno uint16
	}{
		{nr(t, "read"), ActAllow, 0},
		{nr(t, "getpid"), ActErrno, 1},
		{nr(t, "kcmp"), ActErrno, 1},
		{nr(t, "socket"), ActErrno, 1},
		{top, ActErrno, 1},
		{top + 1, ActErrno, 38},
		{top + 100, ActErrno, 38},
		{0x3fffffff, ActErrno, 38},
	} {
		a, e := f.Evaluate(Data{Nr: c.nr, Arch: x})
		if a != c.a || e != c.errno {
			t.Errorf("nr %d: %s/%d, want %s/%d", c.nr, a, e, c.a, c.errno)
		}
		if ra, re := referenceEval(p, Data{Nr: c.nr, Arch: x}); ra != a || re != e {
			t.Errorf("nr %d: reference %s/%d, compiled %s/%d", c.nr, ra, re, a, e)
		}
	}
	// The highest rule's own verdict reaches to the end when it equals NewerErrno's.
	q := Profile{DefaultAction: ActErrno, NewerErrno: 38, Syscalls: []Rule{{Names: []string{"pidfd_open"}, Action: ActErrno, Errno: 38}}}
	if g, err := Compile(q); err != nil {
		t.Fatal(err)
	} else if a, e := g.Evaluate(Data{Nr: top + 5, Arch: x}); a != ActErrno || e != 38 {
		t.Errorf("after an ENOSYS rule: %s/%d", a, e)
	}
	// Without rules NewerErrno does nothing.
	if g, err := Compile(Profile{DefaultAction: ActErrno, NewerErrno: 38}); err != nil {
		t.Fatal(err)
	} else if a, e := g.Evaluate(Data{Nr: 1000, Arch: x}); a != ActErrno || e != 1 {
		t.Errorf("no rules: %s/%d, want errno/1", a, e)
	}
}
