package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/cstr"
	"github.com/paddock-sandbox/paddock/internal/handshake"
	"github.com/paddock-sandbox/paddock/internal/mountns"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// A Template is a built sandbox: immutable, safe for concurrent use, and able to start
// any number of processes. Close releases the descriptors it holds.
type Template struct {
	spec       *Spec
	prog       *child.Program
	cloneFlags uint64
	userNS     bool
	vfork      bool

	uidMap, gidMap         []namespace.IDMap
	uidMapText, gidMapText []byte
	// auto, when set, is the resolved range from which each start allocates its
	// own block of IDs (namespace.Allocate); uidMap and its kin then only stand
	// for those maps.
	auto      *namespace.AutoRange
	setgroups string
	newIDMap  bool

	env      []string
	envp     *cstr.Array
	pathDirs []string
	devNull  *os.File
	files    []*os.File
	staging  string
	caller   ids         // who built the Template, for a new plan of its filesystem
	mounts   *mountWatch // follows the host's mount table, or nil
	// ownHostname says that each start gets a hostname of its own (Start.Hostname).
	ownHostname bool
	// ownTerminal says that the child opens a Command's terminal in the sandbox's
	// own /dev/pts (child.KindTerminalIn) rather than the parent on the host's.
	ownTerminal bool
	// hold says that each start waits before execve to be released (WithHold).
	hold   bool
	owner  bool // the Template holds the owner ID (owner.Hold) until Close
	filter *seccomp.Filter
	cgroup *cgroup.Planner // creates each start's cgroup, or nil

	// callerMountNS says that each start sets up its root in the caller's mount
	// namespace, below the staging directory, which the parent detaches at a
	// checkpoint (see inplace.go); stagingMu makes the starts take turns.
	callerMountNS bool
	stagingMu     sync.Mutex

	// pivotCheckpoint says that each start also stops before pivot_root, for
	// the Command's BeforePivot (a held Template with a root filesystem) or to
	// fill its copy-up tmpfs mounts.
	pivotCheckpoint bool
	// copyUp lists the tmpfs mounts that each start fills from the root at the
	// stop before pivot_root (see copyup.go), below copyRoot, the new root in
	// the child's mount namespace; chownCopies gives the copies their sources'
	// owners (a root caller).
	copyUp         []copyUp
	copyRoot       string
	chownCopies    bool
	idmappedLayers bool // the root's layers are idmapped (see copyOwners)
	// plan is what the Spec resolved to, which the program was emitted from.
	plan *plan.Plan
	fuse *overlay.FuseCommand // the root's fuse-overlayfs, run at the child's checkpoint
	// netHelper is the path of the network helper that each start runs, or
	// ""; netBind binds the sandbox's resolv.conf, or is nil (see network.go).
	netHelper string
	netBind   *mounts.Bind
	netDir    string

	labels       selinux.Labels
	releaseLabel func()
	closeOnce    sync.Once
	closed       atomic.Bool

	// lateMountNS says that Wait leaves the teardown of a finished sandbox's mount
	// namespace to a goroutine (see releaseMountNS), which mountNS keeps for Close.
	lateMountNS bool
	mountNS     mountns.Releases

	// poolAt is the index of the program's first op that depends on the
	// command, where a warm child waits; pool is the warm pool, or nil (see
	// Pool).
	poolAt int
	pool   atomic.Pointer[pool]
}

// Spec returns a copy of the Spec the Template was built from.
func (t *Template) Spec() *Spec { return t.spec.Clone() }

// Close releases what the Template holds: descriptors (joined namespaces, /dev/null,
// a loaded cgroup device program), the staging directory of its overlay root and its
// SELinux categories. It first waits until the mount namespaces of finished sandboxes,
// which Wait leaves to a goroutine to tear down, are gone. Processes already started
// are not affected, but no more can be started.
func (t *Template) Close() error {
	t.closeOnce.Do(func() {
		t.closed.Store(true)
		if pl := t.pool.Load(); pl != nil {
			pl.close()
		}
		t.mountNS.Close()
		for _, f := range t.files {
			f.Close()
		}
		if t.devNull != nil {
			t.devNull.Close()
		}
		if t.staging != "" {
			os.Remove(t.staging)
		}
		t.removeNetDir()
		if t.owner {
			owner.Drop()
		}
		if t.releaseLabel != nil {
			t.releaseLabel()
		}
		if t.cgroup != nil {
			t.cgroup.Close() // the device program it loaded, if any
		}
	})
	return nil
}

