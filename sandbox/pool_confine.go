package sandbox

import (
	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/filtercheck"
)

// confineBeforePool moves no_new_privs and the load of the seccomp filter of p,
// the Template's program, ahead of its pool point (t.poolAt), so that a warm
// child has made them before it waits, where that changes nothing the target
// or a failing start could see (see earlyConfinement). Every start of the
// Template, pooled or not, then runs the same order, which the Plan's steps show.
func (t *Template) confineBeforePool(p *child.Program) {
	moved := t.earlyConfinement(p)
	if moved == nil {
		return
	}
	ops := append([]child.Op(nil), p.Ops[:t.poolAt]...)
	steps := append([]child.Step(nil), p.Steps[:t.poolAt]...)
	for _, i := range moved {
		ops, steps = append(ops, p.Ops[i]), append(steps, p.Steps[i])
		steps[len(steps)-1].What += " (before the pool point: the filter allows every later system call)"
	}
	for i := t.poolAt; i < len(p.Ops); i++ {
		if i != moved[0] && i != moved[len(moved)-1] {
			ops, steps = append(ops, p.Ops[i]), append(steps, p.Steps[i])
		}
	}
	// In place: the mount watch keeps p itself as the base of its new plans.
	p.Ops, p.Steps = ops, steps
	t.poolAt += len(moved)
}

// earlyConfinement returns the indices, in p's order, of the no_new_privs op
// (where the Spec sets it) and of the filter's load that confineBeforePool
// may move, or nil. It may where the filter has no user-notification listener
// (which goes to the parent once the target runs), no_new_privs comes right
// before the load, no init, Landlock ruleset or hold follows the pool point,
// and the filter answers SECCOMP_RET_ALLOW to every system call that a warm
// child makes from its pool op to its target (child.Program.CallsAfterPool),
// whatever the start (filtercheck.Allows). Bounding drops and capset need no
// more than the late order: the capabilities are the same on both sides of
// the pool point, CAP_SYS_ADMIN included for a load without no_new_privs.
func (t *Template) earlyConfinement(p *child.Program) []int {
	if t.filter == nil {
		return nil
	}
	load, nnp := -1, -1
	for i := t.poolAt; i < len(p.Ops); i++ {
		op := &p.Ops[i]
		switch {
		case op.Kind == child.KindSeccomp && load < 0:
			load = i
		case op.Kind == child.KindSeccomp, op.Kind == child.KindInit, op.Kind == child.KindLandlock, op.Kind == child.KindHold:
			return nil
		case op.Kind == child.KindSyscall && op.Trap == unix.SYS_PRCTL && op.Args[0] == unix.PR_SET_NO_NEW_PRIVS:
			nnp = i
		}
	}
	if load < 0 || p.Ops[load].Args[1]&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0 {
		return nil
	}
	moved := []int{load}
	if nnp >= 0 {
		if nnp != load-1 {
			return nil
		}
		moved = []int{nnp, load}
	}
	calls, unknown := p.CallsAfterPool(t.poolAt, moved...)
	if len(unknown) > 0 || !filtercheck.Allows(t.filter, calls) {
		return nil
	}
	return moved
}
