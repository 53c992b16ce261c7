package child

import (
	"path"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Steps inside the root.
//
// A hostile root filesystem can put a symbolic link, "..", a file or a FIFO where the
// setup expects a directory, so that a mount point created or a mount made by path
// would land outside the root (runc's CVE-2019-16884, CVE-2021-30465 and the 2025
// /dev/null and masked-path races). The in-root steps never hand such a path to the
// kernel: each resolves its path with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
// from a descriptor of the root, which the kernel keeps inside it whatever the links
// say, creates what is missing one component at a time below descriptors it checked
// (RESOLVE_NO_SYMLINKS), checks the type of what it found, and then works on that
// descriptor: a new filesystem is mounted on "." after fchdir to it, a bind is a
// detached tree (open_tree) attached with move_mount, a flag change is
// mount_setattr on the descriptor.

// Create says what an in-root step creates of its path when it is missing.
type Create uint8

// The ways of creating an in-root path.
const (
	// CreateNone creates nothing: a missing path fails with ENOENT (which
	// IgnoreENOENT makes a no-op).
	CreateNone Create = iota
	// CreateDir creates the missing directories, the last one included; what is
	// there must be a directory (ENOTDIR).
	CreateDir
	// CreateFile creates the missing parent directories and an empty regular file;
	// what is there must not be a directory (EISDIR).
	CreateFile
	// CreateParent creates the missing parent directories; the step itself makes
	// the last component (a device node, a symbolic link) in the parent.
	CreateParent
)

// An InRoot is a path inside the root of an in-root step, prepared for the child:
// every prefix of its components as a C string ("a", "a/b", "a/b/c") for the
// lookups, and every component ("a", "b", "c") for what must be created.
type InRoot struct {
	Path     string // as given, for descriptions
	Create   Create
	prefixes []uintptr
	names    []uintptr
}

// InRoot prepares the absolute path p (cleaned; "/" is the root itself) for an
// in-root step; the memory lives as long as the Program.
func (pr *Program) InRoot(p string, c Create) *InRoot {
	r := &InRoot{Path: p, Create: c}
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel != "" {
		parts := strings.Split(rel, "/")
		for i := range parts {
			r.prefixes = append(r.prefixes, pr.CString(strings.Join(parts[:i+1], "/")))
			r.names = append(r.names, pr.CString(parts[i]))
		}
	}
	pr.Keep(r)
	return r
}

// InRootPath returns the in-root path of op i, or "" for a step that has none.
func (pr *Program) InRootPath(i int) string {
	if i < 0 || i >= len(pr.Ops) {
		return ""
	}
	switch pr.Ops[i].Kind {
	case KindMountIn, KindBindIn, KindSetAttrIn, KindMaskIn, KindSourceIn, KindMknodIn, KindSymlinkIn, KindChdirIn, KindTerminalIn, KindWriteProcIn:
		if r := (*InRoot)(pr.Ops[i].Ptr); r != nil {
			return r.Path
		}
	}
	return ""
}

// Sources of a KindBindIn step other than a host path in Args[0].
const (
	// SourceNull binds the /dev/null that the last KindSourceIn step kept.
	SourceNull = ^uintptr(0)
	// SourceSelf binds the step's own target onto itself (a read-only path).
	SourceSelf = ^uintptr(1)
	// SourceEmpty binds the empty read-only tmpfs that KindEmptyMount made.
	SourceEmpty = ^uintptr(2)
	// SourceDetached attaches the detached mount Start.Detached[Args[5]], which
	// the parent copied and changed (see Detached): the step neither copies it
	// again nor sets attributes on it.
	SourceDetached = ^uintptr(3)
	// SourceTerminal binds the peer of the terminal that KindTerminalIn opened
	// (the sandbox's /dev/console, as runc makes it); a start without one skips
	// the step.
	SourceTerminal = ^uintptr(4)
)

// scratch is the child's working memory for the in-root steps, kept in the Start
// rather than on the child's stack, which //go:nosplit bounds to a few hundred
// bytes: the descriptors the steps share (the root they resolve in, the /dev/null
// a KindSourceIn step kept, the empty tmpfs of KindEmptyMount, the terminal's peer
// that KindTerminalIn opened; -1 when unset) and the structs the system calls
// fill; and the deadline's timer (armDeadline).
type scratch struct {
	root, null, empty int32
	tty               int32
	hold              int32 // the FIFO that KindHold wrote to, kept until execve
	timer             int32
	st                unix.Stat_t
	fs                unix.Statfs_t
	how               unix.OpenHow
	attr              unix.MountAttr
	cmsg              [poolCmsgLen]byte // the descriptors of KindPool's message
}

// Report phases: where a failing step failed.
const (
	// PhaseStep is the step's own work.
	PhaseStep int32 = 0
	// PhaseResolve is the resolution of its path inside the root.
	PhaseResolve int32 = 1
)

//go:nosplit
//go:norace
func closeFD(fd int32) {
	if fd >= 0 {
		syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(fd), 0, 0, 0, 0, 0)
	}
}

