package seccomp

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	elastic "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
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
	// LoadFlags are the profile's filter flags (Profile.Flags), as seccomp(2)
	// takes them.
	LoadFlags uintptr
}

// ErrProgramTooLarge is returned by Compile when the program exceeds the kernel's
// limit of 4096 instructions (BPF_MAXINSNS).
var ErrProgramTooLarge = errors.New("seccomp program exceeds 4096 instructions")

const (
	maxInsns = 4096
	offNr    = 0
	offArch  = 4
	offArgs  = 16
	x32Bit   = 0x40000000
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
// other than the native one, or an x32 call on x86_64, kills the process. Then the
// syscall number is dispatched by a balanced binary search: the number space is cut
// into intervals, adjacent numbers with the same unconditional verdict (or none, so
// the default) sharing one, and a tree of JGE tests on the interval bounds leads to
// each interval's leaf in O(log n) instructions. A leaf is the verdict itself, or,
// for a number with argument-checked rules, a jump to that number's body: its rules
// in profile order, each testing its conditions on the 64-bit arguments in 32-bit
// halves (masked-equal with JSET tests, assembled with github.com/elastic/go-seccomp-bpf's
// label assembler) and returning its action, then the first name-only rule's action
// or the default. The first rule that names a number and whose conditions hold
// decides it, as the profile says; rules after a name-only rule for the same number
// are left out. With NewerErrno set, the numbers above the highest one any rule names
// form one last interval answering that errno.
//
// The kernel emulates a new filter once per syscall number to find those allowed
// whatever the arguments (see the package documentation); with the search tree each
// emulation, like each filtered call, runs a dozen instructions instead of a chain
// of hundreds of comparisons.
func Compile(p Profile) (*Filter, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := &Filter{NeedsListener: p.DefaultAction == ActNotify}
	flags, err := p.loadFlags()
	if err != nil {
		return nil, err
	}
	f.LoadFlags = flags
	prog := make([]unix.SockFilter, 0, 256)
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
	// The rules of each number, in profile order, up to the first name-only one.
	// The maps are sized for every name up front (Docker's profile names about
	// 370), so that they do not grow and rehash as they fill: a fifth less memory.
	names := 0
	for _, r := range p.Syscalls {
		names += len(r.Names)
	}
	perNr := make(map[uint32][]entry, names)
	decided := make(map[uint32]bool, names)
	for i, r := range p.Syscalls {
		ret, _ := r.Action.retValue(r.Errno)
		var nrs []uint32
		for _, n := range r.Names {
			if nr, ok := nativeNumber(n); ok && !decided[nr] && !slices.Contains(nrs, nr) {
				nrs = append(nrs, nr)
			}
		}
		if len(nrs) == 0 || !argsSatisfiable(r.Args) {
			continue
		}
		if r.Action == ActNotify {
			f.NeedsListener = true
		}
		for _, nr := range nrs {
			perNr[nr] = append(perNr[nr], entry{rule: i, args: r.Args, ret: ret})
			if len(r.Args) == 0 {
				decided[nr] = true
			}
		}
	}
	def, _ := p.DefaultAction.retValue(p.DefaultErrno)
	ivs := intervals(perNr, def)
	if p.NewerErrno != 0 {
		if top, ok := highestNumber(p); ok && top != math.MaxUint32 {
			ivs = withTail(ivs, top+1, retErrno|uint32(p.NewerErrno))
		}
	}
	// Bodies of the numbers with conditions follow the tree; the tree's leaves jump to them.
	var bodies []unix.SockFilter
	for k := range ivs {
		iv := &ivs[k]
		if iv.entries == nil {
			continue
		}
		iv.body = len(bodies)
		var err error
		if bodies, err = appendBody(bodies, iv.entries, def); err != nil {
			return nil, err
		}
	}
	tree := appendTree(nil, ivs)
	base := len(prog) + len(tree) // index of the first body instruction
	for pc := range tree {
		if tree[pc].Code == opJa && tree[pc].Jt == bodyMark {
			// K holds the body's offset; make it relative to the instruction after pc.
			tree[pc].K = uint32(base+int(tree[pc].K)) - uint32(len(prog)+pc+1)
			tree[pc].Jt = 0
		}
	}
	prog = append(append(prog, tree...), bodies...)
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

// An entry is one rule's part in deciding one syscall number.
type entry struct {
	rule int // index in Profile.Syscalls, for errors
	args []Arg
	ret  uint32
}

// An interval is a range of syscall numbers, from start to the next interval's start,
// decided alike: by ret, or, when entries is set (a single number with argument
// conditions), by the body at offset body among the bodies.
type interval struct {
	start   uint32
	ret     uint32
	entries []entry
	body    int
}

// intervals cuts the 32-bit number space into intervals, merging neighbours with the
// same unconditional verdict; numbers without rules get def.
func intervals(perNr map[uint32][]entry, def uint32) []interval {
	nrs := make([]uint32, 0, len(perNr))
	for nr := range perNr {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	ivs := []interval{{start: 0, ret: def}}
	add := func(iv interval) {
		if last := ivs[len(ivs)-1]; last.start == iv.start {
			// iv replaces the default interval of no numbers that ends at it.
			if ivs = ivs[:len(ivs)-1]; len(ivs) == 0 {
				ivs = append(ivs, iv)
				return
			}
		}
		if last := ivs[len(ivs)-1]; iv.entries == nil && last.entries == nil && last.ret == iv.ret {
			return
		}
		ivs = append(ivs, iv)
	}
	for _, nr := range nrs {
		es := perNr[nr]
		if len(es[0].args) == 0 {
			add(interval{start: nr, ret: es[0].ret})
		} else {
			add(interval{start: nr, entries: es})
		}
		if nr != math.MaxUint32 {
			add(interval{start: nr + 1, ret: def})
		}
	}
	return ivs
}

// highestNumber returns the highest native number that a rule of p names, counting
// every rule (as runc's -ENOSYS stub does), or false if no rule names one.
func highestNumber(p Profile) (uint32, bool) {
	var top uint32
	found := false
	for _, r := range p.Syscalls {
		for _, n := range r.Names {
			if nr, ok := nativeNumber(n); ok && (!found || nr > top) {
				top, found = nr, true
			}
		}
	}
	return top, found
}

// withTail gives the numbers from start up the verdict ret. No rule names a number
// from start up, so the intervals there are plain default ones.
func withTail(ivs []interval, start, ret uint32) []interval {
	last := &ivs[len(ivs)-1]
	switch {
	case last.start == start && last.entries == nil:
		last.ret = ret
	case last.start < start && last.entries == nil && last.ret == ret:
	default:
		ivs = append(ivs, interval{start: start, ret: ret})
	}
	return ivs
}

// bodyMark tags a tree's JA to a body until the body's place is known; a JA never
// uses its Jt field.
const bodyMark = 1

// appendTree emits the binary search over ivs, which cover the number space from
// ivs[0].start, with the syscall number in A. A node tests A >= the first start of its
// upper half, falling through to the lower half; a leaf is a return or a JA to a body
// marked with bodyMark and the body's offset in K.
func appendTree(prog []unix.SockFilter, ivs []interval) []unix.SockFilter {
	if len(ivs) == 1 {
		if ivs[0].entries != nil {
			return append(prog, unix.SockFilter{Code: opJa, Jt: bodyMark, K: uint32(ivs[0].body)})
		}
		return append(prog, stmt(opRetK, ivs[0].ret))
	}
	mid := len(ivs) / 2
	lower := appendTree(nil, ivs[:mid])
	if len(lower) <= 255 {
		prog = append(prog, jump(opJgeK, ivs[mid].start, uint8(len(lower)), 0))
	} else {
		prog = append(prog, jump(opJgeK, ivs[mid].start, 0, 1), stmt(opJa, uint32(len(lower))))
	}
	prog = append(prog, lower...)
	return appendTree(prog, ivs[mid:])
}

// appendBody emits the rules of one syscall number in order: each argument-checked
// rule returns its action when its conditions hold and falls through to the next
// otherwise; a name-only rule, or else the default def, ends the body.
func appendBody(prog []unix.SockFilter, es []entry, def uint32) ([]unix.SockFilter, error) {
	for _, e := range es {
		if len(e.args) == 0 {
			return append(prog, stmt(opRetK, e.ret)), nil
		}
		a := elastic.NewProgram()
		fail := a.NewLabel()
		for _, c := range e.args {
			ok := a.NewLabel()
			emitCondition(&a, c, ok, fail)
			a.SetLabel(ok)
		}
		a.Ret(elastic.Action(e.ret))
		a.SetLabel(fail)
		var err error
		if prog, err = splice(prog, &a); err != nil {
			return nil, fmt.Errorf("seccomp: compiling rule %d: %w", e.rule, err)
		}
	}
	return append(prog, stmt(opRetK, def)), nil
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

// Flags returns the flags with which the child loads f with
// seccomp(SECCOMP_SET_MODE_FILTER): the profile's LoadFlags, and
// SECCOMP_FILTER_FLAG_NEW_LISTENER when a rule (or the default) notifies. The
// child is single-threaded, so never TSYNC.
func (f *Filter) Flags() uintptr {
	if f.NeedsListener {
		return f.LoadFlags | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	return f.LoadFlags
}
