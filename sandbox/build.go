package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// A Builder collects options into a Spec and builds it into a Template.
//
// Its Spec is a base followed by every other option it was given, in the order
// written: the base is the last of the options Rootful, Rootless,
// SuperPrivileged and WithSpec that it was given (through NewBuilder or With),
// and DefaultSpec when there is none. An option written before a preset is
// thus never lost: NewBuilder(WithHostname("box"), Rootful()) is Rootful with
// the hostname box, as NewBuilder(Rootful(), WithHostname("box")) is. An
// option that sets what the preset sets wins over it, wherever it is written.
type Builder struct {
	spec *Spec
	// edits are the options given so far that are not bases, in order: each
	// new base is followed by them again.
	edits []Option
}

// NewBuilder starts from the Spec that fits the caller (DefaultSpec: rootful for
// root, rootless otherwise), or from the last preset or WithSpec among opts, and
// applies the other opts in order.
func NewBuilder(opts ...Option) *Builder {
	b := &Builder{spec: DefaultSpec()}
	return b.With(opts...)
}

// With applies more options, as NewBuilder does: a base among them (a preset,
// WithSpec) replaces the Builder's base, and every other option given to the
// Builder, before or after it, applies again on top of it. With after Build
// changes the Builder, not the Templates it built.
func (b *Builder) With(opts ...Option) *Builder {
	for _, o := range opts {
		if !b.apply(o) {
			b.edits = append(b.edits, o)
			continue
		}
		for _, e := range b.edits {
			e(b.spec)
		}
	}
	return b
}

// apply applies o to the Spec and reports whether o made a new base Spec.
func (b *Builder) apply(o Option) bool {
	var rebased bool
	b.spec.rebased = &rebased
	o(b.spec)
	b.spec.rebased = nil
	return rebased
}

// Spec returns a copy of the Spec built so far: the base and the options on top.
func (b *Builder) Spec() *Spec { return b.spec.Clone() }

// Build validates the Spec and compiles it, once, into a Template: the child's op
// table, ID maps, C strings and opened descriptors. Bad input fails here with a typed
// error matching ErrInvalidSpec or ErrNotSupported; nothing has been cloned yet.
func (b *Builder) Build() (*Template, error) {
	s := b.spec.Clone()
	c := callerIDs()
	if err := s.validate(c); err != nil {
		return nil, err
	}
	if err := child.Probe(); err != nil {
		return nil, &UnsupportedError{Field: "kernel", Err: err}
	}
	t := &Template{spec: s, caller: c}
	if err := t.compile(c); err != nil {
		t.Close()
		return nil, err
	}
	t.lateMountNS = t.lateMountNSOK()
	reclaimSoon(t.cgroup)
	return t, nil
}

// compile turns the validated Spec into the child's program, in the order the kernel
// dictates (see the package documentation).
func (t *Template) compile(c ids) error {
	s := t.spec
	p := &child.Program{}
	t.prog = p
	// The capability sets and the seccomp filter depend on the Spec alone: compile
	// them on another core while this one probes the kernel and reads directories.
	priv := make(chan privileges, 1)
	// The channel is buffered: an early return leaves the goroutine to finish alone.
	go func() { priv <- s.resolvePrivileges() }()
	t.userNS = s.Namespaces.Mode(namespace.User) == namespace.New
	vfork, err := s.spawnMode(c)
	if err != nil {
		return err
	}
	t.vfork = vfork
	cloneFlags, unshareFlags := s.namespaceFlags()
	t.cloneFlags |= cloneFlags

	t.compileStart(p)
	if err := t.compileCgroup(p, c); err != nil {
		return err
	}
	if err := t.compileSharedNetNS(p); err != nil {
		return err
	}
	if err := t.compileJoins(p); err != nil {
		return err
	}
	if err := t.compileNewNamespaces(p, c, unshareFlags); err != nil {
		return err
	}
	t.compileHostname(p)
	if err := t.resolveLabels(); err != nil {
		return err
	}
	if err := t.compileMountNS(p, c); err != nil {
		return err
	}
	if err := t.compileRlimits(p, t.limitRlimits); err != nil {
		return err
	}
	t.compileWorkdir(p)
	if s.Namespaces.Mode(namespace.Mount) == namespace.New {
		p.Append(child.Op{Kind: child.KindCloseRoots}, "mount", "close the root's descriptors")
	}
	p.Append(child.Op{Kind: child.KindStdio}, "stdio", "set up the standard streams and descriptors")
	if err := t.compilePrivileges(p, <-priv); err != nil {
		return err
	}
	var empty child.Op
	empty.Kind = child.KindSignalMask
	p.Append(empty, "start", "unblock signals")
	if err := t.checkFilterCalls(); err != nil {
		return err
	}
	t.compileEnv()
	return t.openDevNull()
}

