package sandbox

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// Describe reports what a sandbox started from s by the calling process would be
// isolated by, before anything starts: the same Report that inspect.Process gives
// for the live process, computed from the Spec and this host, then classified by
// the Report's Classify.
//
//   - Namespaces are new, shared (the caller's) or joined, as the Spec says; only
//     shared and joined ones have an inode.
//   - The ID maps are the Spec's, or the single map of the caller's own IDs; under
//     an automatic range (WithAutoUserNS), the first block the range holds stands for
//     the block that each start allocates.
//   - The capability sets are those the target holds after execve: "ALL" is the
//     caller's bounding set (as Build resolves it for a privileged sandbox), and
//     execve's rules apply (root gets its bounding set, a non-root user only its
//     ambient set). File capabilities of the target are not known and not counted.
//   - Seccomp is "filter" with the Spec's filter plus any the caller has, or
//     "disabled"; no_new_privs is the Spec's, or the caller's own.
//   - Masked and read-only paths are the Spec's lists (patterns expanded) as far as
//     they exist on this host, since the child skips missing ones; Unmasked and
//     Writable list the paths of the default lists that exist without them.
//     inspect.Process checks only the default lists, so paths of the Spec beyond
//     them appear here only.
//   - HostRoot lists where the host's "/" is bound; HostVisible counts the host
//     mounts that the Spec's binds (or a kept host root) bring in, not the kernel
//     filesystems whose superblock a live sandbox may share with the host.
//   - The SELinux label is a representative one (the categories of a live sandbox
//     are allocated per start); Landlock's Enforced is "yes" when the Spec has rules
//     and the kernel supports Landlock.
//   - Cgroup paths end in "<start>" (each start gets its own cgroup) and the limits
//     are the Spec's; a sandbox without a cgroup of its own reports the caller's.
//     Rlimits are the caller's, which the child inherits, with those of the Spec
//     and its limit plan (PlanLimits) in their place.
//
// Reference is the caller (RefPID its pid) and PID is 0. Describe validates s first
// and fails as Build would on a bad Spec.
func (s *Spec) Describe() (*inspect.Report, error) {
	c := callerIDs()
	s = s.Clone() // validate fills in what the caller left to defaults
	if err := s.validate(c); err != nil {
		return nil, err
	}
	self, err := inspect.SelfPID()
	if err != nil {
		return nil, err
	}
	r := &inspect.Report{RefPID: self, Reference: "the caller, pid " + strconv.Itoa(self) + "; the sandbox has not started"}
	s.describeNamespaces(r, self)
	s.describeIdentity(r, c)
	if err := s.describeCaps(r, self); err != nil {
		return nil, err
	}
	if err := s.describeSeccomp(r, self); err != nil {
		return nil, err
	}
	s.describeMounts(r)
	r.SELinux.Enabled = selinux.Enabled()
	if labels, release, err := s.Label.Resolve(s.Privileged, selinux.NewAllocator(0)); err != nil {
		return nil, &SpecError{Field: "selinux", Err: err}
	} else {
		r.SELinux.Label = labels.Process
		release()
	}
	s.describeLandlock(r)
	if err := s.describeCgroup(r, c); err != nil {
		return nil, err
	}
	r.Classify()
	return r, nil
}

// describeNamespaces compares the Spec's namespaces with the caller's.
func (s *Spec) describeNamespaces(r *inspect.Report, self int) {
	for _, k := range namespace.Kinds {
		e := inspect.NamespaceReport{Kind: k, State: inspect.NSUnknown}
		var own unix.Stat_t
		if err := unix.Stat(k.Path(self), &own); err != nil {
			e.Err = err.Error()
			r.Namespaces = append(r.Namespaces, e)
			continue
		}
		e.RefInode = own.Ino
		switch s.Namespaces.Mode(k) {
		case namespace.New:
			e.State = inspect.NSNew
		case namespace.Host:
			e.State, e.Inode = inspect.NSShared, own.Ino
		case namespace.Join:
			var st unix.Stat_t
			if err := unix.Stat(s.Namespaces.NS[k].Path, &st); err != nil {
				e.Err = err.Error()
				break
			}
			e.Inode, e.State = st.Ino, inspect.NSNew
			if st.Ino == own.Ino && st.Dev == own.Dev {
				e.State = inspect.NSShared
			}
		}
		e.Initial = inspect.InitialNamespace(k, e.Inode)
		r.Namespaces = append(r.Namespaces, e)
	}
}

