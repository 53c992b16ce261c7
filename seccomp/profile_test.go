package seccomp

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestValidateErrors(t *testing.T) {
	ok := Rule{Names: []string{"read"}, Action: ActAllow}
	for _, tc := range []struct {
		name   string
		p      Profile
		reason error
		rule   int
		sys    string
	}{
		{"default action", Profile{DefaultAction: "deny"}, errUnknownAction, -1, ""},
		{"arch", Profile{DefaultAction: ActErrno, Architectures: []string{"SCMP_ARCH_VAX"}}, errUnknownArch, -1, ""},
		{"unknown syscall", Profile{DefaultAction: ActErrno, Syscalls: []Rule{ok, {Names: []string{"read", "nosuchcall"}, Action: ActAllow}}}, errUnknownSyscall, 1, "nosuchcall"},
		{"rule action", Profile{DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"read"}, Action: "permit"}}}, errUnknownAction, 0, "read"},
		{"no names", Profile{DefaultAction: ActErrno, Syscalls: []Rule{ok, ok, {Action: ActAllow}}}, errNoNames, 2, ""},
		{"arg index", Profile{DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"ioctl"}, Action: ActAllow, Args: []Arg{{Index: 1, Op: OpEqualTo}, {Index: 6, Op: OpEqualTo}}}}}, errArgIndex, 0, "ioctl"},
		{"operator", Profile{DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"ioctl"}, Action: ActAllow, Args: []Arg{{Index: 1, Op: "=="}}}}}, errUnknownOperator, 0, "ioctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if !errors.Is(err, ErrInvalidProfile) || !errors.Is(err, tc.reason) {
				t.Fatalf("Validate: %v, want %v matching ErrInvalidProfile", err, tc.reason)
			}
			if _, cerr := Compile(tc.p); !errors.Is(cerr, ErrInvalidProfile) {
				t.Errorf("Compile: %v", cerr)
			}
			var re *ProfileError
			if !errors.As(err, &re) || re.File || re.Index != tc.rule || re.Name != tc.sys {
				t.Fatalf("%#v, want rule %d name %q", err, tc.rule, tc.sys)
			}
			t.Log(err)
		})
	}
	var pe *ProfileError
	err := Profile{DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"ioctl"}, Action: ActAllow, Args: []Arg{{Index: 1, Op: OpEqualTo}, {Index: 6, Op: OpEqualTo}}}}}.Validate()
	if !errors.As(err, &pe) || pe.Field != "args[1].index" ||
		err.Error() != `seccomp rule 0 (ioctl): argument condition 1 (index 6, op "SCMP_CMP_EQ"): argument index out of range 0-5` {
		t.Errorf("%v: want a *ProfileError for condition 1", err)
	}
	// Names of other ABIs only are accepted and skipped.
	p := Profile{DefaultAction: ActErrno, Syscalls: []Rule{{Names: []string{"socketcall", "_llseek", "read"}, Action: ActAllow}}}
	if err := p.Validate(); err != nil {
		t.Errorf("names of other ABIs: %v", err)
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		index      int
		field      string
		reason     error
	}{
		{"syntax", `{"defaultAction": `, -1, "", nil},
		{"default action", `{"defaultAction":"SCMP_ACT_DENY"}`, -1, "defaultAction", errUnknownAction},
		{"errno range", `{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}`, -1, "defaultErrnoRet", errBadValue},
		{"both arch forms", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}`, -1, "archMap", errConflict},
		{"unknown arch", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_PDP11"]}`, -1, "architectures", errUnknownArch},
		{"action", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["write"],"action":"ALLOW"}]}`, 1, "action", errUnknownAction},
		{"type", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":"read","action":"SCMP_ACT_ALLOW"}]}`, 0, "names", nil},
		{"no names", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}`, 0, "names", errNoNames},
		{"name and names", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["read"],"action":"SCMP_ACT_ALLOW"}]}`, 0, "name", errConflict},
		{"arg index", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}`, 1, "args[1].index", errArgIndex},
		{"arg op", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}`, 0, "args[0].op", errUnknownOperator},
		{"min kernel", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"five"}}]}`, 0, "includes.minKernel", errBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.json), nil)
			var pe *ProfileError
			if !errors.Is(err, ErrInvalidProfile) || !errors.As(err, &pe) {
				t.Fatalf("%v: want *ProfileError matching ErrInvalidProfile", err)
			}
			if !pe.File || pe.Index != tc.index || pe.Field != tc.field || (tc.reason != nil && !errors.Is(err, tc.reason)) {
				t.Fatalf("%v: want index %d field %q reason %v", err, tc.index, tc.field, tc.reason)
			}
			t.Log(err)
		})
	}
}

func TestParseJSONResolution(t *testing.T) {
	const doc = `{
	"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
	"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
	            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
	"syscalls": [
		{"names": ["read", "socketcall", "riscv_hwprobe"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
		{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
		{"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm"]}},
		{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
		{"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
		{"name": "ioctl", "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}]}
	]}`
	p, err := ParseJSON([]byte(doc), []string{"CAP_SYS_CHROOT"})
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultAction != ActErrno || p.DefaultErrno != 38 || len(p.Architectures) != 3 {
		t.Errorf("header: %+v", p)
	}
	var names []string
	for _, r := range p.Syscalls {
		names = append(names, r.Names...)
	}
	want := []string{"read", "arch_prctl", "ptrace", "ioctl", "ioctl"}
	if len(names) != len(want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names %v, want %v", names, want)
		}
	}
	if n := len(p.Syscalls); len(p.Syscalls[n-1].Args) != 1 || p.Syscalls[n-1].Args[0].Value != 2 {
		t.Errorf("repeated index not split into OR rules: %+v", p.Syscalls[n-2:])
	}
	f, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint64{1, 2} {
		if a, _ := f.Evaluate(Data{Nr: int32(unix.SYS_IOCTL), Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{0, v}}); a != ActAllow {
			t.Errorf("ioctl(_, %d): %s", v, a)
		}
	}
}

func TestContainersSeccompJSON(t *testing.T) {
	const path = "/usr/share/containers/seccomp.json"
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s not installed (containers-common): %v", path, err)
	} else if err != nil {
		t.Fatal(err)
	}
	for _, caps := range [][]string{nil, dockerCaps, allCaps} {
		p, err := ParseJSON(data, caps)
		if err != nil {
			t.Fatal(err)
		}
		if p.DefaultAction != ActErrno || p.DefaultErrno != uint16(unix.ENOSYS) {
			t.Errorf("default %s/%d, want errno/ENOSYS", p.DefaultAction, p.DefaultErrno)
		}
		checkAgainstReference(t, p)
		f, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		x := uint32(unix.AUDIT_ARCH_X86_64)
		for _, c := range []struct {
			nr    int32
			a     Action
			errno uint16
		}{{unix.SYS_READ, ActAllow, 0}, {unix.SYS_VMSPLICE, ActErrno, 1}, {1000, ActErrno, 38}} {
			if a, e := f.Evaluate(Data{Nr: c.nr, Arch: x}); a != c.a || e != c.errno {
				t.Errorf("caps %d: nr %d: %s/%d, want %s/%d", len(caps), c.nr, a, e, c.a, c.errno)
			}
		}
	}
}

func TestFlags(t *testing.T) {
	for _, notify := range []bool{false, true} {
		p := Profile{DefaultAction: ActAllow, Syscalls: []Rule{{Names: []string{"mkdir"}, Action: ActErrno}}}
		if notify {
			p.Syscalls[0].Action = ActNotify
		}
		f, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]uintptr{false: 0, true: unix.SECCOMP_FILTER_FLAG_NEW_LISTENER}[notify]; f.Flags() != want {
			t.Errorf("notify %v: flags %#x, want %#x", notify, f.Flags(), want)
		}
		if int(f.Prog.Len) != len(f.Program) || f.Prog.Filter != &f.Program[0] {
			t.Error("SockFprog does not describe Program")
		}
	}
}

func TestInspectSelf(t *testing.T) {
	st, err := Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := Inspect(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st != st2 {
		t.Errorf("Inspect(0) %+v, Inspect(getpid) %+v", st, st2)
	}
	t.Logf("test process: %+v", st)
}