// namespaceFlags sorts the Spec's new namespaces between clone3 and the child's
// unshare. A joined user namespace must own the sandbox's new namespaces: they are
// unshared after the child entered it. Only the pid namespace, which the child
// itself never enters, is made by clone3, in the caller's (validate checked that
// the caller may).
func (s *Spec) namespaceFlags() (clone uint64, unshare uintptr) {
	ns := &s.Namespaces
	for _, k := range []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.User} {
		if ns.Mode(k) != namespace.New || (k == namespace.Net && s.SharedNetNS) {
			continue
		}
		if ns.Mode(namespace.User) == namespace.Join && k != namespace.PID {
			unshare |= uintptr(k.CloneFlag())
			continue
		}
		clone |= uint64(k.CloneFlag())
	}
	return clone, unshare
}

// deathSignal is the signal the sandbox gets when its parent thread dies:
// ParentDeathSignal, SIGKILL by default.
func (s *Spec) deathSignal() uintptr {
	if s.ParentDeathSignal == 0 {
		return uintptr(unix.SIGKILL)
	}
	return uintptr(s.ParentDeathSignal)
}

// compileStart sets the parent-death signal and, in fork mode, makes the child
// wait for the parent's release.
func (t *Template) compileStart(p *child.Program) {
	p.Syscall("start", "set the parent-death signal", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, t.spec.deathSignal())
	if !t.vfork {
		p.Append(child.Op{Kind: child.KindWaitParent}, "start", "wait for the parent to release the child")
	}
}

// compileSharedNetNS prepares, once, the network namespace that every start joins,
// where the Spec shares one.
func (t *Template) compileSharedNetNS(p *child.Program) error {
	if !t.spec.SharedNetNS {
		return nil
	}
	f, err := newNetNS()
	if err != nil {
		return &UnsupportedError{Field: "sharedNetNS", Err: err}
	}
	t.files = append(t.files, f)
	p.Syscall("namespaces", "join the template's network namespace", 0, unix.SYS_SETNS, f.Fd(), unix.CLONE_NEWNET)
	return nil
}

// compileJoins opens the joined namespaces and joins them, the user namespace
// first, so that the child then holds capabilities over what it owns.
func (t *Template) compileJoins(p *child.Program) error {
	ns := &t.spec.Namespaces
	for _, k := range namespace.Kinds {
		cfg := ns.NS[k]
		if ns.Mode(k) != namespace.Join {
			continue
		}
		f, err := os.OpenFile(cfg.Path, os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &SpecError{Field: "namespaces." + string(k), Err: err}
		}
		t.files = append(t.files, f)
		p.Syscall("namespaces", fmt.Sprintf("join the %s namespace %s", k, cfg.Path), 0, unix.SYS_SETNS, f.Fd(), k.CloneFlag())
	}
	return nil
}

// compileNewNamespaces creates the namespaces that clone3 did not: those a joined
// user namespace owns, then (after the ID maps of a new user namespace) the cgroup
// and time namespaces; it brings up the loopback of a new network namespace.
func (t *Template) compileNewNamespaces(p *child.Program, c ids, unshareFlags uintptr) error {
	s := t.spec
	ns := &s.Namespaces
	if unshareFlags != 0 {
		p.Syscall("namespaces", "create the namespaces the joined user namespace owns", 0, unix.SYS_UNSHARE, unshareFlags)
	}
	if t.userNS {
		if err := t.compileIDMaps(c, p); err != nil {
			return err
		}
	}
	if ns.Mode(namespace.Cgroup) == namespace.New {
		p.Syscall("namespaces", "create the cgroup namespace", 0, unix.SYS_UNSHARE, unix.CLONE_NEWCGROUP)
	}
	if ns.Mode(namespace.Time) == namespace.New {
		compileTimeNS(p, ns.Time)
	}
	if ns.Mode(namespace.Net) == namespace.New && !s.SharedNetNS {
		p.Append(child.Op{Kind: child.KindLoopbackUp}, "network", "bring the loopback interface up")
	}
	return nil
}