// describeIdentity fills the ID maps and the target's IDs seen from outside.
func (s *Spec) describeIdentity(r *inspect.Report, c ids) {
	ns := &s.Namespaces
	switch ns.Mode(namespace.User) {
	case namespace.New:
		r.UIDMap, r.GIDMap = s.IDMaps(c.uid, c.gid)
		// As compileIDMaps decides.
		r.Setgroups = s.setgroupsPolicy(c, s.vfork(c))
	case namespace.Host:
		r.UIDMap, r.GIDMap, r.Setgroups = readMaps("/proc/self")
	case namespace.Join:
		// A namespace named as /proc/PID/ns/user has its maps beside it.
		if p := ns.NS[namespace.User].Path; filepath.Base(filepath.Dir(p)) == "ns" {
			r.UIDMap, r.GIDMap, r.Setgroups = readMaps(filepath.Dir(filepath.Dir(p)))
		}
	}
	uid, gid := uint32(0), uint32(0)
	if s.User != nil {
		uid, gid = s.User.UID, s.User.GID
	}
	r.UID, r.GID = outsideID(r.UIDMap, uid), outsideID(r.GIDMap, gid)
}

// vfork reports whether Build would choose vfork mode for c.
func (s *Spec) vfork(c ids) bool {
	v, _ := s.spawnMode(c)
	return v
}

// readMaps reads the ID maps and setgroups of the process directory dir.
func readMaps(dir string) (uidMap, gidMap []namespace.IDMap, setgroups string) {
	read := func(name string) []namespace.IDMap {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			return nil
		}
		m, _ := namespace.ParseIDMap(b)
		return m
	}
	b, _ := os.ReadFile(dir + "/setgroups")
	return read("uid_map"), read("gid_map"), strings.TrimSpace(string(b))
}

// outsideID maps id inside through m, or returns it unchanged without a map; an
// unmapped ID shows as the overflow ID 65534.
func outsideID(m []namespace.IDMap, id uint32) int {
	if len(m) == 0 {
		return int(id)
	}
	if h, ok := namespace.MapToHost(m, id); ok {
		return int(h)
	}
	return 65534
}

// describeCaps resolves the capability sets as Build does and applies execve's rules
// (capabilities(7)) for a target without file capabilities.
func (s *Spec) describeCaps(r *inspect.Report, self int) error {
	sets, err := s.CapabilitySets()
	if err != nil {
		return &SpecError{Field: "capabilities", Err: err}
	}
	own, err := caps.Inspect(0)
	if err != nil {
		return fmt.Errorf("sandbox: describe: %w", err)
	}
	root := s.User == nil || s.User.UID == 0
	var p caps.Set
	if root {
		// Root (of its user namespace) gets its bounding and inheritable sets; with
		// no_new_privs it may gain nothing beyond what it held.
		p = sets.Bounding | sets.Inheritable
		if s.NoNewPrivileges && p&^sets.Permitted != 0 {
			p &= sets.Permitted
		}
	}
	p |= sets.Ambient
	e := sets.Ambient
	if root {
		e = p
	}
	execd := caps.Sets{Bounding: sets.Bounding, Effective: e, Permitted: p, Inheritable: sets.Inheritable, Ambient: sets.Ambient}
	r.Capabilities = inspect.NewCapabilityReport(execd, own.Bounding, "the bounding set of pid "+strconv.Itoa(self))
	return nil
}

