package seccomp

import (
	"errors"
	"fmt"
	"math/bits"

	elastic "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
)

// A Filter is a compiled profile: a classic BPF program ready for
// seccomp(SECCOMP_SET_MODE_FILTER). It is immutable and safe for concurrent use.
type Filter struct {
	// Program holds the instructions.
	Program []unix.SockFilter
	// Prog points at Program, ready to pass to the kernel.
	Prog unix.SockFprog
	// NeedsListener reports whether a rule (or the default) uses ActNotify, so that
	// the filter must be loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER and someone
	// must answer on the returned descriptor.
	NeedsListener bool
}

// ErrProgramTooLarge is returned by Compile when the program exceeds the kernel's
// limit of 4096 instructions (BPF_MAXINSNS).
var ErrProgramTooLarge = errors.New("seccomp program exceeds 4096 instructions")

// A CompileError reports a failure to assemble rule Index of a valid profile.
type CompileError struct {
	Index int
	Err   error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("seccomp: compiling rule %d: %v", e.Index, e.Err)
}

// Unwrap returns the cause.
func (e *CompileError) Unwrap() error { return e.Err }

const (
	maxInsns     = 4096
	offNr        = 0
	offArch      = 4
	offArgs      = 16
	x32Bit       = 0x40000000
	namesPerPart = 100 // name-only rules are assembled in parts with short jumps only
)

// Classic BPF opcodes used by the hand-written parts of the program.
const (
	opLdAbsW = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opJeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJgeK   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opJa     = unix.BPF_JMP | unix.BPF_JA
	opRetK   = unix.BPF_RET | unix.BPF_K
)

