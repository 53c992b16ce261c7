package emit

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/landlock"
)

// Landlock appends the child's Landlock step for s at ABI abi, as s.Resolve returns
// it: a child.KindLandlock op, stage "landlock", whose Args[0] (and Ptr) is a
// *child.LandlockRules holding a struct landlock_ruleset_attr that handles every
// filesystem right of the ABI (see landlock.HandledAccessFS), each rule's path as a C
// string and its rights. The child builds and enforces the ruleset after pivot_root
// and no_new_privs. Nothing is appended when abi < 1 or s has no rules.
func Landlock(p *child.Program, s landlock.Spec, abi int) {
	if abi < 1 || len(s.Rules) == 0 {
		return
	}
	handled := landlock.HandledAccessFS(min(abi, landlock.MaxKnownABI))
	// struct landlock_ruleset_attr starts with __u64 handled_access_fs; the kernel takes
	// a shorter struct than its own and zero-fills the rest (no network rules, no scopes).
	attr := binary.NativeEndian.AppendUint64(nil, handled)
	rules := &child.LandlockRules{
		Attr:       attr,
		Paths:      make([]uintptr, len(s.Rules)),
		Access:     make([]uint64, len(s.Rules)),
		FileAccess: landlock.FileAccessFS(abi),
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