//go:nosplit
//go:norace
func openat2(sc *scratch, dir uintptr, p uintptr, flags, resolve uint64) (uintptr, syscall.Errno) {
	how := &sc.how
	*how = unix.OpenHow{Flags: flags | unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve}
	for {
		fd, _, e := syscall.RawSyscall6(unix.SYS_OPENAT2, dir, p, uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
		if e != syscall.EAGAIN && e != syscall.EINTR {
			return fd, e
		}
	}
}

// resolveIn resolves r inside the root descriptor root and returns a descriptor
// (O_PATH) of what it names, creating what r.Create says; for CreateParent, of its
// parent directory.
//
//go:nosplit
//go:norace
func resolveIn(sc *scratch, r *InRoot) (uintptr, syscall.Errno) {
	root := sc.root
	if root < 0 {
		return 0, syscall.EBADF
	}
	prefixes, names := r.prefixes, r.names
	n := len(names)
	if len(prefixes) < n {
		return 0, syscall.EINVAL
	}
	last := n
	if r.Create == CreateParent && n > 0 {
		last = n - 1
	}
	wantDir := r.Create == CreateDir || r.Create == CreateParent
	// The longest prefix that exists, resolved inside the root. (Every index is
	// checked against its slice where it is used: a bounds check would call into
	// the runtime, which the child must not.)
	k := last
	var fd uintptr
	for ; k > 0; k-- {
		i := uint(k - 1)
		if i >= uint(len(prefixes)) {
			return 0, syscall.EINVAL
		}
		var flags uint64
		if k < n || wantDir {
			flags = unix.O_DIRECTORY
		}
		f, e := openat2(sc, uintptr(root), prefixes[i], flags, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS)
		if e == 0 {
			fd = f
			break
		}
		if e != syscall.ENOENT || r.Create == CreateNone {
			return 0, e
		}
	}
	if k == 0 {
		f, _, e := syscall.RawSyscall6(unix.SYS_FCNTL, uintptr(root), unix.F_DUPFD_CLOEXEC, 0, 0, 0, 0)
		if e != 0 {
			return 0, e
		}
		fd = f
	}
	// The rest, one component at a time, each below a descriptor already checked.
	for j := uint(k); j < uint(last) && j < uint(len(names)); j++ {
		name := names[j]
		file := j == uint(n-1) && r.Create == CreateFile
		var e syscall.Errno
		if file {
			_, _, e = syscall.RawSyscall6(unix.SYS_MKNODAT, fd, name, unix.S_IFREG|0o644, 0, 0, 0)
		} else {
			_, _, e = syscall.RawSyscall6(unix.SYS_MKDIRAT, fd, name, 0o755, 0, 0, 0)
		}
		if e != 0 && e != syscall.EEXIST {
			syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
			return 0, e
		}
		var flags uint64 = unix.O_NOFOLLOW
		if !file {
			flags |= unix.O_DIRECTORY
		}
		next, e := openat2(sc, fd, name, flags, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS)
		syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
		if e != 0 {
			return 0, e
		}
		fd = next
	}
	if e := checkType(sc, fd, r.Create); e != 0 {
		syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
		return 0, e
	}
	return fd, 0
}

// checkType checks that fd is a directory where one is wanted, and not one where a
// file is.
//
//go:nosplit
//go:norace
func checkType(sc *scratch, fd uintptr, c Create) syscall.Errno {
	if _, _, e := syscall.RawSyscall6(unix.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&sc.st)), 0, 0, 0, 0); e != 0 {
		return e
	}
	dir := sc.st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch c {
	case CreateDir, CreateParent:
		if !dir {
			return syscall.ENOTDIR
		}
	case CreateFile:
		if dir {
			return syscall.EISDIR
		}
	}
	return 0
}