// compileTimeNS creates the time namespace and writes its clock offsets, if any.
func compileTimeNS(p *child.Program, o *namespace.TimeOffsets) {
	p.Syscall("namespaces", "create the time namespace", 0, unix.SYS_UNSHARE, unix.CLONE_NEWTIME)
	if o != nil && (o.Monotonic != 0 || o.Boottime != 0) {
		text := fmt.Sprintf("monotonic %d %d\nboottime %d %d\n",
			o.Monotonic/1e9, o.Monotonic%1e9, o.Boottime/1e9, o.Boottime%1e9)
		writeFileOp(p, "namespaces", "/proc/self/timens_offsets", text)
	}
}

// compileHostname sets the Spec's hostname, or in a new uts namespace each start's
// own, and the domain name.
func (t *Template) compileHostname(p *child.Program) {
	s := t.spec
	switch {
	case s.Hostname != "":
		ptr, n := p.Bytes([]byte(s.Hostname))
		p.Syscall("hostname", "set the hostname to "+s.Hostname, 0, unix.SYS_SETHOSTNAME, ptr, n)
	case s.Namespaces.Mode(namespace.UTS) == namespace.New:
		// As podman names a container's host after its ID: each start's own.
		p.Append(child.Op{Kind: child.KindStartHostname}, "hostname", "set the hostname to the sandbox's own")
		t.ownHostname = true
	}
	if s.Domainname != "" {
		ptr, n := p.Bytes([]byte(s.Domainname))
		p.Syscall("hostname", "set the domain name to "+s.Domainname, 0, unix.SYS_SETDOMAINNAME, ptr, n)
	}
}

// resolveLabels resolves the SELinux labels of the process and its files; the
// Template releases them when it closes.
func (t *Template) resolveLabels() error {
	labels, release, err := t.spec.SELinux().Resolve(t.spec.Privileged, selinux.DefaultAllocator)
	if err != nil {
		return &SpecError{Field: "selinux", Err: err}
	}
	t.labels, t.releaseLabel = labels, release
	return nil
}

// compileMountNS compiles the filesystem of a new mount namespace and follows the
// host's mount table it was planned from; with the default mounts, it lets the
// child open a Command's terminal.
func (t *Template) compileMountNS(p *child.Program, c ids) error {
	if t.spec.Namespaces.Mode(namespace.Mount) != namespace.New {
		return nil
	}
	// The table as it is before the plan reads it (see mountWatch).
	w, from := newMountWatch(), len(p.Ops)
	if err := t.compileFilesystem(p, c); err != nil {
		if w != nil && w.file != nil {
			w.file.Close()
		}
		return err
	}
	if t.fuse == nil {
		// fuse-overlayfs reads the host's "/" when each start mounts it.
		t.watchMounts(w, from, len(p.Ops))
	} else if w != nil && w.file != nil {
		w.file.Close()
	}
	if t.spec.Mounts.Defaults {
		t.compileTerminal(p)
	}
	return nil
}

// compileWorkdir changes to the working directory: inside the root, by its
// descriptors, in a new mount namespace.
func (t *Template) compileWorkdir(p *child.Program) {
	s := t.spec
	switch {
	case s.Workdir != "" && s.Namespaces.Mode(namespace.Mount) == namespace.New:
		// Resolved inside the root, where no magic link can lead out of it
		// (a working directory of /proc/self/fd/N was CVE-2024-21626).
		op := child.Op{Kind: child.KindChdirIn, Ptr: unsafe.Pointer(p.InRoot(s.Workdir, child.CreateNone))}
		p.Append(op, "workdir", "change directory to "+s.Workdir)
	case s.Workdir != "":
		p.Syscall("workdir", "change directory to "+s.Workdir, 0, unix.SYS_CHDIR, p.CString(s.Workdir))
	}
}

// compileEnv keeps the target's default environment, as C strings for execve and
// as the PATH directories to look the program up in.
func (t *Template) compileEnv() {
	t.env = t.spec.Env
	t.envp = cArray(t.spec.Env)
	t.pathDirs = pathDirs(t.spec.Env)
}

// openDevNull opens the /dev/null that a start gives a Command for a standard
// stream it leaves unset.
func (t *Template) openDevNull() error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	t.devNull = null
	return nil
}

