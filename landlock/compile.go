package landlock

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
)

// Compile appends the child's Landlock step for s: a child.KindLandlock op, stage
// "landlock", whose Args[0] (and Ptr) is a *child.LandlockRules holding a
// struct landlock_ruleset_attr that handles every filesystem right of the running ABI
// (see HandledAccessFS), each rule's path as a C string and its rights. The child builds
// and enforces the ruleset after pivot_root and no_new_privs.
//
// A Spec without rules appends nothing. On a kernel without Landlock, Compile appends
// nothing, or, when s.Strict is set, returns an *UnsupportedError matching
// ErrNotSupported. Invalid specs fail with the error of Validate.
func (s Spec) Compile(p *child.Program) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if len(s.Rules) == 0 {
		return nil
	}
	abi, err := ABI()
	if err != nil {
		if s.Strict {
			return err
		}
		return nil
	}
	s.compile(p, abi)
	return nil
}

// compile appends the op for a kernel at Landlock ABI abi (>= 1); s is valid and has
// rules.
func (s Spec) compile(p *child.Program, abi int) {
	handled := HandledAccessFS(min(abi, MaxKnownABI))
	// struct landlock_ruleset_attr starts with __u64 handled_access_fs; the kernel takes
	// a shorter struct than its own and zero-fills the rest (no network rules, no scopes).
	attr := binary.NativeEndian.AppendUint64(nil, handled)
	rules := &child.LandlockRules{
		Attr:       attr,
		Paths:      make([]uintptr, len(s.Rules)),
		Access:     make([]uint64, len(s.Rules)),
		FileAccess: fileRights & handled,
		Strict:     s.Strict,
	}
	what := "restrict to"
	for i, r := range s.Rules {
		rules.Paths[i] = p.CString(r.Path)
		rules.Access[i] = r.Access.Rights() & handled
		what += " " + r.String()
	}
	op := child.Op{Kind: child.KindLandlock, Ptr: unsafe.Pointer(rules)}
	op.Args[0] = child.Ptr(p, rules)
	p.Append(op, "landlock", what+" (ABI "+strconv.Itoa(abi)+")")
}