// inRoot runs the in-root step op: it resolves op's path (Ptr, an *InRoot) and works
// on what it found. It returns the phase that failed with the errno.
//
//go:nosplit
//go:norace
func inRoot(op *Op, sc *scratch) (int32, syscall.Errno) {
	r := (*InRoot)(op.Ptr)
	if r == nil {
		return PhaseStep, syscall.EINVAL
	}
	if op.Kind == KindBindIn && op.Args[0] == SourceTerminal && sc.tty < 0 {
		return PhaseStep, 0 // no terminal of the sandbox's own: no console
	}
	fd, e := resolveIn(sc, r)
	if e != 0 {
		return PhaseResolve, e
	}
	e = inRootStep(op, fd, r, sc)
	syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
	return PhaseStep, e
}

//go:nosplit
//go:norace
func inRootStep(op *Op, fd uintptr, r *InRoot, sc *scratch) syscall.Errno {
	a := &op.Args
	switch op.Kind {
	case KindMountIn:
		return mountHere(fd, a[0], a[1], a[2], a[3])
	case KindBindIn:
		if a[0] == SourceDetached {
			return attachHere(startOf(sc), a[5], fd, 0)
		}
		return bindHere(sc, fd, a[0], a[1], a[2], a[3], a[4])
	case KindSetAttrIn:
		return setAttr(sc, fd, a[0], a[1], a[2], a[3])
	case KindMaskIn:
		return maskHere(sc, fd)
	case KindSourceIn:
		return keepSource(sc, fd, a[0])
	case KindMknodIn:
		return mknodIn(fd, r, a[0], a[1], a[2])
	case KindSymlinkIn:
		return symlinkIn(fd, r, a[0])
	case KindChdirIn:
		_, _, e := syscall.RawSyscall6(unix.SYS_FCHDIR, fd, 0, 0, 0, 0, 0)
		return e
	}
	return syscall.EINVAL
}

var dotName = [...]byte{'.', 0}

// mountHere mounts a new filesystem on the directory fd: mount(2) on "." after
// fchdir, which names fd's directory without a path lookup.
//
//go:nosplit
//go:norace
func mountHere(fd, src, fstype, flags, data uintptr) syscall.Errno {
	if _, _, e := syscall.RawSyscall6(unix.SYS_FCHDIR, fd, 0, 0, 0, 0, 0); e != 0 {
		return e
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_MOUNT, src, uintptr(unsafe.Pointer(&dotName[0])), fstype, flags, data, 0)
	return e
}

var emptyName = [1]byte{0}

// bindHere attaches a copy of the source tree onto fd: the host path src, the kept
// /dev/null (SourceNull), the empty tmpfs (SourceEmpty), fd itself (SourceSelf)
// or the terminal's peer (SourceTerminal);
// treeFlags are open_tree's
// (AT_RECURSIVE for a recursive bind); attrSet and attrClr are set on the copy, and
// on every mount in it with setFlags AT_RECURSIVE, before it is attached.
//
//go:nosplit
//go:norace
func bindHere(sc *scratch, fd, src, treeFlags, attrSet, attrClr, setFlags uintptr) syscall.Errno {
	empty := uintptr(unsafe.Pointer(&emptyName[0]))
	dir, p := uintptr(atFDCWD), src
	switch src {
	case SourceNull, SourceEmpty:
		kept := sc.null
		if src == SourceEmpty {
			kept = sc.empty
		}
		if kept < 0 {
			return syscall.EBADF
		}
		dir, p, treeFlags = uintptr(kept), empty, treeFlags|unix.AT_EMPTY_PATH
	case SourceSelf:
		dir, p, treeFlags = fd, empty, treeFlags|unix.AT_EMPTY_PATH
	case SourceTerminal:
		if sc.tty < 0 {
			return syscall.EBADF
		}
		dir, p, treeFlags = uintptr(sc.tty), empty, treeFlags|unix.AT_EMPTY_PATH
	}
	tree, _, e := syscall.RawSyscall6(unix.SYS_OPEN_TREE, dir, p, treeFlags|unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC, 0, 0, 0)
	if e != 0 {
		return e
	}
	if attrSet != 0 || attrClr != 0 {
		e = setAttr(sc, tree, attrSet, attrClr, 0, setFlags)
	}
	if e == 0 {
		_, _, e = syscall.RawSyscall6(unix.SYS_MOVE_MOUNT, tree, empty, fd, empty, unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH, 0)
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, tree, 0, 0, 0, 0, 0)
	return e
}

// startOf returns the Start whose working memory sc is. The child may not store
// the pointer instead: a pointer written to the heap passes through the garbage
// collector's write barrier, which a raw clone must never run.
//
//go:nosplit
//go:norace
func startOf(sc *scratch) *Start {
	return (*Start)(unsafe.Pointer(uintptr(unsafe.Pointer(sc)) - unsafe.Offsetof(Start{}.scratch)))
}