// errParentVfork refuses vfork mode where the parent acts between the clone and
// the child's release.
var errParentVfork = errors.New("an automatic ID range and idmapped mounts need fork mode: the parent writes the maps " +
	"and idmaps the mounts with the child's user namespace while the child waits, which a vfork child cannot")

// spawnMode reports whether Build chooses vfork mode for caller c: where forced, or
// where nothing needs the parent between clone and exec (no ID map for the parent
// to write, no copied mount to idmap, no init, no fuse-overlayfs daemon to start)
// and the child need not set supplementary groups in a user namespace (it denies
// setgroups when it writes its own map).
func (s *Spec) spawnMode(c ids) (vfork bool, err error) {
	userNS := s.Namespaces.Mode(namespace.User) == namespace.New
	fuse := s.fuseRoot(userNS)
	switch s.Spawn {
	case SpawnVfork:
		if fuse {
			return false, &SpecError{Field: "spawn", Err: errFuseVfork}
		}
		if s.Namespaces.Auto != nil || s.detachedMounts() {
			return false, &SpecError{Field: "spawn", Err: errParentVfork}
		}
		return true, nil
	case SpawnFork:
		return false, nil
	}
	return vforkSupported && !s.Init && !fuse && !s.detachedMounts() && (!userNS || s.singleOwnMap(c) && !s.hasGroups()), nil
}

// compileFilesystem cuts the sandbox's mount namespace off from the host, assembles
// the overlay root, mounts the kernel filesystems, binds and tmpfs in it, pivots
// into it and applies the masked and read-only paths.
func (t *Template) compileFilesystem(p *child.Program, c ids) error {
	s := t.spec
	ns := &s.Namespaces
	// A new or a joined user namespace: either way the mounts are made where the
	// kernel locks what was inherited and wants userxattr for overlayfs.
	inUserNS := ns.Mode(namespace.User) != namespace.Host
	if err := mounts.CompilePropagation(s.Mounts, p); err != nil {
		return &SpecError{Field: "mounts", Err: err}
	}
	env := mounts.Env{
		InUserNS:         inUserNS,
		NewNetNS:         ns.Mode(namespace.Net) == namespace.New,
		NewPIDNS:         ns.Mode(namespace.PID) == namespace.New,
		NewIPCNS:         ns.Mode(namespace.IPC) == namespace.New,
		NewCgroupNS:      ns.Mode(namespace.Cgroup) == namespace.New,
		CgroupV2:         mounts.HostCgroupV2(),
		UnmappedTTYGroup: inUserNS && !idMapped(t.gidMap, 5),
		Privileged:       s.Privileged,
		MountLabel:       selinux.MountOption(t.labels.Mount),
		DetachBinds:      ns.Auto != nil,
	}
	if !s.NoRootfs {
		if err := t.makeStaging(); err != nil {
			return err
		}
		staging := t.staging
		r := s.rootfs()
		oenv := overlay.Env{Staging: staging, InUserNS: inUserNS, Rootless: c.uid != 0, MountLabel: env.MountLabel,
			DetachLayers: ns.Auto != nil && len(s.Rootfs.Lower) > 0}
		if err := r.Compile(p, oenv); err != nil {
			if errors.Is(err, overlay.ErrNotSupported) {
				return &UnsupportedError{Field: "rootfs", Err: err}
			}
			return &SpecError{Field: "rootfs", Err: err}
		}
		if err := t.compileFuse(r, oenv); err != nil {
			return err
		}
		env.NewRoot = overlay.NewRoot(staging)
		if s.Mounts.ReadonlyRoot {
			// Rootless on the host's "/", the root is one overlay per top-level
			// directory: each must become read-only, not only "/".
			mps, err := r.Mountpoints(oenv)
			if err != nil {
				return &SpecError{Field: "rootfs", Err: err}
			}
			env.RootMounts = mps
		}
	}
	ms := s.Mounts
	if s.onHostRoot() {
		// The host's secrets, temporary files and run-time state stay out of a
		// sandbox on the host's own "/" (Spec.HostRoot).
		h := s.hostRoot()
		ms.Tmpfs = append(append([]mounts.Tmpfs(nil), h.Empty...), ms.Tmpfs...)
		ms.Hidden = append(openTo(c, h.Resolve()), ms.Hidden...)
	}
	if err := mounts.Compile(ms, env, p); err != nil {
		if errors.Is(err, mounts.ErrNotSupported) {
			return &UnsupportedError{Field: "mounts", Err: err}
		}
		return &SpecError{Field: "mounts", Err: err}
	}
	return nil
}

