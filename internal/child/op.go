package child

import (
	"fmt"
	"unsafe"
)

// Kind says what the child does with an Op.
type Kind uint8

// The kinds of Op. KindSyscall covers most steps; the others are composite steps
// that need a little logic in the child.
const (
	// KindSyscall performs syscall Trap with Args.
	KindSyscall Kind = iota + 1
	// KindWriteFile opens the C string Args[0] write-only, writes Args[2] bytes from
	// Args[1] and closes it (uid_map, timens_offsets, cgroup files).
	KindWriteFile
	// KindLandlock builds and enforces the Landlock ruleset at Ptr (*LandlockRules).
	KindLandlock
	// KindSeccomp loads the filter *unix.SockFprog at Args[0] with seccomp flags Args[1].
	// With SECCOMP_FILTER_FLAG_NEW_LISTENER the listener descriptor is sent to the
	// parent over the per-start notify socket.
	KindSeccomp
	// KindStdio performs the per-start descriptor work: the fd shuffle, the
	// close-on-exec sweep above the last target descriptor, setsid and the controlling
	// terminal.
	KindStdio
	// KindWaitParent blocks until the parent releases the child (after it wrote ID
	// maps or placed it in a cgroup). EOF instead of the release byte means the
	// parent died; the child exits. The sync descriptor stays open (it is
	// close-on-exec) for a later KindCheckpoint.
	KindWaitParent
	// KindJoinCgroups writes "0" to every descriptor of Start.CgroupFDs: the v1
	// "tasks" files of the sandbox's cgroup, opened by the parent for this start
	// (the child is single-threaded: moving its thread moves it).
	KindJoinCgroups
	// KindLoopbackUp brings the loopback interface of the child's new network
	// namespace up, as container runtimes do ("--net none" still has lo).
	KindLoopbackUp
	// KindSignalMask sets the child's signal mask to Args[0] (a sigset) just before
	// exec; the parent blocked all signals around the clone.
	KindSignalMask
	// KindCheckpoint is a second handshake point, for parent work that needs the
	// child's namespaces as they are at this step (running fuse-overlayfs in its
	// user and mount namespaces): the child writes a Report naming CheckpointOp
	// with errno 0 on the error pipe, then blocks until the parent writes one more
	// byte on the sync pipe. EOF instead of the byte means the parent gave up or
	// died; the child exits. Fork mode only: a vfork child cannot wait.
	KindCheckpoint
	// KindOpenRoot opens the directory at the C string Args[0] as the root that the
	// later in-root steps resolve their paths in (see InRoot).
	KindOpenRoot
	// KindCloseRoots closes the root and the kept sources of the in-root steps.
	KindCloseRoots
	// KindEmptyMount makes a detached, empty, read-only tmpfs that masks and
	// hidden directories bind copies of (SourceEmpty).
	KindEmptyMount
	// KindMountIn mounts a new filesystem on the directory Ptr (*InRoot): source
	// Args[0], type Args[1], flags Args[2] and data Args[3], C strings or 0.
	KindMountIn
	// KindBindIn attaches a copy of a mount tree on Ptr (*InRoot): the host path
	// (C string) Args[0], or SourceNull, SourceEmpty, SourceSelf or SourceTerminal
	// (a start without a terminal of the sandbox's own skips it). Args[1] holds open_tree's
	// AT_RECURSIVE for a recursive bind; Args[2] and Args[3] the mount attributes
	// (MOUNT_ATTR_*) set and cleared on the copy before it is attached, and Args[4]
	// AT_RECURSIVE to change them on every mount in it.
	KindBindIn
	// KindSetAttrIn changes the mount at Ptr (*InRoot) with mount_setattr:
	// attributes set Args[0], cleared Args[1], propagation Args[2], flags Args[3]
	// (AT_RECURSIVE).
	KindSetAttrIn
	// KindMaskIn hides Ptr (*InRoot): a directory under an empty read-only tmpfs
	// (a copy of KindEmptyMount's where it ran), anything else under the /dev/null
	// kept by KindSourceIn.
	KindMaskIn
	// KindSourceIn keeps Ptr (*InRoot) as the /dev/null of later KindBindIn and
	// KindMaskIn steps; with Args[0] set it must be that character device (a
	// dev_t), or the step fails with EPERM.
	KindSourceIn
	// KindMknodIn makes the device node of mode Args[0] and dev_t Args[1], with
	// permissions Args[2], as the last component of Ptr (*InRoot, CreateParent).
	KindMknodIn
	// KindSymlinkIn makes the last component of Ptr (*InRoot, CreateParent) a
	// symbolic link to the C string Args[0].
	KindSymlinkIn
	// KindChdirIn changes the working directory to Ptr (*InRoot).
	KindChdirIn
	// KindInit splits the child in two: it forks the target, which carries on with
	// the ops that follow, and becomes the sandbox's init (PID 1 of its pid
	// namespace). The init applies the remaining ops to itself as well, but for
	// KindLandlock and KindSignalMask, marks every descriptor close-on-exec and
	// executes the sealed memfd Args[0] (see package initelf) with argv {Ptr (a C
	// string), the target's pid} and an empty environment; the target waits until
	// the init runs (it sends the target SIGCONT). Fork mode only.
	KindInit
	// KindStartHostname sets the hostname to Start.Hostname, a name of each start's
	// own.
	KindStartHostname
	// KindTerminalIn gives a start with a Start.TerminalFD a pseudo-terminal of the
	// sandbox's own, as runc and crun do: in the directory Ptr (*InRoot), which
	// must be a devpts (else ENOTTY), it opens "ptmx", unlocks it, sets its size to
	// Start.TerminalSize and opens its peer (TIOCGPTPEER), which KindStdio puts
	// wherever Start.FDs holds TerminalPeer; it gives the peer to the user Args[0]
	// unless that is NoChown, and sends the master to the parent over
	// Start.TerminalFD. Other starts skip it.
	KindTerminalIn
	// KindAttach attaches the detached mount Start.Detached[Args[0]] on the
	// directory at the C string Args[1], a path of the child's own (a directory of
	// the staging tmpfs), with move_mount, and closes the child's descriptor of it.
	KindAttach
	// KindHold holds the start just before execve until another process releases
	// it (create, then start, as runc's exec FIFO does). It first checks that one
	// of Start.Paths can be executed, and fails as execve would (a Report naming
	// ExecOp) where none can, so that a program not there fails the start and
	// not the release. Then the child writes a Report
	// naming HoldOp with errno 0 on the error pipe, opens the FIFO for writing,
	// which blocks until a reader opens it, writes one byte and goes on, keeping
	// the FIFO open (close-on-exec) until execve, which closes it, or fails: then
	// the errno follows the byte, as a native int32. It reaches the FIFO, which lives outside the sandbox's root, by the
	// O_PATH descriptor that the parent opened on the host for the start:
	// Start.HoldPath names it ("self/fd/N") in the procfs open at Args[0], which
	// the parent opened and checked, so that nothing of the sandbox's root (a
	// missing /proc, a planted one) comes between. Fork mode only.
	KindHold
	// KindWriteProcIn writes Args[1] bytes from Args[0] to the file Ptr
	// (*InRoot) inside the root, a sysctl: it opens it write-only without
	// following any link (RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
	// RESOLVE_NO_MAGICLINKS), and fails with EXDEV unless the file is on a
	// procfs, so that a root that planted a file or another filesystem at
	// /proc gets nothing written.
	KindWriteProcIn
	// KindHandover hands the start over to a target cloned into the pid
	// namespace that the child joined (setns(2) moves only the joiner's later
	// children), as runc's double fork does: the child clones the target with
	// CLONE_PARENT, so that the target is the parent's own child, reports its
	// pid in a Report naming HandoverOp and exits. The target carries on with
	// the ops that follow once the child is gone, having set the parent-death
	// signal Args[0] again (a fork clears it); it exits if the child could not
	// report it, or if the parent died. Fork mode only.
	KindHandover
	// KindPool is the point where a warm child of a pool waits for its
	// command (see pool_linux.go): every step before it is the same for any
	// command, every step after it reads the command. It writes a Report naming
	// PoolOp with errno 0 on the error pipe, closes every descriptor but its own,
	// and blocks in recvmsg on Start.PoolFD for one PoolHeader message into
	// Start.PoolBuf, with the command's descriptors. EOF (the pool closed, the
	// parent died) makes it exit. Fork mode only.
	KindPool
)

