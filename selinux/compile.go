package selinux

import (
	"strconv"

	"github.com/paddock-sandbox/paddock/internal/child"
)

// ExecAttrPath is where a thread sets the label its next execve gives it.
const ExecAttrPath = "/proc/thread-self/attr/exec"

// Compile appends the child's step that sets the process label: a KindWriteFile op,
// stage "selinux", writing l.Process to /proc/thread-self/attr/exec. The kernel applies
// the label at execve. Nothing is appended when SELinux is disabled or l.Process is
// empty. The op runs after pivot_root, so the sandbox's /proc must be mounted and
// /proc/thread-self/attr not masked.
func (l Labels) Compile(p *child.Program) { l.compile(p, Enabled()) }

func (l Labels) compile(p *child.Program, enabled bool) {
	if !enabled || l.Process == "" {
		return
	}
	buf, n := p.Bytes([]byte(l.Process))
	op := child.Op{Kind: child.KindWriteFile}
	op.Args[0] = p.CString(ExecAttrPath)
	op.Args[1] = buf
	op.Args[2] = n
	p.Append(op, "selinux", "set exec label "+l.Process)
}

// MountOption returns the mount data option that labels every file of a tmpfs or overlay
// mount with label: context="LABEL", to be joined to other options with a comma. It
// returns "" when SELinux is disabled or label is empty.
func MountOption(label string) string { return mountOption(label, Enabled()) }

func mountOption(label string, enabled bool) string {
	if !enabled || label == "" {
		return ""
	}
	// The level holds commas ("s0:c1,c2"), which would split the mount data: quote it.
	return "context=" + strconv.Quote(label)
}