// Run starts cmd, waits for it and returns its exit status. A non-zero exit is not an
// error: look at ExitStatus. As with Wait, a sandbox that the end of ctx killed
// returns ctx's error along with its status.
func (t *Template) Run(ctx context.Context, cmd Command) (*ExitStatus, error) {
	p, err := t.Start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	return p.Wait()
}

// Start clones the calling process into a new sandbox that runs cmd. It returns once
// the target has been executed, or with a *ChildError naming the step that failed, in
// which case nothing of the attempt is left behind. The end of ctx kills the sandbox:
// before the target runs, Start then fails with an error that matches ctx's
// (errors.Is(err, context.DeadlineExceeded)), within its deadline even in vfork
// mode; after, Wait returns ctx's error.
//
// A Template follows the host's mount table: where it changed since Build (a mount
// under /tmp, say), Start first plans the sandbox's filesystem again, and a start
// that a change made at the same moment defeated is tried again, up to eight times
// in all; where a change defeated every one, Start fails with an error matching
// ErrMountsChanging (and the last attempt's *ChildError), and a later Start may
// well succeed. Where the new plan fails, Start returns an error matching ErrStale that says why.
// A mount of a host path that the sandbox's root may not reach (EACCES: a
// directory on the way that its user, mapped elsewhere on the host, may not
// search) is not tried again: the *ChildError names the path and the directory.
func (t *Template) Start(ctx context.Context, cmd Command) (*Process, error) {
	if len(cmd.Args) == 0 || cmd.Args[0] == "" {
		return nil, specErr("command", "no program given")
	}
	if p, ok, err := t.startPooled(ctx, &cmd); ok {
		return p, err
	}
	if t.callerMountNS {
		t.stagingMu.Lock()
		defer t.stagingMu.Unlock()
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t.closed.Load() {
			return nil, ErrClosed
		}
		prog, err := t.program()
		if err != nil {
			return nil, err
		}
		p, err := t.start(ctx, cmd, prog)
		if ce, ok := deniedAccess(err); ok {
			t.explainAccess(ce)
		}
		if err == nil || !t.replanAfter(err, prog) {
			return p, err
		}
		if attempt == maxAttempts {
			return nil, fmt.Errorf("%w (%d attempts): %w", ErrMountsChanging, attempt, err)
		}
	}
}

// maxAttempts bounds the starts that Start tries while the host's mount table
// keeps changing under them (see mountWatch).
const maxAttempts = 8

// start is one attempt of Start with the child's program prog.
func (t *Template) start(ctx context.Context, cmd Command, prog *child.Program) (*Process, error) {
	p := &Process{tmpl: t, prog: prog, pid: -1, pidfd: -1, pidfd32: -1, mountNS: -1, waitDelay: cmd.WaitDelay}
	s := &p.start
	s.SyncFD, s.NotifyFD, s.TerminalFD, s.Ctty = -1, -1, -1, -1
	err := p.setupStdio(&cmd)
	if err == nil {
		err = p.openHold(&cmd)
	}
	if err != nil {
		p.stdio.Close()
		p.closeTerminal()
		return nil, err
	}
	// Built here, not in a helper, so that the arrays' headers stay on the stack.
	argv := cstr.NewArray(cmd.Args)
	envp := t.envp
	dirs := t.pathDirs
	if cmd.Env != nil {
		envp = cstr.NewArray(cmd.Env)
		dirs = pathDirs(cmd.Env)
	}
	paths := cstr.ExecCandidates(cmd.Args[0], dirs)
	s.Argv, s.Envp, s.Paths = argv.Ptr(), envp.Ptr(), paths.Ptrs()

	// The handshake's pipes (and the socket pairs over which the child sends the
	// master of its terminal and its seccomp listener); the deferred close covers
	// every path.
	fds := handshake.NoFDs()
	defer fds.CloseAll()
	listener := t.filter != nil && t.filter.NeedsListener
	if err := fds.Open(s, !t.vfork, listener, cmd.Terminal && t.ownTerminal); err != nil {
		return p.abandon(err)
	}
	if err := p.prepare(ctx, prog); err != nil {
		return p.abandon(err)
	}

	var pid int
	var errno syscall.Errno
	p.cloning()
	if t.vfork {
		pid, errno = child.SpawnVfork(prog, s)
	} else {
		pid, errno = child.Spawn(prog, s)
	}
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envp)
	runtime.KeepAlive(paths)
	fds.CloseChild()
	p.closeHoldFD()
	p.stdio.CloseChildEnds()
	if errno != 0 {
		child.CloseDetached(s)
		p.cloned(-1)
		return p.abandon(&ChildError{Stage: "clone", Step: "clone3", Op: -1, Errno: errno})
	}
	p.cloned(pid)
	if t.lateMountNS {
		p.holdMountNS()
	}
	if err := p.handshake(ctx, &fds, pid, cmd.Args[0]); err != nil {
		p.abort()
		return nil, err
	}
	p.stdio.Start()
	p.armLimits()
	return p, nil
}