// NoChown, as Args[0] of KindTerminalIn, leaves the terminal to the user who
// opened it (root of the sandbox).
const NoChown = ^uintptr(0)

// Op flags.
const (
	// IgnoreENOENT makes a step that fails with ENOENT a no-op (an optional mask
	// target that this kernel lacks).
	IgnoreENOENT uint8 = 1 << iota
	// IgnoreEEXIST makes a step that fails with EEXIST a success (mkdir of an
	// existing directory).
	IgnoreEEXIST
	// IgnoreEINVAL makes a step that fails with EINVAL a no-op (a capability number
	// beyond what the running kernel knows).
	IgnoreEINVAL
	// IgnoreAll makes any failure of the step a no-op (best effort).
	IgnoreAll
	// IgnoreEACCES makes a step that fails with EACCES a no-op (hiding a directory
	// that the sandbox cannot enter anyway).
	IgnoreEACCES
)

// An Op is one step of the child's program. Pointers in Args (C strings, structs)
// point into memory that the Program keeps alive; the Go heap does not move.
type Op struct {
	Kind  Kind
	Flags uint8
	Trap  uintptr
	Args  [6]uintptr
	// Ptr is the Go object a composite step works on (KindLandlock, KindInit).
	Ptr unsafe.Pointer
}

// A Step describes an Op for errors: which stage it belongs to ("mount",
// "capabilities", ...) and what it does, in words.
type Step struct {
	Stage string
	What  string
}

