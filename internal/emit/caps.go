package emit

import (
	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/child"
)

// capsStage is the stage of the child's capability steps.
const capsStage = "capabilities"

// Caps appends the child's steps that give it the sets s, in the one order that
// survives execve for both root and non-root targets (see package caps): Bounding,
// then Capset.
//
// The child must hold CAP_SETPCAP in its effective set when the steps run. Note that
// setresuid from uid 0 to a non-zero uid clears the effective set even with
// PR_SET_KEEPCAPS: a child that changes to a non-root user before these steps must
// either run Bounding before the uid change and Capset after it, or keep its
// effective set by other means.
func Caps(p *child.Program, s caps.Sets) {
	Bounding(p, s)
	Capset(p, s)
}

// Bounding appends one prctl(PR_CAPBSET_DROP) step for every capability of the
// running kernel (0 through caps.Last()) that is not in s.Bounding. A capability the
// kernel does not know fails with EINVAL, which the step ignores.
func Bounding(p *child.Program, s caps.Sets) {
	for c := caps.Cap(0); c <= caps.Last(); c++ {
		if !s.Bounding.Has(c) {
			p.Syscall(capsStage, "drop "+c.String()+" from the bounding set", child.IgnoreEINVAL,
				unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, uintptr(c))
		}
	}
}

// Capset appends the steps after the bounding set: clear the ambient set, capset
// (version 3) the effective, permitted and inheritable sets, and raise each
// capability of s.Ambient in the ambient set, which the kernel allows only once it is
// permitted and inheritable.
func Capset(p *child.Program, s caps.Sets) {
	// A kernel without ambient capabilities (before 4.3) fails with EINVAL and has none to clear.
	p.Syscall(capsStage, "clear the ambient set", child.IgnoreEINVAL,
		unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL)

	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := &[2]unix.CapUserData{
		{Effective: uint32(s.Effective), Permitted: uint32(s.Permitted), Inheritable: uint32(s.Inheritable)},
		{Effective: uint32(s.Effective >> 32), Permitted: uint32(s.Permitted >> 32), Inheritable: uint32(s.Inheritable >> 32)},
	}
	p.Syscall(capsStage, "capset effective=["+s.Effective.String()+"] permitted=["+s.Permitted.String()+
		"] inheritable=["+s.Inheritable.String()+"]", 0,
		unix.SYS_CAPSET, child.Ptr(p, hdr), child.Ptr(p, data))

	for _, c := range s.Ambient.List() {
		p.Syscall(capsStage, "raise "+c.String()+" in the ambient set", 0,
			unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c))
	}
}
