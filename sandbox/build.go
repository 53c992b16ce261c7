package sandbox

import (
	"fmt"
	"os"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/cstr"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/internal/netns"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox/spec"
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
	rebasing.Store(b.spec, &rebased)
	o(b.spec)
	rebasing.Delete(b.spec)
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
	if err := s.Check(); err != nil {
		return nil, err
	}
	if err := child.Probe(); err != nil {
		return nil, &SpecError{NotSupported: true, Field: "kernel", Err: err}
	}
	t := &Template{spec: s, caller: c}
	var reclaimed <-chan struct{}
	err := t.compile(c, &reclaimed)
	if reclaimed != nil {
		<-reclaimed
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	t.lateMountNS = t.lateMountNSOK()
	return t, nil
}

// compile resolves the validated Spec into its Plan (with the cgroup planner
// and the labels the Template keeps) and emits the child's program from it, in
// the order the kernel dictates (see the package documentation). Once the cgroup
// planner is known, it starts a pass over what dead callers left (reclaimSoon)
// beside the rest of its work, and sets reclaimed to the channel that closes when
// the pass is done.
func (t *Template) compile(c ids, reclaimed *<-chan struct{}) error {
	s := t.spec
	p := &child.Program{}
	t.prog = p
	// The capability sets and the seccomp filter depend on the Spec alone: they
	// are resolved and compiled on another core while this one probes the kernel
	// and reads directories. An early return waits for them too, so that
	// nothing of this Build (a probe's descriptor) outlives it.
	priv := make(chan privileges, 1)
	go func() {
		r, err := s.ResolvePrivileges(true)
		priv <- privileges{r, err}
	}()
	var pv privileges
	got := false
	defer func() {
		if !got {
			<-priv
		}
	}()
	lp, err := t.planCgroup(c)
	if err != nil {
		return err
	}
	*reclaimed = reclaimAside(t.cgroup)
	if err := t.resolveLabels(); err != nil {
		return err
	}
	pl, err := s.Resolve(c.uid, c.gid, lp, t.labels)
	if err != nil {
		return err
	}
	t.plan = pl
	t.userNS = pl.Get(namespace.User).Mode == namespace.New
	t.vfork = pl.Spawn.Mode == plan.Vfork
	t.ownHostname = pl.OwnHostname
	for _, n := range pl.Namespaces {
		if n.By == plan.ByClone {
			t.cloneFlags |= uint64(n.Kind.CloneFlag())
		}
	}
	emit.Start(p, pl)
	emit.Early(p, &pl.Process, processValues)
	if pl.Cgroup.Version != 0 {
		emit.JoinCgroups(p)
	}
	if err := t.compileJoins(p, pl); err != nil {
		return err
	}
	if pl.Spawn.Handover {
		emit.Handover(p, pl)
	}
	if t.userNS {
		t.keepIDMaps(c, pl)
	}
	if t.netBind, err = t.compileNetwork(); err != nil {
		return err
	}
	emit.Namespaces(p, pl, s.Namespaces.Time)
	emit.Hostname(p, pl)
	if err := t.compileMountNS(p, c); err != nil {
		return err
	}
	t.compileStagingDetach(p)
	t.compileCopyUp(c)
	if n := len(p.Detached); n > child.MaxDetached {
		return &SpecError{NotSupported: true, Field: "mounts", Err: fmt.Errorf(
			"%d binds that the parent copies for each start (idmapped ones, and every one where the user namespace's root is another user of the host), at most %d", n, child.MaxDetached)}
	}
	pv, got = <-priv, true
	if pv.err != nil {
		return pv.err
	}
	// The bounding set changes neither the effective nor the permitted set, and
	// no step before capset reads it: dropped here, it is dropped by a warm
	// child before it waits (see Pool), not by each pooled start.
	emit.Bounding(p, pv.Capabilities.Sets)
	t.poolAt = len(p.Ops) // what follows depends on the command (see Pool)
	emit.Rlimits(p, pl.Rlimits, func(name string) int { n, _ := spec.RlimitResource(name); return n })
	emit.Workdir(p, s.Workdir, s.BuildsFilesystem())
	if s.BuildsFilesystem() {
		p.Append(child.Op{Kind: child.KindCloseRoots}, "mount", "close the root's descriptors")
	}
	p.Append(child.Op{Kind: child.KindStdio}, "stdio", "set up the standard streams and descriptors")
	emit.Process(p, &pl.Process, processValues)
	if err := t.compilePrivileges(p, pv); err != nil {
		return err
	}
	if err := t.compileHold(p, pl); err != nil {
		return err
	}
	var empty child.Op
	empty.Kind = child.KindSignalMask
	p.Append(empty, "start", "unblock signals")
	t.confineBeforePool(p)
	if err := t.checkFilterCalls(); err != nil {
		return err
	}
	t.compileEnv()
	return t.openDevNull()
}

// compileJoins opens the namespaces the Plan joins, the Template's shared
// network namespace first, and joins them, the user namespace first, so that
// the child then holds capabilities over what it owns.
func (t *Template) compileJoins(p *child.Program, pl *plan.Plan) error {
	if pl.Get(namespace.Net).By == plan.ByShared {
		f, err := netns.New()
		if err != nil {
			return &SpecError{NotSupported: true, Field: "sharedNetNS", Err: err}
		}
		t.files = append(t.files, f)
		emit.SharedNetNS(p, f.Fd())
	}
	for _, n := range pl.Namespaces {
		if n.By != plan.BySetns {
			continue
		}
		f, err := os.OpenFile(n.Path, os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return &SpecError{Field: "namespaces." + string(n.Kind), Err: err}
		}
		t.files = append(t.files, f)
		emit.Join(p, n.Kind, n.Path, f.Fd())
	}
	return nil
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
	if t.spec.Namespaces.Mode(namespace.Mount) == namespace.Join && !t.spec.RootInPlace {
		t.compileJoinedTerminal(p)
	}
	if !t.spec.BuildsFilesystem() {
		return nil
	}
	// The table as it is before the plan reads it (see mountWatch).
	w, from := newMountWatch(), len(p.Ops)
	steps, err := t.compileFilesystem(p, c)
	if err != nil {
		if w != nil && w.file != nil {
			w.file.Close()
		}
		return err
	}
	t.plan.Filesystem.Steps, t.plan.Filesystem.Staging = steps, t.staging
	if t.fuse == nil && !t.spec.RootInPlace {
		// fuse-overlayfs reads the host's "/" when each start mounts it; a
		// root in place is a root directory, planned from no mount table.
		t.watchMounts(w, from, len(p.Ops))
	} else if w != nil && w.file != nil {
		w.file.Close()
	}
	if t.spec.Mounts.Defaults || ownMount(&t.spec.Mounts, "/dev/pts", "devpts") {
		t.compileTerminal(p)
	}
	return nil
}

// ownMount reports whether the Spec's own mounts put a new filesystem of type
// fstype on target.
func ownMount(s *mounts.Spec, target, fstype string) bool {
	for _, m := range s.Mounts {
		if m.Target == target && m.FSType == fstype && m.Flags&unix.MS_BIND == 0 {
			return true
		}
	}
	if fstype == "tmpfs" {
		for _, tm := range s.Tmpfs {
			if tm.Target == target {
				return true
			}
		}
	}
	return false
}

// compileEnv keeps the target's default environment, as C strings for execve and
// as the PATH directories to look the program up in.
func (t *Template) compileEnv() {
	t.env = t.spec.Env
	t.envp = cstr.NewArray(t.spec.Env)
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

// compileFilesystem cuts the sandbox's mount namespace off from the host, assembles
// the overlay root (or binds the root directory), mounts the kernel filesystems, binds and tmpfs in it, pivots
// into it and applies the masked and read-only paths: the steps planMounts
// resolves, with the Template's staging directory.
func (t *Template) compileFilesystem(p *child.Program, c ids) ([]mounts.Step, error) {
	s := t.spec
	if !s.NoRootfs {
		if err := t.makeStaging(); err != nil {
			return nil, err
		}
	}
	if t.netBind != nil {
		// The resolv.conf of the sandbox's network, after the Spec's binds,
		// which it does not change.
		withDNS := *s
		withDNS.Mounts.Binds = append(append([]mounts.Bind(nil), s.Mounts.Binds...), *t.netBind)
		s = &withDNS
	}
	steps, err := s.MountSteps(c.uid, c.gid, t.staging, t.labels.Mount)
	if err != nil {
		return nil, err
	}
	if !s.NoRootfs && s.RootDir == "" {
		if err := t.compileFuse(s.RootOverlay(c.uid, t.staging, t.labels.Mount)); err != nil {
			return nil, err
		}
	}
	emit.Mounts(p, steps)
	return steps, nil
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
	staging, err := os.MkdirTemp("", stagingPrefix+owner.Hold()+"-")
	if err != nil {
		return fmt.Errorf("sandbox: staging directory: %w", err)
	}
	t.staging = staging
	return nil
}

// compileJoinedTerminal has a start with a terminal open it in the /dev/pts of
// a joined mount namespace, as runc's exec opens it in the container's, where
// that namespace is a process's (/proc/PID/ns/mnt) whose /dev/pts is a devpts:
// the target then sees its terminal by name. The child resolves /dev/pts in its
// root once it has joined the namespace.
func (t *Template) compileJoinedTerminal(p *child.Program) {
	proc, ok := strings.CutSuffix(t.spec.Namespaces.NS[namespace.Mount].Path, "/ns/mnt")
	var st unix.Statfs_t
	if !ok || !strings.HasPrefix(proc, "/proc/") || unix.Statfs(proc+"/root/dev/pts", &st) != nil || st.Type != unix.DEVPTS_SUPER_MAGIC {
		return
	}
	var open child.Op
	open.Kind = child.KindOpenRoot
	open.Args[0] = p.CString("/")
	p.Append(open, "terminal", "open the joined mount namespace's root")
	t.compileTerminal(p)
	p.Append(child.Op{Kind: child.KindCloseRoots}, "terminal", "close the root's descriptor")
}

// compileTerminal has a start with a terminal open it in the sandbox's own
// /dev/pts, the devpts of the default mounts or of the Spec's own mounts, after
// its root and mounts are in place and while the child is still root of the
// sandbox: the peer then is a /dev/pts/N that the sandbox sees, and the child
// can give it to the target's user. On a /dev of the sandbox's own (a tmpfs),
// the peer is also bound onto /dev/console, as runc makes a container's
// console.
func (t *Template) compileTerminal(p *child.Program) {
	emit.Terminal(p, t.plan.IDs.User)
	if t.spec.Mounts.Defaults || ownMount(&t.spec.Mounts, "/dev", "tmpfs") {
		emit.Console(p)
	}
	t.ownTerminal = true
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
	t.plan.Capabilities, t.plan.Seccomp = priv.Capabilities, priv.Seccomp
	sets, filter := priv.Capabilities.Sets, priv.Filter
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
	if !s.NoNewPrivileges {
		if err := confine(); err != nil {
			return err
		}
	}
	if s.User != nil {
		emit.User(p, &t.plan.IDs)
	}
	emit.Capset(p, sets)
	if s.NoNewPrivileges {
		emit.NoNewPrivs(p)
		return confine()
	}
	return nil
}

// keepIDMaps keeps what the parent of each start needs of the Plan's ID maps:
// in fork mode it writes them (or has newuidmap write them) while the child
// waits; under an automatic range each start allocates its own block and writes
// its maps instead (Start).
func (t *Template) keepIDMaps(c ids, pl *plan.Plan) {
	t.auto = pl.IDs.Auto
	t.uidMap, t.gidMap = pl.IDs.UIDMap, pl.IDs.GIDMap
	t.uidMapText = namespace.FormatIDMap(t.uidMap)
	t.gidMapText = namespace.FormatIDMap(t.gidMap)
	t.setgroups = pl.IDs.Setgroups
	t.newIDMap = pl.IDs.Writer == plan.MapsByHelpers
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

// processValues turns the Plan's process attributes into system call values.
var processValues = emit.ProcessValues{
	Personality: func(d string) uintptr { v, _ := spec.PersonalityValue(d); return v },
	SchedAttr: func(sc *plan.Scheduler) []byte {
		a := spec.SchedAttrOf(sc)
		return unsafe.Slice((*byte)(unsafe.Pointer(a)), unsafe.Sizeof(*a))
	},
	IOPriority:   spec.IOPriorityValue,
	AffinityMask: spec.AffinityMask,
}

// privileges are what Spec.ResolvePrivileges returns, through a channel.
type privileges struct {
	spec.Privileges
	err error
}

// ids are the effective IDs of a caller.
type ids struct{ uid, gid int }

func callerIDs() ids { return ids{unix.Geteuid(), unix.Getegid()} }
