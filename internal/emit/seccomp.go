package emit

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// Filter appends the op that loads f in the child (stage "seccomp"): seccomp(2)
// with SECCOMP_SET_MODE_FILTER and f.Flags() (SECCOMP_FILTER_FLAG_NEW_LISTENER when a
// rule notifies; the child sends the listener to the parent). The child is
// single-threaded, so no TSYNC. The child must have set no_new_privs or hold
// CAP_SYS_ADMIN, and the op should be the last before execve. p keeps f alive.
func Filter(p *child.Program, f *seccomp.Filter) {
	flags := f.Flags()
	p.Keep(f)
	op := child.Op{Kind: child.KindSeccomp, Trap: unix.SYS_SECCOMP}
	op.Args[0] = child.Ptr(p, &f.Prog)
	op.Args[1] = flags
	p.Append(op, "seccomp", fmt.Sprintf("load seccomp filter (%d instructions, flags %#x)", len(f.Program), flags))
}
