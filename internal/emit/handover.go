package emit

import (
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/plan"
)

// Handover hands the start over to a target cloned into the joined pid
// namespace (child.KindHandover), which sets the parent-death signal of the Plan
// again: the steps that follow are the target's.
func Handover(p *child.Program, pl *plan.Plan) {
	op := child.Op{Kind: child.KindHandover}
	op.Args[0] = uintptr(pl.Spawn.ParentDeathSignal)
	p.Append(op, "handover", "clone the target into the joined pid namespace and hand it to the parent")
}
