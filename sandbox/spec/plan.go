package spec

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// Plan resolves the Spec on this host for the calling process, as Build does,
// without building anything: the namespaces and how the child gets each, the ID
// maps, the capability sets before and after execve, the seccomp filter, the
// filesystem, the cgroup and its limits, the resource limits, the labels and
// Landlock, each with the reason for what was chosen, and the caller's own state
// that the sandbox inherits.
//
// Build makes the same Plan (without the caller's inherited state, which it does
// not need) and emits the child's steps from it; Describe, package exposure and
// the examples' --dry-run read it. The SELinux categories stand for those each
// Template allocates; under an automatic ID range the first block of the range
// stands for the block each start allocates. Plan validates s first and fails as
// Build would on a bad Spec.
func (s *Spec) Plan() (*plan.Plan, error) {
	c := callerIDs()
	s = s.Clone() // validate fills in what the caller left to defaults
	if err := s.validate(c); err != nil {
		return nil, err
	}
	lp, err := s.planLimits(c.uid, func(cs *cgroup.Spec) (cgroup.Need, error) { return cgroup.Plan(cs, c.uid) })
	if err != nil {
		return nil, err
	}
	labels, release, err := s.Label.Resolve(s.Privileged, selinux.NewAllocator(0))
	if err != nil {
		return nil, &SpecError{Field: "selinux", Err: err}
	}
	release()
	p, err := s.resolve(c, lp, labels)
	if err != nil {
		return nil, err
	}
	priv := s.resolvePrivileges(false)
	if priv.err != nil {
		return nil, priv.err
	}
	p.Capabilities, p.Seccomp = priv.caps, priv.seccomp
	if err := s.planSteps(p, c, labels.Mount); err != nil {
		return nil, err
	}
	s.observe(p)
	return p, nil
}

// planSteps resolves the mount steps of a new mount namespace with a staging
// directory of its own, removed again: a Template makes its own for its steps.
func (s *Spec) planSteps(p *plan.Plan, c ids, mountLabel string) error {
	if !s.buildsFilesystem() {
		return nil
	}
	staging := ""
	if !s.NoRootfs {
		dir, err := os.MkdirTemp("", "paddock-plan-")
		if err != nil {
			return fmt.Errorf("sandbox: plan: %w", err)
		}
		defer os.Remove(dir)
		staging = dir
	}
	steps, err := s.planMounts(c, staging, mountLabel)
	if err != nil {
		return err
	}
	p.Filesystem.Steps, p.Filesystem.Staging = steps, staging
	return nil
}

// resolve makes the Plan of a validated Spec for caller c, with the limit plan and
// the labels that the caller resolved (Build keeps the cgroup planner and the
// labels' categories; Plan releases them), all but the capabilities and the
// filter, which resolvePrivileges adds (Build on another core).
func (s *Spec) resolve(c ids, lp *LimitPlan, labels selinux.Labels) (*plan.Plan, error) {
	p := &plan.Plan{Kind: s.Kind, Caller: plan.Caller{UID: c.uid, GID: c.gid, PID: os.Getpid()}}
	vfork, reason, err := s.spawnMode(c)
	if err != nil {
		return nil, err
	}
	p.Spawn = s.planSpawn(vfork, reason)
	p.Namespaces = s.planNamespaces()
	p.IDs = s.planIDs(c, vfork)
	p.Hostname, p.Domainname = s.Hostname, s.Domainname
	p.OwnHostname = s.Hostname == "" && s.Namespaces.Mode(namespace.UTS) == namespace.New
	p.NoNewPrivs.Set = s.NoNewPrivileges
	p.Process = s.planProcess()
	p.Filesystem = s.planFilesystem()
	p.Cgroup = s.planCgroup(lp)
	if p.Rlimits, err = s.planRlimits(lp); err != nil {
		return nil, err
	}
	p.SELinux = plan.SELinux{Enabled: selinux.Enabled(), Labels: labels}
	p.Landlock = s.planLandlock()
	return p, nil
}

// planSpawn says how each start creates the child, and why.
func (s *Spec) planSpawn(vfork bool, reason string) plan.Spawn {
	sp := plan.Spawn{Mode: plan.Fork, Init: s.Init, ParentDeathSignal: int(s.deathSignal()), Detached: s.Detached, Reason: reason}
	if vfork {
		sp.Mode = plan.Vfork
	}
	sp.Handover = s.Handover()
	if s.Hold {
		sp.Hold = plan.HoldBeforeExec
	}
	return sp
}