// describeSeccomp counts the Spec's filter and the ones the caller already has,
// which the sandbox inherits; no_new_privs is inherited too.
func (s *Spec) describeSeccomp(r *inspect.Report, self int) error {
	n := 0
	if _, ok, err := s.SeccompProfile(); err != nil {
		return &SpecError{Field: "seccomp", Err: err}
	} else if ok {
		n = 1
	}
	own, err := seccomp.Inspect(0)
	if err != nil {
		return fmt.Errorf("sandbox: describe: %w", err)
	}
	if own.Mode == seccomp.ModeStrict {
		r.Seccomp = inspect.SeccompReport{Mode: "strict", Filters: 0}
	} else {
		if own.Mode == seccomp.ModeFilter && own.Filters > 0 {
			n += own.Filters
		}
		r.Seccomp = inspect.SeccompReport{Mode: "disabled", Filters: n}
		if n > 0 || own.Mode == seccomp.ModeFilter {
			r.Seccomp.Mode = "filter"
		}
	}
	nnp, err := inspect.NoNewPrivs(self)
	r.NoNewPrivs = (err == nil && nnp) || s.NoNewPrivileges
	return nil
}

// describeMounts lists the masked and read-only paths the child would apply on this
// host and where the host's file systems show through.
func (s *Spec) describeMounts(r *inspect.Report) {
	m := &r.Mounts
	m.Masked, m.ReadOnly = []string{}, []string{}
	newMount := s.Namespaces.Mode(namespace.Mount) == namespace.New
	if newMount && !s.Privileged {
		m.Masked = nonNil(existing(s.Mounts.Masked))
		m.ReadOnly = nonNil(existing(s.Mounts.ReadOnly))
	}
	m.Unmasked = without(existing(mounts.DefaultMasked), m.Masked)
	m.Writable = without(existing(mounts.DefaultReadOnly), m.ReadOnly)

	table, err := mountinfo.GetMounts(nil)
	if err != nil {
		m.Err = err.Error()
		return
	}
	if !newMount || s.NoRootfs {
		m.HostRoot = []string{"/"}
		m.HostVisible = len(table)
		return
	}
	for _, b := range s.Mounts.Binds {
		src := filepath.Clean(b.Source)
		if src == "/" {
			m.HostRoot = append(m.HostRoot, b.Target)
		}
		m.HostVisible++ // the mount the source lies on
		if b.Recursive {
			for _, e := range table {
				if e.Mountpoint != src && strings.HasPrefix(e.Mountpoint, strings.TrimSuffix(src, "/")+"/") {
					m.HostVisible++
				}
			}
		}
	}
}

// existing expands the patterns of paths and keeps the paths that exist on this host.
func existing(paths []string) []string {
	var out []string
	for _, p := range paths {
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			matches, _ = filepath.Glob(p) // the only error is a bad pattern: no match
		}
		for _, x := range matches {
			if _, err := os.Lstat(x); err == nil {
				out = append(out, x)
			}
		}
	}
	return out
}

// without returns the entries of list that are not in drop.
func without(list, drop []string) []string {
	var out []string
	for _, l := range list {
		if !slices.Contains(drop, l) {
			out = append(out, l)
		}
	}
	return out
}

func (s *Spec) describeLandlock(r *inspect.Report) {
	r.Landlock = inspect.LandlockReport{Enforced: "no", Note: "the Spec has no Landlock rules"}
	abi, _ := landlock.ABI()
	r.Landlock.ABI = abi
	if len(s.Landlock.Rules) == 0 {
		return
	}
	rules := make([]string, len(s.Landlock.Rules))
	for i, l := range s.Landlock.Rules {
		rules[i] = l.String()
	}
	if abi > 0 {
		r.Landlock.Enforced = "yes"
		r.Landlock.Note = "the Spec's rules: " + strings.Join(rules, ", ")
	} else {
		r.Landlock.Note = "this kernel has no Landlock: the rules " + strings.Join(rules, ", ") + " are skipped"
	}
}