// Compile validates p and compiles it into a Filter.
//
// The program starts with a hand-written prologue: a call from any architecture
// other than the native one, or an x32 call on x86_64, kills the process. Then come
// the rules in order, each assembled with github.com/elastic/go-seccomp-bpf's label
// assembler: a name-only rule is a chain of number comparisons ending in its action,
// so the kernel's per-number allow cache sees those numbers as allowed; a rule with
// argument conditions checks the number first (with the comparison emitted here, so
// the segment is skipped whole), then the conditions on the 64-bit arguments in
// 32-bit halves (masked-equal with JSET tests), and reloads the number when they do
// not hold. The default action ends the program. Numbers that an earlier name-only
// rule already decides are left out.
func Compile(p Profile) (*Filter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := &Filter{NeedsListener: p.DefaultAction == ActNotify}
	prog := make([]unix.SockFilter, 0, 512)
	prog = append(prog,
		stmt(opLdAbsW, offArch),
		jump(opJeqK, uint32(native.ID), 1, 0),
		stmt(opRetK, retKillProcess),
		stmt(opLdAbsW, offNr),
	)
	if uint32(native.ID) == unix.AUDIT_ARCH_X86_64 {
		prog = append(prog,
			jump(opJgeK, x32Bit, 0, 1),
			stmt(opRetK, retKillProcess),
		)
	}
	decided := map[uint32]bool{}
	for i, r := range p.Syscalls {
		ret, _ := r.Action.retValue(r.Errno)
		var nrs []uint32
		for _, n := range r.Names {
			nr, ok := nativeNumber(n)
			if ok && !decided[nr] {
				nrs = append(nrs, nr)
				if len(r.Args) == 0 {
					decided[nr] = true
				}
			}
		}
		if len(nrs) == 0 || !argsSatisfiable(r.Args) {
			continue
		}
		if r.Action == ActNotify {
			f.NeedsListener = true
		}
		var err error
		if len(r.Args) == 0 {
			for len(nrs) > 0 && err == nil {
				part := nrs[:min(len(nrs), namesPerPart)]
				nrs = nrs[len(part):]
				prog, err = appendNames(prog, part, ret)
			}
		} else {
			for _, nr := range nrs {
				if prog, err = appendConditional(prog, nr, r.Args, ret); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, &CompileError{Index: i, Err: err}
		}
	}
	def, _ := p.DefaultAction.retValue(p.DefaultErrno)
	prog = append(prog, stmt(opRetK, def))
	if len(prog) > maxInsns {
		return nil, fmt.Errorf("%w: %d", ErrProgramTooLarge, len(prog))
	}
	if err := check(prog); err != nil {
		return nil, fmt.Errorf("seccomp: compiled program is invalid: %w", err)
	}
	f.Program = prog
	f.Prog = unix.SockFprog{Len: uint16(len(prog)), Filter: &f.Program[0]}
	return f, nil
}

// appendNames assembles "if nr is one of nrs, return ret" with the elastic assembler.
func appendNames(prog []unix.SockFilter, nrs []uint32, ret uint32) ([]unix.SockFilter, error) {
	a := elastic.NewProgram()
	action, next := a.NewLabel(), a.NewLabel()
	for i, nr := range nrs {
		if i < len(nrs)-1 {
			a.JmpIfTrue(bpf.JumpEqual, nr, action)
		} else {
			a.JmpIf(bpf.JumpEqual, nr, action, next)
		}
	}
	a.SetLabel(action)
	a.Ret(elastic.Action(ret))
	a.SetLabel(next)
	return splice(prog, &a)
}

// appendConditional assembles "if nr matches and every condition holds, return ret;
// otherwise reload the number". The number test is hand-written so that a call with
// another number skips the segment and the reload.
func appendConditional(prog []unix.SockFilter, nr uint32, args []Arg, ret uint32) ([]unix.SockFilter, error) {
	a := elastic.NewProgram()
	fail := a.NewLabel()
	for _, c := range args {
		ok := a.NewLabel()
		emitCondition(&a, c, ok, fail)
		a.SetLabel(ok)
	}
	a.Ret(elastic.Action(ret))
	a.SetLabel(fail)
	body, err := a.Assemble()
	if err != nil {
		return nil, err
	}
	skip := len(body) + 1 // the segment and the reload
	if skip <= 255 {
		prog = append(prog, jump(opJeqK, nr, 0, uint8(skip)))
	} else {
		prog = append(prog, jump(opJeqK, nr, 1, 0), stmt(opJa, uint32(skip)))
	}
	prog, err = appendRaw(prog, body)
	if err != nil {
		return nil, err
	}
	return append(prog, stmt(opLdAbsW, offNr)), nil
}

// emitCondition emits a test of one condition on a 64-bit argument, 32 bits at a
// time (high half first), that continues at ok or fail. Only JEQ, JGT, JGE and JSET
// are used, the tests classic BPF has.
func emitCondition(a *elastic.Program, c Arg, ok, fail elastic.Label) {
	idx := uint32(c.Index)
	hi, lo := uint32(c.Value>>32), uint32(c.Value)
	// orFail continues at the next instruction when the test holds and fails otherwise.
	orFail := func(cond bpf.JumpTest, v uint32) {
		next := a.NewLabel()
		a.JmpIf(cond, v, next, fail)
		a.SetLabel(next)
	}
	switch c.Op {
	case OpEqualTo:
		a.LdHi(idx)
		a.JmpIfTrue(bpf.JumpNotEqual, hi, fail)
		a.LdLo(idx)
		a.JmpIf(bpf.JumpEqual, lo, ok, fail)
	case OpNotEqual:
		a.LdHi(idx)
		a.JmpIfTrue(bpf.JumpNotEqual, hi, ok)
		a.LdLo(idx)
		a.JmpIf(bpf.JumpEqual, lo, fail, ok)
	case OpGreaterThan, OpGreaterEqual:
		a.LdHi(idx)
		a.JmpIfTrue(bpf.JumpGreaterThan, hi, ok)
		a.JmpIfTrue(bpf.JumpNotEqual, hi, fail)
		a.LdLo(idx)
		cond := bpf.JumpGreaterThan
		if c.Op == OpGreaterEqual {
			cond = bpf.JumpGreaterOrEqual
		}
		a.JmpIf(cond, lo, ok, fail)
	case OpLessThan, OpLessEqual:
		// arg < v is not(arg >= v); arg <= v is not(arg > v).
		a.LdHi(idx)
		a.JmpIfTrue(bpf.JumpGreaterThan, hi, fail)
		a.JmpIfTrue(bpf.JumpNotEqual, hi, ok)
		a.LdLo(idx)
		cond := bpf.JumpGreaterOrEqual
		if c.Op == OpLessEqual {
			cond = bpf.JumpGreaterThan
		}
		a.JmpIf(cond, lo, fail, ok)
	case OpMaskedEqual:
		// arg & mask == want: no bit of mask outside want is set, every bit of want is.
		for half := range 2 {
			mask, want := uint32(c.Value>>32), uint32(c.ValueTwo>>32)
			if half == 1 {
				mask, want = uint32(c.Value), uint32(c.ValueTwo)
			}
			if mask == 0 {
				continue
			}
			if half == 0 {
				a.LdHi(idx)
			} else {
				a.LdLo(idx)
			}
			if clear := mask &^ want; clear != 0 {
				a.JmpIfTrue(bpf.JumpBitsSet, clear, fail)
			}
			for w := want; w != 0; w &= w - 1 {
				orFail(bpf.JumpBitsSet, 1<<bits.TrailingZeros32(w))
			}
		}
		// When every test held, control falls through to ok, which the caller sets
		// right after the condition.
	}
}

// argsSatisfiable reports false for a rule that can never match: a masked-equal
// whose expected value has bits outside its mask.
func argsSatisfiable(args []Arg) bool {
	for _, a := range args {
		if a.Op == OpMaskedEqual && a.ValueTwo&^a.Value != 0 {
			return false
		}
	}
	return true
}

// splice assembles a and appends its instructions.
func splice(prog []unix.SockFilter, a *elastic.Program) ([]unix.SockFilter, error) {
	body, err := a.Assemble()
	if err != nil {
		return nil, err
	}
	return appendRaw(prog, body)
}

func appendRaw(prog []unix.SockFilter, body []bpf.Instruction) ([]unix.SockFilter, error) {
	raw, err := bpf.Assemble(body)
	if err != nil {
		return nil, err
	}
	for _, r := range raw {
		prog = append(prog, unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K})
	}
	return prog, nil
}

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// Append adds the op that loads f in the child (stage "seccomp"): seccomp(2) with
// SECCOMP_SET_MODE_FILTER and, when a rule notifies, SECCOMP_FILTER_FLAG_NEW_LISTENER
// (the child sends the listener to the parent). The child is single-threaded, so no
// TSYNC. The caller must have set no_new_privs or hold CAP_SYS_ADMIN, and the op
// should be the last before execve.
func (f *Filter) Append(p *child.Program) {
	var flags uintptr
	if f.NeedsListener {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	p.Keep(f)
	op := child.Op{Kind: child.KindSeccomp, Trap: unix.SYS_SECCOMP}
	op.Args[0] = child.Ptr(p, &f.Prog)
	op.Args[1] = flags
	p.Append(op, "seccomp", fmt.Sprintf("load seccomp filter (%d instructions, flags %#x)", len(f.Program), flags))
}