// makeStaging makes the Template's staging directory, once: a plan made again
// (see mountWatch) uses the same.
func (t *Template) makeStaging() error {
	if t.staging != "" {
		return nil
	}
	// Named after this process's owner ID, so that the next Build of another
	// process can reclaim it if this one is killed (see Reclaim).
	t.owner = true
	staging, err := os.MkdirTemp("", stagingPrefix+holdOwner()+"-")
	if err != nil {
		return fmt.Errorf("sandbox: staging directory: %w", err)
	}
	t.staging = staging
	return nil
}

// compileTerminal has a start with a terminal open it in the sandbox's own
// /dev/pts, the devpts of the default mounts (or one of the Spec's own mounts
// over it), after its root and mounts are in place and while the child is still
// root of the sandbox: the peer then is a /dev/pts/N that the sandbox sees, and
// the child can give it to the target's user.
func (t *Template) compileTerminal(p *child.Program) {
	op := child.Op{Kind: child.KindTerminalIn, Ptr: unsafe.Pointer(p.InRoot("/dev/pts", child.CreateNone))}
	op.Args[0] = child.NoChown
	if u := t.spec.User; u != nil && u.UID != 0 {
		op.Args[0] = uintptr(u.UID)
	}
	p.Append(op, "terminal", "open a pseudo-terminal in the sandbox's /dev/pts (a devpts)")
	t.ownTerminal = true
}

// openTo leaves out of hidden what caller c cannot reach anyway: where the caller
// is not root, root of the sandbox has the caller's access to the host's files
// (its capabilities count only for files whose owner its user namespace maps), so
// a directory the caller may not search or a file it may not read is closed to
// the sandbox already, and a mount on it would only add work.
func openTo(c ids, hidden []mounts.HiddenPath) []mounts.HiddenPath {
	if c.uid == 0 {
		return hidden
	}
	var out []mounts.HiddenPath
	for _, h := range hidden {
		mode := uint32(unix.R_OK)
		if h.Dir {
			mode = unix.X_OK
		}
		if unix.Access(h.Path, mode) == nil {
			out = append(out, h)
		}
	}
	return out
}

// compilePrivileges bounds what the target may do: capabilities, the user switch,
// no_new_privs, the SELinux exec label, Landlock and seccomp. With no_new_privs,
// seccomp and Landlock come last, after every capability is gone; without it, the
// kernel wants CAP_SYS_ADMIN to install them, so they come before capset (and the
// remaining setup calls must pass the filter).
func (t *Template) compilePrivileges(p *child.Program, priv privileges) error {
	s := t.spec
	if priv.err != nil {
		return priv.err
	}
	sets, filter := priv.sets, priv.filter
	t.filter = filter
	labels := t.labels
	confine := func() error {
		emit.Labels(p, labels, selinux.Enabled())
		// The init is forked here: PID 1 applies the ops that follow to itself
		// too (seccomp, and without no_new_privs the user and capabilities), all
		// but Landlock, which would forbid executing the init (see compileInit).
		if s.Init {
			if err := t.compileInit(p, filter); err != nil {
				return err
			}
		}
		abi, err := s.Landlock.Resolve()
		if err != nil {
			return &SpecError{Field: "landlock", Err: err}
		}
		emit.Landlock(p, s.Landlock, abi)
		if filter != nil {
			emit.Filter(p, filter)
		}
		return nil
	}
	emit.Bounding(p, sets)
	if !s.NoNewPrivileges {
		if err := confine(); err != nil {
			return err
		}
	}
	if u := s.User; u != nil {
		t.compileUser(p, u)
	}
	emit.Capset(p, sets)
	if s.NoNewPrivileges {
		p.Syscall("no_new_privs", "set no_new_privs", 0, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1)
		return confine()
	}
	return nil
}

// privileges are the capability sets and the compiled seccomp filter (nil for none)
// of a Spec, or the typed error that stops its Build.
type privileges struct {
	sets   caps.Sets
	filter *seccomp.Filter
	err    error
}