// A Program is the child's op table together with the parent-side description of
// each op and the memory the ops point into.
type Program struct {
	Ops   []Op
	Steps []Step
	// Detached are the host mounts that the parent copies for each start, for
	// the ops that attach them (see Detach).
	Detached []Detached
	keep     []any
}

// A Detached is a host mount that the parent copies for each start as a detached
// mount (open_tree with OPEN_TREE_CLONE) before the clone, so that the child has
// the descriptor too, then changes with mount_setattr once the child's user
// namespace has its maps: an idmapped mount needs CAP_SYS_ADMIN over the
// filesystem, which the child, in its own user namespace, lacks. The child attaches
// it where a KindAttach or a KindBindIn from SourceDetached says.
type Detached struct {
	// Path is the host path to copy; Recursive copies the mounts beneath it too.
	Path      string
	Recursive bool
	// AttrSet and AttrClr are the mount attributes (MOUNT_ATTR_*) set and
	// cleared, on every mount of a recursive copy; IDMap adds MOUNT_ATTR_IDMAP
	// with the child's user namespace: files owned by ID n on the filesystem
	// appear as owned by ID n of the sandbox.
	AttrSet, AttrClr uint64
	IDMap            bool
	// What names the mount for errors ("lower layer /srv/image").
	What string
}

// Detach records d and returns its index in Start.Detached. A Program whose
// segment is replaced (Splice) must record its detached mounts there only.
func (p *Program) Detach(d Detached) int {
	p.Detached = append(p.Detached, d)
	return len(p.Detached) - 1
}

// Append adds an op and its description.
func (p *Program) Append(op Op, stage, what string) {
	p.Ops = append(p.Ops, op)
	p.Steps = append(p.Steps, Step{Stage: stage, What: what})
}

// Syscall appends a KindSyscall op.
func (p *Program) Syscall(stage, what string, flags uint8, trap uintptr, args ...uintptr) {
	op := Op{Kind: KindSyscall, Flags: flags, Trap: trap}
	copy(op.Args[:], args)
	p.Append(op, stage, what)
}

// Extend appends every op of q, keeping its memory alive.
func (p *Program) Extend(q *Program) {
	p.Ops = append(p.Ops, q.Ops...)
	p.Steps = append(p.Steps, q.Steps...)
	p.keep = append(p.keep, q.keep...)
}

// Keep ties v's lifetime to the Program, for memory that ops point into but that
// CString and Bytes did not allocate.
func (p *Program) Keep(v any) { p.keep = append(p.keep, v) }

// CString returns a NUL-terminated copy of s that lives as long as p, as an Op argument.
func (p *Program) CString(s string) uintptr {
	b := make([]byte, len(s)+1)
	copy(b, s)
	p.keep = append(p.keep, b)
	return uintptr(unsafe.Pointer(&b[0]))
}

// Bytes returns a copy of b that lives as long as p, as an Op argument, and its length.
func (p *Program) Bytes(b []byte) (uintptr, uintptr) {
	if len(b) == 0 {
		return 0, 0
	}
	c := append([]byte(nil), b...)
	p.keep = append(p.keep, c)
	return uintptr(unsafe.Pointer(&c[0])), uintptr(len(c))
}

// Ptr keeps v alive with p and returns its address as an Op argument.
func Ptr[T any](p *Program, v *T) uintptr {
	p.keep = append(p.keep, v)
	return uintptr(unsafe.Pointer(v))
}

// Describe returns the description of op i, or a generic one.
func (p *Program) Describe(i int) Step {
	if i >= 0 && i < len(p.Steps) {
		return p.Steps[i]
	}
	return Step{Stage: "setup", What: fmt.Sprintf("op %d", i)}
}

// LandlockRules is the compiled form of a Landlock ruleset: the ruleset attribute
// and one rule per path, applied in the child after pivot_root.
type LandlockRules struct {
	// Attr is a struct landlock_ruleset_attr, as bytes, ready for the syscall.
	Attr []byte
	// Paths are C strings (pointers kept alive by Keep) opened with O_PATH.
	Paths []uintptr
	// Access holds the allowed access mask for each path.
	Access []uint64
	// FileAccess masks the access of a rule whose path is not a directory: only
	// the rights that apply to files may be granted on a file.
	FileAccess uint64
	// Strict makes a kernel without Landlock an error instead of a no-op.
	Strict bool
}

// Splice returns a new Program whose ops [from, to) are replaced by those of q;
// p is left as it was, so that a child already running it is not disturbed. The
// new Program keeps alive the memory of both. Its detached mounts are q's: those
// of p must all belong to the ops replaced.
func (p *Program) Splice(from, to int, q *Program) *Program {
	n := &Program{Detached: q.Detached}
	n.Ops = append(append(append(n.Ops, p.Ops[:from]...), q.Ops...), p.Ops[to:]...)
	n.Steps = append(append(append(n.Steps, p.Steps[:from]...), q.Steps...), p.Steps[to:]...)
	n.keep = append(append(n.keep, p.keep...), q.keep...)
	return n
}