// planNamespaces lists each namespace with how the child gets it.
func (s *Spec) planNamespaces() []plan.Namespace {
	ns := &s.Namespaces
	clone, unshare := s.namespaceFlags()
	out := make([]plan.Namespace, 0, len(namespace.Kinds))
	for _, k := range namespace.Kinds {
		n := plan.Namespace{Kind: k, Mode: ns.Mode(k)}
		switch {
		case n.Mode == namespace.Join:
			n.Path, n.By = ns.NS[k].Path, plan.BySetns
		case n.Mode != namespace.New:
		case k == namespace.Net && s.SharedNetNS:
			n.By = plan.ByShared
		case clone&uint64(k.CloneFlag()) != 0:
			n.By = plan.ByClone
		case unshare&uintptr(k.CloneFlag()) != 0 || k == namespace.Cgroup || k == namespace.Time:
			n.By = plan.ByUnshare
		}
		out = append(out, n)
	}
	return out
}

// planIDs resolves the ID maps of a new user namespace, who writes them and the
// target's user.
func (s *Spec) planIDs(c ids, vfork bool) plan.IDs {
	var d plan.IDs
	if u := s.User; u != nil {
		d.User, d.Group, d.Groups = u.UID, u.GID, slices.Clone(u.Groups)
	}
	switch s.Namespaces.Mode(namespace.User) {
	case namespace.Join:
		d.Setgroups = joinedSetgroups(s.Namespaces.NS[namespace.User].Path)
	case namespace.Host:
		d.Setgroups = ownSetgroups()
	}
	if s.Namespaces.Mode(namespace.User) != namespace.New {
		return d
	}
	d.UIDMap, d.GIDMap = s.IDMaps(c.uid, c.gid)
	d.Setgroups = s.setgroupsPolicy(c, vfork)
	d.Auto = s.Namespaces.Auto
	switch {
	case vfork:
		d.Writer, d.Reason = plan.MapsByChild, "the caller's own IDs as 0: the child writes its own map"
	case d.Auto != nil:
		d.Writer, d.Reason = plan.MapsByParent, "each start allocates a block of the automatic range; the first block stands for it"
	case s.singleOwnMap(c):
		d.Writer, d.Reason = plan.MapsOwnIDs, "the caller's own IDs as 0, the one map a caller may write without privilege"
	case c.uid == 0:
		d.Writer, d.Reason = plan.MapsByParent, "a root caller writes any map"
	default:
		d.Writer, d.Reason = plan.MapsByHelpers, "a subordinate range, which the setuid helpers write"
	}
	d.UID, d.GID = outsideID(d.UIDMap, d.User), outsideID(d.GIDMap, d.Group)
	return d
}