func (s *Spec) resolvePrivileges() (r privileges) {
	var err error
	if r.sets, err = s.CapabilitySets(); err != nil {
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			err = &SpecError{Field: "capabilities", Err: err}
		}
		r.err = err
		return r
	}
	prof, ok, err := s.seccompProfileFor(r.sets.Bounding)
	if err != nil {
		r.err = &SpecError{Field: "seccomp", Err: err}
		return r
	}
	if ok {
		if r.filter, err = seccomp.Compile(prof); err != nil {
			r.err = &SpecError{Field: "seccomp", Err: err}
		}
	}
	return r
}

// CapabilitySets returns the capability sets the Spec gives its target, as Build
// resolves them. "All capabilities" ("ALL" in a set, or a privileged Spec) means all
// that the caller can pass on: such sets are cut down to the caller's bounding set
// (a container host may already lack some; this one lacks CAP_SYS_RESOURCE), as
// podman's --cap-add ALL is. A capability named on its own that the caller's
// bounding set lacks is an error: the child could not grant it.
func (s *Spec) CapabilitySets() (caps.Sets, error) {
	sets, err := s.Caps.Sets()
	if err != nil {
		return sets, err
	}
	own, err := caps.Inspect(0)
	if err != nil {
		return sets, err
	}
	b := own.Bounding
	for _, f := range []struct {
		names []string
		set   *caps.Set
	}{{s.Caps.Bounding, &sets.Bounding}, {s.Caps.Effective, &sets.Effective}, {s.Caps.Permitted, &sets.Permitted},
		{s.Caps.Inheritable, &sets.Inheritable}, {s.Caps.Ambient, &sets.Ambient}} {
		if s.Privileged || hasAll(f.names) {
			*f.set &= b
		}
	}
	if lack := (sets.Bounding | sets.Permitted | sets.Inheritable | sets.Ambient) &^ b; lack != 0 {
		return sets, &UnsupportedError{Field: "capabilities", Err: fmt.Errorf(
			"the caller's own bounding set lacks %s: the sandbox cannot be given it (\"ALL\" means all the caller has)",
			strings.Join(lack.Names(), ", "))}
	}
	return sets, nil
}

// hasAll reports whether names holds "ALL".
func hasAll(names []string) bool {
	for _, n := range names {
		if strings.EqualFold(n, "ALL") {
			return true
		}
	}
	return false
}

// SeccompProfile returns the system call filter the Spec loads, resolved as Build
// resolves it (Docker's and Podman's defaults against the Spec's bounding set); ok
// is false for a sandbox without a filter.
func (s *Spec) SeccompProfile() (prof seccomp.Profile, ok bool, err error) {
	sets, err := s.CapabilitySets()
	if err != nil {
		return prof, false, err
	}
	return s.seccompProfileFor(sets.Bounding)
}

func (s *Spec) seccompProfileFor(bounding caps.Set) (prof seccomp.Profile, ok bool, err error) {
	names := bounding.Names()
	switch s.Seccomp.Mode {
	case SeccompUnconfined:
		return prof, false, nil
	case SeccompPodman:
		return seccomp.PodmanDefault(names), true, nil
	case SeccompCustom:
		if s.Seccomp.Profile == nil {
			return prof, false, errors.New("mode custom needs a profile")
		}
		return *s.Seccomp.Profile, true, nil
	case "", SeccompDefault:
	default:
		return prof, false, fmt.Errorf("unknown seccomp mode %q", s.Seccomp.Mode)
	}
	if s.Privileged && s.Seccomp.Mode == "" {
		return prof, false, nil
	}
	return seccomp.Default(names), true, nil
}

// idMapped reports whether m maps id.
func idMapped(m []namespace.IDMap, id uint32) bool {
	_, ok := namespace.MapToHost(m, id)
	return ok
}

