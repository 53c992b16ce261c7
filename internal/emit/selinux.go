package emit

import (
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/selinux"
)

// Labels appends the child's step that sets the process label: a KindWriteFile op,
// stage "selinux", writing l.Process to selinux.ExecAttrPath. The kernel applies the
// label at execve. Nothing is appended when SELinux is not enabled (pass
// selinux.Enabled()) or l.Process is empty. The op runs after pivot_root, so the
// sandbox's /proc must be mounted and /proc/thread-self/attr not masked.
func Labels(p *child.Program, l selinux.Labels, enabled bool) {
	if !enabled || l.Process == "" {
		return
	}
	buf, n := p.Bytes([]byte(l.Process))
	op := child.Op{Kind: child.KindWriteFile}
	op.Args[0] = p.CString(selinux.ExecAttrPath)
	op.Args[1] = buf
	op.Args[2] = n
	p.Append(op, "selinux", "set exec label "+l.Process)
}
