package emit

import (
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/seccomp"
)

func TestFilter(t *testing.T) {
	for _, notify := range []bool{false, true} {
		p := seccomp.Profile{DefaultAction: seccomp.ActAllow, Syscalls: []seccomp.Rule{{Names: []string{"mkdir"}, Action: seccomp.ActErrno}}}
		if notify {
			p.Syscalls[0].Action = seccomp.ActNotify
		}
		f, err := seccomp.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		var prog child.Program
		Filter(&prog, f)
		if len(prog.Ops) != 1 || prog.Ops[0].Kind != child.KindSeccomp || prog.Steps[0].Stage != "seccomp" {
			t.Fatalf("ops %+v steps %+v", prog.Ops, prog.Steps)
		}
		op := prog.Ops[0]
		if op.Trap != unix.SYS_SECCOMP || op.Args[0] == 0 || op.Args[0] != uintptr(unsafe.Pointer(&f.Prog)) {
			t.Errorf("op %+v: want seccomp(2) with Args[0] pointing at the SockFprog", op)
		}
		if want := map[bool]uintptr{false: 0, true: unix.SECCOMP_FILTER_FLAG_NEW_LISTENER}[notify]; op.Args[1] != want {
			t.Errorf("notify %v: flags %#x, want %#x", notify, op.Args[1], want)
		}
		if want := fmt.Sprintf("load seccomp filter (%d instructions, flags %#x)", len(f.Program), f.Flags()); prog.Steps[0].What != want {
			t.Errorf("step %q, want %q", prog.Steps[0].What, want)
		}
	}
}