// compileIDMaps prepares the ID maps of a new user namespace: written by the parent
// in fork mode, by the child itself in vfork mode, and the child then becomes root
// of the namespace.
func (t *Template) compileIDMaps(c ids, p *child.Program) error {
	ns := &t.spec.Namespaces
	// Under an automatic range each start allocates its own block and writes its
	// maps (Start); these stand for them until then.
	t.auto = ns.Auto
	uidMap, gidMap := t.spec.IDMaps(c.uid, c.gid)
	t.uidMap, t.gidMap = uidMap, gidMap
	t.uidMapText = namespace.FormatIDMap(uidMap)
	t.gidMapText = namespace.FormatIDMap(gidMap)
	// Where setgroups is allowed (a root parent, or newgidmap with a subordinate
	// range), the child drops the caller's supplementary groups; an unprivileged
	// parent must deny it to write its own gid map at all.
	t.setgroups = t.spec.setgroupsPolicy(c, t.vfork)
	t.newIDMap = c.uid != 0 && !t.spec.singleOwnMap(c)
	if t.vfork {
		writeFileOp(p, "user namespace", "/proc/self/setgroups", namespace.SetgroupsDeny)
		writeFileOp(p, "user namespace", "/proc/self/gid_map", string(t.gidMapText))
		writeFileOp(p, "user namespace", "/proc/self/uid_map", string(t.uidMapText))
	}
	if t.setgroups == namespace.SetgroupsAllow {
		p.Syscall("user namespace", "drop supplementary groups", 0, unix.SYS_SETGROUPS, 0, 0)
	}
	p.Syscall("user namespace", "become group 0 of the namespace", 0, unix.SYS_SETRESGID, 0, 0, 0)
	p.Syscall("user namespace", "become user 0 of the namespace", 0, unix.SYS_SETRESUID, 0, 0, 0)
	if !t.spec.singleOwnMap(c) {
		// Root inside is another user outside than the caller (an automatic range
		// too): the change of credentials cleared the parent-death signal.
		p.Syscall("user namespace", "set the parent-death signal again", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, t.spec.deathSignal())
	}
	return nil
}

// compileRlimits sets every limit of the Spec and the extra ones of its limit plan,
// and RLIMIT_NOFILE always: Go raised the soft limit of this process, which a raw
// child would otherwise inherit.
func (t *Template) compileRlimits(p *child.Program, extra []Rlimit) error {
	limits := append(append([]Rlimit(nil), t.spec.Rlimits...), extra...)
	hasNofile := false
	for _, r := range limits {
		if n, _ := rlimitResource(r.Type); n == unix.RLIMIT_NOFILE {
			hasNofile = true
		}
	}
	if !hasNofile {
		var cur unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &cur); err != nil {
			return err
		}
		soft := uint64(1024)
		if cur.Max < soft {
			soft = cur.Max
		}
		limits = append(limits, Rlimit{Type: "RLIMIT_NOFILE", Soft: soft, Hard: cur.Max})
	}
	for _, r := range limits {
		n, _ := rlimitResource(r.Type)
		lim := &unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		p.Syscall("rlimits", fmt.Sprintf("set %s to %d:%d", strings.ToUpper(r.Type), r.Soft, r.Hard), 0,
			unix.SYS_PRLIMIT64, 0, uintptr(n), child.Ptr(p, lim), 0)
	}
	return nil
}

// compileUser switches to the target user after the setup that needs root. Keeping
// capabilities across the uid change lets the capability step decide what remains.
func (t *Template) compileUser(p *child.Program, u *User) {
	if len(u.Groups) > 0 {
		g := append([]uint32(nil), u.Groups...)
		p.Keep(g)
		p.Syscall("user", fmt.Sprintf("set supplementary groups %v", u.Groups), 0, unix.SYS_SETGROUPS, uintptr(len(g)), child.Ptr(p, &g[0]))
	} else if t.setgroups != namespace.SetgroupsDeny {
		p.Syscall("user", "drop supplementary groups", 0, unix.SYS_SETGROUPS, 0, 0)
	}
	p.Syscall("user", fmt.Sprintf("set gid %d", u.GID), 0, unix.SYS_SETRESGID, uintptr(u.GID), uintptr(u.GID), uintptr(u.GID))
	if u.UID != 0 {
		p.Syscall("user", "keep capabilities across the uid change", 0, unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1)
	}
	p.Syscall("user", fmt.Sprintf("set uid %d", u.UID), 0, unix.SYS_SETRESUID, uintptr(u.UID), uintptr(u.UID), uintptr(u.UID))
}

func writeFileOp(p *child.Program, stage, path, text string) {
	ptr, n := p.Bytes([]byte(text))
	var op child.Op
	op.Kind = child.KindWriteFile
	op.Args[0], op.Args[1], op.Args[2] = p.CString(path), ptr, n
	p.Append(op, stage, fmt.Sprintf("write %q to %s", strings.TrimSpace(text), path))
}

func pathDirs(env []string) []string {
	path := defaultPath
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	var dirs []string
	for _, d := range strings.Split(path, ":") {
		if d == "" {
			d = "."
		}
		dirs = append(dirs, d)
	}
	return dirs
}