// attachAt attaches the detached mount Start.Detached[i] on the directory at the C
// string path (KindAttach).
//
//go:nosplit
//go:norace
func attachAt(s *Start, i, path uintptr) syscall.Errno {
	return attachHere(s, i, atFDCWD, path)
}

// attachHere attaches the detached mount Start.Detached[i] on path (a C string)
// relative to dir, or on dir itself where path is 0, and closes the child's
// descriptor of it: attached, the mount lives on without it.
//
//go:nosplit
//go:norace
func attachHere(s *Start, i, dir, path uintptr) syscall.Errno {
	if s == nil || i >= uintptr(s.NDetached) || i >= uintptr(len(s.Detached)) {
		return syscall.EBADF
	}
	tree := s.Detached[i]
	if tree < 0 {
		return syscall.EBADF
	}
	flags := uintptr(unix.MOVE_MOUNT_F_EMPTY_PATH)
	if path == 0 {
		path, flags = uintptr(unsafe.Pointer(&emptyName[0])), flags|unix.MOVE_MOUNT_T_EMPTY_PATH
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_MOVE_MOUNT, uintptr(tree), uintptr(unsafe.Pointer(&emptyName[0])), dir, path, flags, 0)
	syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(tree), 0, 0, 0, 0, 0)
	return e
}

// setAttr changes the mount attributes of the mount at fd (and below it, with
// flags AT_RECURSIVE) with mount_setattr.
//
//go:nosplit
//go:norace
func setAttr(sc *scratch, fd, set, clr, propagation, flags uintptr) syscall.Errno {
	attr := &sc.attr
	*attr = unix.MountAttr{Attr_set: uint64(set), Attr_clr: uint64(clr), Propagation: uint64(propagation)}
	_, _, e := syscall.RawSyscall6(unix.SYS_MOUNT_SETATTR, fd, uintptr(unsafe.Pointer(&emptyName[0])),
		flags|unix.AT_EMPTY_PATH, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr), 0)
	return e
}

// maskHere hides what fd is: a directory under an empty read-only tmpfs (a copy
// of the one KindEmptyMount made, or a new one), anything else under the kept
// /dev/null, which KindSourceIn checked.
//
//go:nosplit
//go:norace
func maskHere(sc *scratch, fd uintptr) syscall.Errno {
	if _, _, e := syscall.RawSyscall6(unix.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&sc.st)), 0, 0, 0, 0); e != 0 {
		return e
	}
	switch {
	case sc.st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return bindHere(sc, fd, SourceNull, 0, 0, 0, 0)
	case sc.empty >= 0:
		return bindHere(sc, fd, SourceEmpty, 0, 0, 0, 0)
	}
	name := uintptr(unsafe.Pointer(&tmpfsName[0]))
	return mountHere(fd, name, name, unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, 0)
}

var (
	modeKey   = [...]byte{'m', 'o', 'd', 'e', 0}
	modeValue = [...]byte{'7', '5', '5', 0}
)

// emptyMount makes a detached, empty, read-only tmpfs (fsopen, fsmount: no path,
// no mount point) and keeps it as the source that masks and hidden directories
// bind copies of: one superblock for all of them instead of one each, which a
// start would pay to create and its end to destroy.
//
//go:nosplit
//go:norace
func emptyMount(sc *scratch) syscall.Errno {
	name := uintptr(unsafe.Pointer(&tmpfsName[0]))
	fs, _, e := syscall.RawSyscall6(unix.SYS_FSOPEN, name, unix.FSOPEN_CLOEXEC, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_FSCONFIG, fs, unix.FSCONFIG_SET_STRING,
		uintptr(unsafe.Pointer(&modeKey[0])), uintptr(unsafe.Pointer(&modeValue[0])), 0, 0)
	if e == 0 {
		_, _, e = syscall.RawSyscall6(unix.SYS_FSCONFIG, fs, unix.FSCONFIG_CMD_CREATE, 0, 0, 0, 0)
	}
	var mnt uintptr
	if e == 0 {
		mnt, _, e = syscall.RawSyscall6(unix.SYS_FSMOUNT, fs, unix.FSMOUNT_CLOEXEC,
			unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC, 0, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, fs, 0, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	closeFD(sc.empty)
	sc.empty = int32(mnt)
	return 0
}

// keepSource keeps fd as the /dev/null of later binds. With rdev set, fd must be that
// character device (1:3 for /dev/null), or the step fails with EPERM: a file or a
// device planted at that path must never be bound in its place (CVE-2025-31133).
//
//go:nosplit
//go:norace
func keepSource(sc *scratch, fd, rdev uintptr) syscall.Errno {
	if rdev != 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_FSTAT, fd, uintptr(unsafe.Pointer(&sc.st)), 0, 0, 0, 0); e != 0 {
			return e
		}
		if sc.st.Mode&unix.S_IFMT != unix.S_IFCHR || uintptr(sc.st.Rdev) != rdev {
			return syscall.EPERM
		}
	}
	kept, _, e := syscall.RawSyscall6(unix.SYS_FCNTL, fd, unix.F_DUPFD_CLOEXEC, 0, 0, 0, 0)
	if e != 0 {
		return e
	}
	closeFD(sc.null)
	sc.null = int32(kept)
	return 0
}

