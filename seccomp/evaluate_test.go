package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestInterpreterOpcodes runs hand-written programs that use the opcodes Compile does
// not emit (ALU, scratch memory, X register, RET A) with values worked out by hand.
func TestInterpreterOpcodes(t *testing.T) {
	s := func(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
	j := func(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
	}
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		alu  = unix.BPF_ALU
		retA = unix.BPF_RET | unix.BPF_A
	)
	d := Data{Nr: 7, Arch: unix.AUDIT_ARCH_X86_64, InstructionPointer: 0x11_00000022, Args: [6]uint64{0x5_00000003, 9}}
	for _, tc := range []struct {
		name string
		prog []unix.SockFilter
		want uint32
	}{
		// ((nr + 3) * 4 - 1) / 3 = 13, | 0x50000 → errno 13.
		{"arith", []unix.SockFilter{s(ld, 0), s(alu|unix.BPF_ADD|unix.BPF_K, 3), s(alu|unix.BPF_MUL|unix.BPF_K, 4),
			s(alu|unix.BPF_SUB|unix.BPF_K, 1), s(alu|unix.BPF_DIV|unix.BPF_K, 3), s(alu|unix.BPF_OR|unix.BPF_K, retErrno), s(retA, 0)}, retErrno | 13},
		// hi(arg0) << 2 ^ lo(arg0) via X and scratch memory = 20 ^ 3 = 23.
		{"memory", []unix.SockFilter{s(ld, 20), s(alu|unix.BPF_LSH|unix.BPF_K, 2), s(unix.BPF_ST, 5), s(ld, 16), s(unix.BPF_MISC|unix.BPF_TAX, 0),
			s(unix.BPF_LD|unix.BPF_MEM, 5), s(alu|unix.BPF_XOR|unix.BPF_X, 0), s(alu|unix.BPF_OR|unix.BPF_K, retErrno), s(retA, 0)}, retErrno | 23},
		// ip hi (0x11) >> 4 = 1, NEG → 0xffffffff, AND 0xffff0000 → kill_process-ish value.
		{"neg", []unix.SockFilter{s(ld, 12), s(alu|unix.BPF_RSH|unix.BPF_K, 4), s(alu|unix.BPF_NEG, 0), s(alu|unix.BPF_AND|unix.BPF_K, retAllow), s(retA, 0)}, retAllow},
		// JSET X and JGT X: arg1 (9) & nr (7) != 0 → allow.
		{"jset x", []unix.SockFilter{s(unix.BPF_LDX|unix.BPF_W|unix.BPF_LEN, 0), s(ld, 0), s(unix.BPF_MISC|unix.BPF_TAX, 0), s(ld, 24),
			j(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_X, 0, 0, 1), s(unix.BPF_RET|unix.BPF_K, retAllow), s(unix.BPF_RET|unix.BPF_K, retTrap)}, retAllow},
		// A / X with X = 0 ends the program with 0 (kill thread).
		{"div zero", []unix.SockFilter{s(unix.BPF_LDX|unix.BPF_IMM, 0), s(ld, 0), s(alu|unix.BPF_DIV|unix.BPF_X, 0), s(unix.BPF_RET|unix.BPF_K, retAllow)}, retKillThread},
		// LEN, TXA, JA.
		{"len", []unix.SockFilter{s(unix.BPF_LDX|unix.BPF_W|unix.BPF_LEN, 0), s(unix.BPF_MISC|unix.BPF_TXA, 0), s(unix.BPF_JMP|unix.BPF_JA, 1), s(unix.BPF_RET|unix.BPF_K, retTrap),
			s(alu|unix.BPF_OR|unix.BPF_K, retErrno), s(retA, 0)}, retErrno | 64},
	} {
		got, err := run(tc.prog, &d)
		if err != nil || got != tc.want {
			t.Errorf("%s: %#x, %v; want %#x", tc.name, got, err, tc.want)
		}
	}
	// Programs the kernel refuses: the interpreter refuses them too, and Evaluate kills.
	for name, prog := range map[string][]unix.SockFilter{
		"misaligned": {s(ld, 2), s(unix.BPF_RET|unix.BPF_K, retAllow)},
		"beyond":     {s(ld, 64), s(unix.BPF_RET|unix.BPF_K, retAllow)},
		"no return":  {s(ld, 0)},
		"far jump":   {j(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 5, 0), s(unix.BPF_RET|unix.BPF_K, retAllow)},
		"ld ind":     {s(unix.BPF_LD|unix.BPF_W|unix.BPF_IND, 0), s(unix.BPF_RET|unix.BPF_K, retAllow)},
	} {
		f := &Filter{Program: prog}
		if a, _ := f.Evaluate(d); a != ActKillProcess {
			t.Errorf("%s: %s, want kill_process", name, a)
		}
	}
}

// TestEvaluateReads checks that EvaluateReads names the arguments a compiled
// filter read for a call: none for one it allows by number, the compared one
// for a rule with an argument condition, and none again for another call.
func TestEvaluateReads(t *testing.T) {
	f, err := Compile(Profile{DefaultAction: ActErrno, Syscalls: []Rule{
		{Names: []string{"close"}, Action: ActAllow},
		{Names: []string{"personality"}, Action: ActAllow, Args: []Arg{{Index: 0, Value: 8, Op: OpEqualTo}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		nr    int32
		arg0  uint64
		act   Action
		reads uint8
	}{
		{unix.SYS_CLOSE, 5, ActAllow, 0},
		{unix.SYS_PERSONALITY, 8, ActAllow, 1},
		{unix.SYS_PERSONALITY, 9, ActErrno, 1},
		{unix.SYS_DUP3, 0, ActErrno, 0},
	} {
		act, _, reads := f.EvaluateReads(Data{Nr: c.nr, Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{c.arg0}})
		if act != c.act || reads != c.reads {
			t.Errorf("call %d (%d): %s reading %#b, want %s reading %#b", c.nr, c.arg0, act, reads, c.act, c.reads)
		}
	}
}