// abandon undoes a start that failed before or at the clone, when no child runs,
// and returns err. The caller's deferred FDs.CloseAll closes the handshake's
// descriptors.
func (p *Process) abandon(err error) (*Process, error) {
	p.stopWatch()
	p.closeHoldFD()
	p.stdio.Close()
	p.closeTerminal()
	removeCgroup(p.cgroup)
	p.releaseIDs()
	return nil, err
}

// prepare makes what the child needs before the clone: this start's hostname, its
// cgroup, its block of IDs and the watch of ctx, then the clone's arguments.
func (p *Process) prepare(ctx context.Context, prog *child.Program) error {
	t, s := p.tmpl, &p.start
	if t.ownHostname {
		p.newHostname()
	}
	if t.cgroup != nil {
		if err := p.createCgroup(); err != nil {
			return err
		}
	}
	if err := p.prepareIDs(prog); err != nil {
		return err
	}
	if err := p.watchContext(ctx); err != nil {
		return err
	}
	s.Clone.Flags |= t.cloneFlags | unix.CLONE_PIDFD | unix.CLONE_CLEAR_SIGHAND
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	s.Clone.PidFD = uint64(uintptr(unsafe.Pointer(&p.pidfd32)))
	return nil
}

// handshake is the parent's half of a start after the clone: it releases the child
// (in fork mode), reads its reports until it executed the target, and receives the
// descriptors it sent. Whatever failed, an ended ctx is the error.
func (p *Process) handshake(ctx context.Context, fds *handshake.FDs, pid int, program string) error {
	err := p.release(fds, pid)
	if err == nil {
		err = p.readReports(fds.ErrR, fds.SyncW, program)
	}
	if err == errHeld {
		err = nil
		p.keepHeld(&fds.ErrR, program)
	} else if err == nil {
		err = p.checkExec(ctx, program)
	}
	if cause := p.contextErr(); cause != nil {
		err = contextStartErr(cause, program) // whatever failed, the context's end did it
	}
	if err == nil {
		err = fds.Receive(&p.terminal, &p.listener)
	}
	return err
}

// release writes the ID maps of the child's new user namespace and idmaps its
// detached mounts while it waits, then lets it go on, in fork mode. The sync pipe
// stays open for the checkpoints that readReports serves (the fuse root).
func (p *Process) release(fds *handshake.FDs, pid int) error {
	t, s := p.tmpl, &p.start
	if t.vfork {
		return nil
	}
	var err error
	if t.userNS {
		err = p.writeIDMaps(pid)
	}
	if err == nil && s.NDetached > 0 {
		err = p.setDetached(pid)
	}
	if err == nil {
		err = p.startNetwork(pid)
	}
	child.CloseDetached(s)
	if err == nil {
		p.beginHandover()
		if werr := handshake.Release(fds.SyncW); werr != nil {
			err = fmt.Errorf("sandbox: release the child: %w", werr)
		}
	}
	return err
}

