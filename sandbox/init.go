package sandbox

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/filtercheck"
	"github.com/paddock-sandbox/paddock/internal/initelf"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// compileInit makes the init's sealed memfd, which the Template holds until Close,
// and appends the op that forks the target and executes the init in PID 1 (see
// package initelf). The memfd sits above child.MaxFDs, out of reach of the
// child's descriptor shuffle, which only ever writes below the number of target
// descriptors.
//
// What could stop the init is checked here: an architecture without one, a kernel
// that forbids executable memfds, and a seccomp filter that would refuse or kill
// one of the init's system calls (PID 1 loads the target's filter before it
// executes the init). Landlock cannot stop it: PID 1 does not take the target's
// ruleset, which would forbid executing a memfd; the target, inside its Landlock
// domain, can then neither trace PID 1 nor open its memory.
func (t *Template) compileInit(p *child.Program, filter *seccomp.Filter) error {
	if err := filtercheck.InitCalls(filter); err != nil {
		return &SpecError{NotSupported: true, Field: "init", Err: err}
	}
	f, err := initelf.Memfd(child.MaxFDs)
	if err != nil {
		if errors.Is(err, initelf.ErrNotSupported) {
			return &SpecError{NotSupported: true, Field: "init", Err: err}
		}
		return fmt.Errorf("sandbox: init: %w", err)
	}
	t.files = append(t.files, f) // closed by Close
	name := []byte(initelf.Name + "\x00")
	p.Keep(name)
	op := child.Op{Kind: child.KindInit, Ptr: unsafe.Pointer(&name[0])}
	op.Args[0] = f.Fd()
	p.Append(op, "init", "fork the target and execute the init in PID 1")
	return nil
}