// joinedSetgroups reads the setgroups policy of the joined user namespace at
// nsPath where it is a process's (/proc/PID/ns/user): a namespace whose creator
// wrote "deny" (an unprivileged one) refuses setgroups(2), so the child keeps
// its groups there instead of dropping them. Elsewhere it is "", and the child
// drops them.
func joinedSetgroups(nsPath string) string {
	dir, ok := strings.CutSuffix(nsPath, "/ns/user")
	if !ok || !strings.HasPrefix(dir, "/proc/") {
		return ""
	}
	b, err := os.ReadFile(dir + "/setgroups")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// ownSetgroups is the setgroups policy of the caller's own user namespace,
// read once: a sandbox that stays in it keeps its groups where it is "deny"
// (the caller runs in an unprivileged namespace, as a rootless engine without
// subordinate IDs calls its runtime), since setgroups(2) fails there.
var ownSetgroups = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/self/setgroups")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

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

// privileges are the Plan's capabilities and filter, with the compiled filter
// (nil for none, or where not asked for), or the typed error that stops a Build.
type privileges struct {
	caps    plan.Capabilities
	seccomp plan.Seccomp
	filter  *seccomp.Filter
	err     error
}

// resolvePrivileges resolves the capability sets and the filter's profile, and
// compiles the filter if compile is set.
func (s *Spec) resolvePrivileges(compile bool) (r privileges) {
	if r.caps, r.err = s.planCaps(); r.err != nil {
		return r
	}
	if r.seccomp, r.err = s.planSeccomp(r.caps.Sets.Bounding); r.err != nil || !compile || r.seccomp.Profile == nil {
		return r
	}
	var err error
	if r.filter, err = seccomp.Compile(*r.seccomp.Profile); err != nil {
		r.err = &SpecError{NotSupported: errors.Is(err, seccomp.ErrNotSupported), Field: "seccomp", Err: err}
	}
	return r
}

// planCaps resolves the capability sets (CapabilitySets) and applies execve's
// rules (capabilities(7)) for a target without file capabilities.
func (s *Spec) planCaps() (plan.Capabilities, error) {
	sets, own, err := s.capabilitySets()
	if err != nil {
		if _, ok := err.(*SpecError); ok {
			return plan.Capabilities{}, err
		}
		return plan.Capabilities{}, &SpecError{Field: "capabilities", Err: err}
	}
	pc := plan.Capabilities{Sets: sets, CallerBounding: own}
	root := s.User == nil || s.User.UID == 0
	var p caps.Set
	if root {
		// Root (of its user namespace) gets its bounding and inheritable sets; with
		// no_new_privs it may gain nothing beyond what it held.
		p = sets.Bounding | sets.Inheritable
		if s.NoNewPrivileges {
			p &= sets.Permitted
		}
	}
	p |= sets.Ambient
	e := sets.Ambient
	if root {
		e = p
	}
	pc.Exec = caps.Sets{Bounding: sets.Bounding, Effective: e, Permitted: p, Inheritable: sets.Inheritable, Ambient: sets.Ambient}
	if s.Privileged || hasAll(s.Caps.Bounding) {
		pc.Reason = "all capabilities, cut to the caller's own bounding set"
	}
	return pc, nil
}

// planSeccomp resolves the filter against the bounding set, as Build compiles it.
func (s *Spec) planSeccomp(bounding caps.Set) (plan.Seccomp, error) {
	sc := plan.Seccomp{Mode: s.Seccomp.Mode}
	if sc.Mode == "" {
		sc.Mode = SeccompDefault
	}
	prof, ok, err := s.seccompProfileFor(bounding)
	if err != nil {
		return sc, &SpecError{Field: "seccomp", Err: err}
	}
	switch {
	case !ok && s.Privileged:
		sc.Reason = "a privileged sandbox loads no filter"
	case !ok:
		sc.Reason = "unconfined"
	case sc.Mode == SeccompCustom:
		sc.Reason = "the Spec's own profile"
	default:
		sc.Reason = "the " + sc.Mode + " profile, resolved against the bounding set"
	}
	if !ok {
		return sc, nil
	}
	sc.Loaded, sc.Profile = true, &prof
	sc.DefaultAction, sc.Rules, sc.Arches = prof.DefaultAction, len(prof.Syscalls), prof.Architectures
	return sc, nil
}

// planFilesystem resolves the root and the masked and read-only paths, the host
// paths that binds bring in and the sandbox's device nodes.
func (s *Spec) planFilesystem() plan.Filesystem {
	fs := plan.Filesystem{Root: "host", Masked: []string{}, ReadOnly: []string{}}
	newMount := s.buildsFilesystem()
	newRoot := newMount && !s.NoRootfs
	if newRoot {
		s.planRoot(&fs)
	}
	if newMount {
		fs.Propagation = string(s.Mounts.RootPropagation)
		if fs.Propagation == "" {
			fs.Propagation = string(mounts.RPrivate)
		}
		if s.InCallerMountNS() {
			fs.Propagation = string(mounts.Private) // the staging directory's, not "/"
		}
	}
	if newMount && !s.Privileged {
		fs.Masked, fs.ReadOnly = slices.Clone(s.Mounts.Masked), slices.Clone(s.Mounts.ReadOnly)
	}
	if newMount {
		fs.HostPaths = s.hostPaths()
	}
	fs.DeviceNodes = s.deviceNodes(newRoot, fs.HostPaths)
	return fs
}

// planRoot says what the root of a new mount namespace is.
func (s *Spec) planRoot(fs *plan.Filesystem) {
	if s.RootDir != "" {
		fs.Root, fs.Dir, fs.ReadonlyRoot = "directory", filepath.Clean(s.RootDir), s.Mounts.ReadonlyRoot
		return
	}
	r := s.rootfs()
	fs.Root, fs.Lower, fs.Upper, fs.ReadonlyRoot = "overlay", r.Lower, r.Upper, s.Mounts.ReadonlyRoot
	userNS := s.Namespaces.Mode(namespace.User) == namespace.New
	switch {
	case s.fuseRoot(userNS):
		fs.Root = "fuse-overlayfs"
	case s.onHostRoot():
		fs.Root = "overlay on the host's /"
	}
}

// hostPaths lists the host paths that binds and bind mounts bring into a new
// mount namespace, the root directory, and the host's "/" where the sandbox
// keeps it.
func (s *Spec) hostPaths() []plan.HostPath {
	var hp []plan.HostPath
	if s.dirRoot() {
		hp = append(hp, plan.HostPath{Sandbox: "/", Host: filepath.Clean(s.RootDir), ReadOnly: s.Mounts.ReadonlyRoot})
	}
	for _, b := range s.Mounts.Binds {
		hp = append(hp, plan.HostPath{Sandbox: b.Target, Host: b.Source, ReadOnly: b.ReadOnly})
	}
	for _, m := range s.Mounts.Mounts {
		if m.Flags&unix.MS_BIND != 0 {
			hp = append(hp, plan.HostPath{Sandbox: m.Target, Host: m.Source, ReadOnly: m.Flags&unix.MS_RDONLY != 0})
		}
	}
	if s.NoRootfs {
		hp = append(hp, plan.HostPath{Sandbox: "/", Host: "/"})
	}
	return hp
}

// deviceNodes lists the nodes of the sandbox's /dev: "*" for the host's whole
// /dev.
func (s *Spec) deviceNodes(newRoot bool, hostPaths []plan.HostPath) []string {
	for _, hp := range hostPaths {
		// A root directory is "/" too, but the default mounts cover its /dev.
		if (hp.Sandbox == "/" && !s.dirRoot()) || hp.Sandbox == "/dev" {
			return []string{"*"}
		}
	}
	if !newRoot {
		return []string{"*"} // the host's own /dev
	}
	var nodes []string
	if s.Mounts.Defaults {
		for _, d := range mounts.DefaultDevices {
			nodes = append(nodes, d.Path)
		}
		nodes = append(nodes, "/dev/ptmx", "/dev/pts/*")
	}
	for _, hp := range hostPaths {
		if strings.HasPrefix(path.Clean(hp.Sandbox), "/dev/") {
			nodes = append(nodes, path.Clean(hp.Sandbox))
		}
	}
	return nodes
}

// planCgroup is the cgroup each start gets, with its limits, by the limit plan.
func (s *Spec) planCgroup(lp *LimitPlan) plan.Cgroup {
	cg := plan.Cgroup{Version: lp.Need.Version, Controllers: lp.Need.Controllers, Unified: lp.Need.Unified,
		Memory: -1, Pids: -1, CPUQuota: -1}
	for _, l := range lp.FellBack {
		cg.FellBack = append(cg.FellBack, string(l))
	}
	switch {
	case s.NoCgroup:
		cg.Reason = "the Spec asks for none: the sandbox stays in the caller's cgroup"
		return cg
	case lp.Need.Version == 0:
		cg.Reason = "no cgroup can be made here for this caller: the sandbox stays in the caller's cgroup"
		if lp.Need.Reason != "" {
			cg.Reason += " (" + lp.Need.Reason + ")"
		}
		return cg
	}
	cg.Reason = "each start gets a cgroup of its own below the parent, removed when it is waited for"
	if s.Cgroup.Path != "" {
		cg.Reason = "every start is in exactly the cgroup " + s.Cgroup.Path + ": made where missing and then removed with the sandbox, joined and left where it exists"
	}
	if lp.Need.Devices {
		cg.Devices = slices.Clone(s.Cgroup.DeviceRules())
	}
	res := lp.Cgroup.Resources
	if res == nil {
		res = &cgroup.Resources{}
	}
	cg.Memory, cg.Pids = limitOf(res.Memory), limitOf(res.Pids)
	cg.CPUPeriod = res.CPUPeriod
	if cg.CPUPeriod == 0 {
		cg.CPUPeriod = cgroup.DefaultCPUPeriod
	}
	switch {
	case res.CPUs > 0:
		cg.CPUQuota = int64(res.CPUs * float64(cg.CPUPeriod))
	case res.CPUQuota > 0:
		cg.CPUQuota = res.CPUQuota
	}
	if !res.IsZero() {
		cg.Resources = res.Clone()
	}
	return cg
}

// limitOf turns a Spec's limit (0 for none) into a Plan's (-1 for none).
func limitOf(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}

// planRlimits lists the limits the child sets: the Spec's, those of the limit
// plan, and RLIMIT_NOFILE always (Go raised the soft limit of this process, which
// a raw child would otherwise inherit), at a soft 1024 unless the Spec sets it.
func (s *Spec) planRlimits(lp *LimitPlan) ([]plan.Rlimit, error) {
	var out []plan.Rlimit
	nofile := false
	for _, r := range append(append([]Rlimit(nil), s.Rlimits...), lp.Rlimits...) {
		n, _ := rlimitResource(r.Type)
		nofile = nofile || n == unix.RLIMIT_NOFILE
		out = append(out, plan.Rlimit{Type: strings.ToUpper(r.Type), Soft: r.Soft, Hard: r.Hard, Set: true})
	}
	if !nofile {
		var cur unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err != nil {
			return nil, err
		}
		out = append(out, plan.Rlimit{Type: "RLIMIT_NOFILE", Soft: min(1024, cur.Max), Hard: cur.Max, Set: true})
	}
	return out, nil
}

// planLandlock says whether the child enforces the Spec's Landlock rules.
func (s *Spec) planLandlock() plan.Landlock {
	abi, _ := landlock.ABI()
	l := plan.Landlock{ABI: abi, Rules: s.Landlock.Rules}
	switch {
	case len(l.Rules) == 0:
		l.Reason = "the Spec has no Landlock rules"
	case abi > 0:
		l.Enforced, l.Reason = true, "the Spec's rules, on the kernel's Landlock ABI"
	default:
		l.Reason = "this kernel has no Landlock: the rules are skipped"
	}
	return l
}

// observe adds to p the caller's own state that the sandbox inherits or shares:
// the namespaces' inodes, the caller's seccomp filters and no_new_privs, its
// resource limits, its cgroup (or where the sandbox's will be), the mounts the
// binds bring in, the kernel and the i386 gate.
func (s *Spec) observe(p *plan.Plan) {
	self := p.Caller.PID
	for i := range p.Namespaces {
		observeNamespace(&p.Namespaces[i], self)
	}
	if own, err := seccomp.Inspect(0); err == nil {
		p.Seccomp.CallerMode, p.Seccomp.CallerFilters = inspect.SeccompMode(own.Mode), max(own.Filters, 0)
	}
	if nnp, err := inspect.NoNewPrivs(self); err == nil {
		p.NoNewPrivs.Inherited = nnp
	}
	if s.Namespaces.Mode(namespace.User) == namespace.Host {
		p.IDs.UIDMap, p.IDs.GIDMap, p.IDs.Setgroups = readMaps("/proc/self")
	} else if s.Namespaces.Mode(namespace.User) == namespace.Join {
		// A namespace named as /proc/PID/ns/user has its maps beside it.
		if q := s.Namespaces.NS[namespace.User].Path; filepath.Base(filepath.Dir(q)) == "ns" {
			p.IDs.UIDMap, p.IDs.GIDMap, p.IDs.Setgroups = readMaps(filepath.Dir(filepath.Dir(q)))
		}
	}
	if s.Namespaces.Mode(namespace.User) != namespace.New {
		p.IDs.UID, p.IDs.GID = outsideID(p.IDs.UIDMap, p.IDs.User), outsideID(p.IDs.GIDMap, p.IDs.Group)
	}
	p.Rlimits = inheritedRlimits(p.Rlimits)
	s.observeCgroup(&p.Cgroup)
	s.observeMounts(&p.Filesystem)
	s.observePaths(&p.Filesystem, ids{p.Caller.UID, p.Caller.GID})
	p.Kernel = inspect.KernelRelease()
	if g, err := seccomp.I386Gate(); err == nil {
		p.I386 = g
	}
}

// observeNamespace fills the inodes of namespace n and the caller's.
func observeNamespace(n *plan.Namespace, self int) {
	var own unix.Stat_t
	if err := unix.Stat(n.Kind.Path(self), &own); err != nil {
		n.Err = err.Error()
		return
	}
	n.CallerInode = own.Ino
	switch n.Mode {
	case namespace.Host:
		n.Inode = own.Ino
	case namespace.Join:
		var st unix.Stat_t
		if err := unix.Stat(n.Path, &st); err != nil {
			n.Err = err.Error()
			return
		}
		n.Inode, n.Callers = st.Ino, st.Ino == own.Ino && st.Dev == own.Dev
	}
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

// inheritedRlimits adds to set, the limits the child sets, the caller's own of
// every other resource, which the child inherits.
func inheritedRlimits(set []plan.Rlimit) []plan.Rlimit {
	out := slices.Clone(set)
	for _, short := range slices.Sorted(maps.Keys(rlimitNames)) {
		n, name := rlimitNames[short], "RLIMIT_"+strings.ToUpper(short)
		if slices.ContainsFunc(set, func(r plan.Rlimit) bool { m, _ := rlimitResource(r.Type); return m == n }) {
			continue
		}
		var cur unix.Rlimit
		if unix.Getrlimit(n, &cur) == nil {
			out = append(out, plan.Rlimit{Type: name, Soft: cur.Cur, Hard: cur.Max})
		}
	}
	return out
}

// observeCgroup fills the cgroup paths: the caller's, with its limits, for a
// sandbox without a cgroup of its own; otherwise where each start's will be.
func (s *Spec) observeCgroup(cg *plan.Cgroup) {
	if cg.Version == 0 {
		ci, err := cgroup.Inspect(0)
		if err != nil {
			cg.Err = err.Error()
			return
		}
		cg.Paths = ci.Paths()
		cg.Memory, cg.Pids, cg.CPUQuota, cg.CPUPeriod = ci.Memory, ci.Pids, ci.CPUQuota, ci.CPUPeriod
		return
	}
	own, err := cgroup.ReadMembership(0)
	if err != nil {
		cg.Err = err.Error()
		return
	}
	at := func(ownPath string) string { return s.Cgroup.PathFor(ownPath, "<start>") }
	cg.Paths = map[string]string{}
	if cg.Version == 1 {
		for _, ctrl := range cg.Controllers {
			cg.Paths[ctrl] = at(own.V1[ctrl])
		}
	}
	if cg.Version == 2 || cg.Unified {
		cg.Paths["unified"] = at(own.V2)
	}
}

// observeMounts counts the host mounts that the binds and a root directory (or a
// kept host root) bring in: the mount each source lies on, and those below a
// recursive bind's.
func (s *Spec) observeMounts(fs *plan.Filesystem) {
	table, err := mountinfo.GetMounts(nil)
	if err != nil {
		fs.Err = err.Error()
		return
	}
	if fs.Root == "host" {
		fs.HostVisible = len(table)
		return
	}
	binds := s.Mounts.Binds
	if s.dirRoot() {
		binds = append([]mounts.Bind{{Source: s.RootDir, Target: "/", Recursive: true}}, binds...)
	}
	for _, b := range binds {
		src := filepath.Clean(b.Source)
		fs.HostVisible++
		if b.Recursive {
			for _, e := range table {
				if e.Mountpoint != src && strings.HasPrefix(e.Mountpoint, strings.TrimSuffix(src, "/")+"/") {
					fs.HostVisible++
				}
			}
		}
	}
}

// observePaths fills which masked and read-only paths are in force on this
// host, and which host paths a sandbox on the host's "/" does not see.
func (s *Spec) observePaths(fs *plan.Filesystem, c ids) {
	h := &fs.OnHost
	h.Masked, h.ReadOnly = nonNil(existing(fs.Masked)), nonNil(existing(fs.ReadOnly))
	h.Unmasked = without(existing(mounts.DefaultMasked), h.Masked)
	h.Writable = without(existing(mounts.DefaultReadOnly), h.ReadOnly)
	if s.onHostRoot() {
		fs.Hidden = openTo(c, s.hostRoot().Resolve())
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

// nonNil returns s, or an empty list for nil, which JSON writes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
