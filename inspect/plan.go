package inspect

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// FromPlan reports what a sandbox started from p would be isolated by: the same
// Report that Process gives for the live process, read off the Plan and
// classified. Reference is the caller that made the Plan and PID is 0.
//
// Where a Plan stands for what each start gets, so does the Report: the cgroup
// paths end in "<start>", the SELinux categories and an automatic range's first
// block are representative. Masked and ReadOnly list the Plan's paths, which may
// go beyond the default lists that Process checks.
func FromPlan(p *plan.Plan) *Report {
	self := p.Caller.PID
	r := &Report{RefPID: self, Reference: "the caller, pid " + strconv.Itoa(self) + "; the sandbox has not started"}
	for _, n := range p.Namespaces {
		r.Namespaces = append(r.Namespaces, namespaceOf(n))
	}
	r.UIDMap, r.GIDMap, r.Setgroups = p.IDs.UIDMap, p.IDs.GIDMap, p.IDs.Setgroups
	r.UID, r.GID = p.IDs.UID, p.IDs.GID
	r.Capabilities = NewCapabilityReport(p.Capabilities.Exec, p.Capabilities.CallerBounding, "the bounding set of pid "+strconv.Itoa(self))
	r.Seccomp = seccompOf(p.Seccomp)
	r.NoNewPrivs = p.NoNewPrivs.On()
	r.Mounts = mountsOf(p.Filesystem)
	r.SELinux = SELinuxReport{Enabled: p.SELinux.Enabled, Label: p.SELinux.Labels.Process}
	r.Landlock = landlockOf(p.Landlock)
	c := p.Cgroup
	r.Cgroup = CgroupReport{Paths: c.Paths, Memory: c.Memory, Pids: c.Pids, CPUQuota: c.CPUQuota, CPUPeriod: c.CPUPeriod, Err: c.Err}
	for _, l := range p.Rlimits {
		v := int64(-1)
		if l.Soft < unix.RLIM_INFINITY && l.Soft <= 1<<63-1 {
			v = int64(l.Soft)
		}
		r.Rlimits.Set(rlimitNumber(l.Type), v)
	}
	r.Classify()
	return r
}

// namespaceOf is a Plan's namespace as a Report's.
func namespaceOf(n plan.Namespace) NamespaceReport {
	e := NamespaceReport{Kind: n.Kind, State: NSUnknown, Inode: n.Inode, RefInode: n.CallerInode, Err: n.Err}
	switch {
	case n.Err != "":
	case n.Mode == namespace.New || n.Mode == namespace.Join && !n.Callers:
		e.State = NSNew
	default:
		e.State = NSShared
	}
	e.Initial = InitialNamespace(n.Kind, e.Inode)
	return e
}

// seccompOf counts the Plan's filter and the caller's, which the sandbox inherits.
func seccompOf(s plan.Seccomp) SeccompReport {
	if s.CallerMode == "strict" {
		return SeccompReport{Mode: "strict"}
	}
	n := s.CallerFilters
	if s.Loaded {
		n++
	}
	if n > 0 || s.CallerMode == "filter" {
		return SeccompReport{Mode: "filter", Filters: n}
	}
	return SeccompReport{Mode: "disabled"}
}

// mountsOf is what the Plan's sandbox sees of the kernel filesystems and the
// host's: the host's "/" wherever it is bound or kept.
func mountsOf(fs plan.Filesystem) MountReport {
	h := fs.OnHost
	m := MountReport{Masked: nonNil(h.Masked), ReadOnly: nonNil(h.ReadOnly), Unmasked: h.Unmasked, Writable: h.Writable,
		HostVisible: fs.HostVisible, Err: fs.Err}
	if fs.Root == "host" {
		m.HostRoot = []string{"/"}
		return m
	}
	for _, h := range fs.HostPaths {
		if filepath.Clean(h.Host) == "/" {
			m.HostRoot = append(m.HostRoot, h.Sandbox)
		}
	}
	return m
}

// landlockOf says whether the Plan's sandbox enforces Landlock rules.
func landlockOf(l plan.Landlock) LandlockReport {
	r := LandlockReport{ABI: l.ABI, Enforced: "no", Note: l.Reason}
	rules := make([]string, len(l.Rules))
	for i, x := range l.Rules {
		rules[i] = x.String()
	}
	if len(rules) > 0 {
		r.Note += ": " + strings.Join(rules, ", ")
	}
	if l.Enforced {
		r.Enforced = "yes"
	}
	return r
}

// rlimitNumber is the resource number of a limit named "RLIMIT_X" that a
// RlimitReport holds, or -1.
func rlimitNumber(name string) int {
	switch strings.ToUpper(name) {
	case "RLIMIT_NPROC":
		return unix.RLIMIT_NPROC
	case "RLIMIT_AS":
		return unix.RLIMIT_AS
	case "RLIMIT_CPU":
		return unix.RLIMIT_CPU
	}
	return -1
}