// lastName returns r's last component as a C string, or 0 for the root.
//
//go:nosplit
//go:norace
func lastName(r *InRoot) uintptr {
	if n := len(r.names); n > 0 {
		return r.names[n-1]
	}
	return 0
}

// mknodIn makes the device node mode/dev, with the permission bits perm, as r's
// last component in its parent directory fd.
//
//go:nosplit
//go:norace
func mknodIn(fd uintptr, r *InRoot, mode, dev, perm uintptr) syscall.Errno {
	name := lastName(r)
	if name == 0 {
		return syscall.EINVAL
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_MKNODAT, fd, name, mode, dev, 0, 0); e != 0 {
		return e
	}
	// Past the umask; the node was made just now below a directory of the child's
	// own tmpfs, so the name cannot have become a link meanwhile.
	_, _, e := syscall.RawSyscall6(unix.SYS_FCHMODAT, fd, name, perm, 0, 0, 0)
	return e
}

// symlinkIn makes r's last component, in its parent directory fd, a symbolic link
// to the C string value.
//
//go:nosplit
//go:norace
func symlinkIn(fd uintptr, r *InRoot, value uintptr) syscall.Errno {
	name := lastName(r)
	if name == 0 {
		return syscall.EINVAL
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_SYMLINKAT, value, fd, name, 0, 0, 0)
	return e
}

// openRoot makes the directory at the C string p the root of later in-root steps.
//
//go:nosplit
//go:norace
func openRoot(sc *scratch, p uintptr) syscall.Errno {
	fd, e := openat2(sc, uintptr(atFDCWD), p, unix.O_DIRECTORY, 0)
	if e != 0 {
		return e
	}
	closeFD(sc.root)
	sc.root = int32(fd)
	return 0
}

// closeRoots closes the descriptors the in-root steps share.
//
//go:nosplit
//go:norace
func closeRoots(sc *scratch) {
	closeFD(sc.root)
	closeFD(sc.null)
	closeFD(sc.empty)
	sc.root, sc.null, sc.empty = -1, -1, -1
}

// writeProcIn is KindWriteProcIn: it writes the bytes of op to the procfs file
// op.Ptr (*InRoot) inside the root, opened without following any link. It
// returns the phase that failed with the errno.
//
//go:nosplit
//go:norace
func writeProcIn(op *Op, sc *scratch) (int32, syscall.Errno) {
	r := (*InRoot)(op.Ptr)
	if r == nil || sc.root < 0 {
		return PhaseStep, syscall.EBADF
	}
	prefixes := r.prefixes // a local copy, whose length the compiler can trust
	if len(prefixes) == 0 {
		return PhaseResolve, syscall.EISDIR
	}
	file := prefixes[len(prefixes)-1]
	how := &sc.how
	*how = unix.OpenHow{Flags: unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	var fd uintptr
	var e syscall.Errno
	for {
		fd, _, e = syscall.RawSyscall6(unix.SYS_OPENAT2, uintptr(sc.root), file, uintptr(unsafe.Pointer(how)), unsafe.Sizeof(*how), 0, 0)
		if e != syscall.EAGAIN && e != syscall.EINTR {
			break
		}
	}
	switch e {
	case 0:
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ELOOP, syscall.EXDEV:
		return PhaseResolve, e
	default:
		return PhaseStep, e // the open itself: EACCES, EROFS
	}
	if _, _, e = syscall.RawSyscall6(unix.SYS_FSTATFS, fd, uintptr(unsafe.Pointer(&sc.fs)), 0, 0, 0, 0); e == 0 && sc.fs.Type != unix.PROC_SUPER_MAGIC {
		e = syscall.EXDEV
	}
	if e == 0 {
		e = writeAll(fd, op.Args[0], op.Args[1])
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, fd, 0, 0, 0, 0, 0)
	return PhaseStep, e
}