// writeIDMaps writes the maps of the child's new user namespace while it waits:
// the Template's, or those of the block this start allocated.
func (p *Process) writeIDMaps(pid int) error {
	t := p.tmpl
	uidText, gidText := t.uidMapText, t.gidMapText
	if p.ids != nil {
		uidText, gidText = p.ids.uidText, p.ids.gidText
	}
	if t.newIDMap {
		if err := namespace.RunNewIDMap(pid, t.uidMap, t.gidMap); err != nil {
			return &ChildError{Stage: "user namespace", Step: "newuidmap/newgidmap", Op: -1, Errno: child.ErrnoOf(err), cause: err}
		}
		return nil
	}
	err := handshake.WriteIDMaps(pid, t.setgroups, uidText, gidText)
	if me, ok := err.(*handshake.MapError); ok {
		return &ChildError{Stage: "user namespace", Step: "write " + me.Name + " " + strings.TrimSpace(me.Data), Op: -1, Errno: child.ErrnoOf(me.Err), cause: me.Err}
	}
	return err
}

var cgroupSeq atomic.Uint64

// createCgroup creates this start's cgroup and hands the child its join
// descriptors (cgroup.Cgroup.JoinFDs), which it writes before anything else.
func (p *Process) createCgroup() error {
	// The owner ID makes the name unique across pid namespaces and reboots (a pid is
	// neither), and lets another process reclaim it if this one dies.
	name := cgroupPrefix + owner.Hold() + "-" + strconv.FormatUint(cgroupSeq.Add(1), 10)
	owner.NoteCgroups()
	cg, err := p.tmpl.cgroup.Create(name)
	if err != nil {
		owner.Drop()
		if errors.Is(err, cgroup.ErrNotSupported) {
			return &SpecError{NotSupported: true, Field: "cgroup", Err: err}
		}
		return &ChildError{Stage: "cgroup", Step: "create cgroup " + name, Op: -1, Errno: child.ErrnoOf(err), cause: err}
	}
	p.cgroup = cg
	fds := cg.JoinFDs()
	if len(fds) > child.MaxCgroupFDs {
		return &ChildError{Stage: "cgroup", Step: "join cgroup " + name, Op: -1, Errno: syscall.E2BIG}
	}
	for i, fd := range fds {
		p.start.CgroupFDs[i] = int32(fd)
	}
	p.start.NCgroupFDs = int32(len(fds))
	// With a cgroup v2 directory, clone3 puts the child there from its first
	// instruction; the v1 hierarchies (of a v1 or hybrid host) are joined by the
	// writes.
	if fd, ok := cg.CloneFD(); ok {
		p.start.Clone.Flags |= unix.CLONE_INTO_CGROUP
		p.start.Clone.Cgroup = uint64(fd)
	}
	return nil
}

// explainExec says, where it can tell, why the target could not be executed: a
// filter that refuses execve, or a program that is a symbolic link leading nowhere
// in the sandbox's root (a root filesystem whose /bin/sh links to a busybox it lacks).
func (t *Template) explainExec(program string, errno syscall.Errno) string {
	switch errno {
	case syscall.EPERM, syscall.EACCES:
		if f := t.filter; f != nil {
			if act, _ := f.Evaluate(seccomp.Data{Nr: unix.SYS_EXECVE, Arch: unix.AUDIT_ARCH_X86_64}); act != seccomp.ActAllow && act != seccomp.ActLog {
				return "execve is denied by the seccomp filter"
			}
		}
	case syscall.ENOENT:
		if !strings.HasPrefix(program, "/") || !t.spec.BuildsFilesystem() || t.spec.NoRootfs {
			return ""
		}
		layers := append([]string{t.spec.Rootfs.Upper}, t.spec.RootOverlaySpec().Lower...)
		if t.spec.RootDir != "" {
			layers = []string{t.spec.RootDir}
		}
		for _, layer := range layers {
			if layer == "" {
				continue
			}
			if target, err := os.Readlink(filepath.Join(layer, program)); err == nil {
				return fmt.Sprintf("%s is a symbolic link to %s, which does not exist in the sandbox", program, target)
			}
		}
	}
	return ""
}

// newHostname gives the start a hostname of its own: 12 random hexadecimal
// digits, as podman names a container's host after its short ID.
func (p *Process) newHostname() {
	var b [6]byte
	rand.Read(b[:])
	s := &p.start
	s.HostnameLen = int32(hex.Encode(s.Hostname[:], b[:]))
}

// Hostname returns the hostname the sandbox was given: the Spec's, one of the
// start's own where the Spec gives none and the uts namespace is new, or "" where
// it shares the host's or joins one.
func (p *Process) Hostname() string {
	if h := p.tmpl.spec.Hostname; h != "" {
		return h
	}
	return string(p.start.Hostname[:p.start.HostnameLen])
}