// describeCgroup reports the cgroup each start gets, with the Spec's limits, or the
// caller's cgroup when the sandbox gets none.
func (s *Spec) describeCgroup(r *inspect.Report, c ids) error {
	lp, err := s.planLimits(c.uid, func(cs *cgroup.Spec) (cgroup.Need, error) { return cgroup.Plan(cs, c.uid) })
	if err != nil {
		return err
	}
	r.Rlimits = s.describeRlimits(lp)
	need := lp.Need
	if need.Version == 0 {
		// The sandbox stays in the caller's cgroup, under its limits.
		ci, err := cgroup.Inspect(0)
		if err != nil {
			r.Cgroup.Err = err.Error()
			return nil
		}
		r.Cgroup.Paths = make(map[string]string, len(ci.V1)+1)
		for k, v := range ci.V1 {
			r.Cgroup.Paths[k] = v
		}
		if ci.HasV2 {
			r.Cgroup.Paths["unified"] = ci.V2
		}
		r.Cgroup.Memory, r.Cgroup.Pids, r.Cgroup.CPUQuota, r.Cgroup.CPUPeriod = ci.Memory, ci.Pids, ci.CPUQuota, ci.CPUPeriod
		return nil
	}
	own, err := cgroup.ReadMembership(0)
	if err != nil {
		r.Cgroup.Err = err.Error()
		return nil
	}
	at := func(ownPath string) string {
		parent := s.Cgroup.Parent
		switch {
		case parent == "":
			parent = path.Join(ownPath, cgroup.DefaultParentName)
		case !path.IsAbs(parent):
			parent = path.Join(ownPath, parent)
		}
		return path.Join(parent, "<start>")
	}
	r.Cgroup.Paths = map[string]string{}
	if need.Version == 1 {
		for _, ctrl := range need.Controllers {
			r.Cgroup.Paths[ctrl] = at(own.V1[ctrl])
		}
	}
	if need.Version == 2 || need.Unified {
		r.Cgroup.Paths["unified"] = at(own.V2)
	}
	res := lp.Cgroup.Resources
	if res == nil {
		res = &cgroup.Resources{}
	}
	r.Cgroup.Memory, r.Cgroup.Pids = limitOf(res.Memory), limitOf(res.Pids)
	r.Cgroup.CPUPeriod = res.CPUPeriod
	if r.Cgroup.CPUPeriod == 0 {
		r.Cgroup.CPUPeriod = cgroup.DefaultCPUPeriod
	}
	switch {
	case res.CPUs > 0:
		r.Cgroup.CPUQuota = int64(res.CPUs * float64(r.Cgroup.CPUPeriod))
	case res.CPUQuota > 0:
		r.Cgroup.CPUQuota = res.CPUQuota
	default:
		r.Cgroup.CPUQuota = -1
	}
	return nil
}

// describeRlimits is the RlimitReport of a sandbox that plan lp starts: the
// caller's limits, which the child inherits, with those the Spec and the plan set.
func (s *Spec) describeRlimits(lp *LimitPlan) inspect.RlimitReport {
	r := inspect.ReadRlimits(0)
	for _, rl := range append(append([]Rlimit(nil), s.Rlimits...), lp.Rlimits...) {
		n, _ := rlimitResource(rl.Type)
		v := int64(-1)
		if rl.Soft < unix.RLIM_INFINITY && rl.Soft <= 1<<63-1 {
			v = int64(rl.Soft)
		}
		r.Set(n, v)
	}
	return r
}

// nonNil returns s, or an empty list for nil, which JSON writes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// limitOf turns a Spec's limit (0 for none) into a Report's (-1 for none).
func limitOf(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}
