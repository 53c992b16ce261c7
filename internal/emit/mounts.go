package emit

import (
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// remountable are the flags that a bind takes only through mount attributes.
const remountable = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// atFDCWD is AT_FDCWD (-100) as a syscall argument.
const atFDCWD = ^uintptr(99)

// Mounts appends the child's ops for the mount steps of packages mounts and
// overlay, in their order, each described by its Step.What in its Step.Stage. A
// step that attaches a copy of a host tree (mounts.ActAttach) records it with
// p.Detach, so the copies are numbered in the order of their steps.
func Mounts(p *child.Program, steps []mounts.Step) {
	for _, st := range steps {
		if st.InRoot {
			inRoot(p, st)
		} else {
			outOfRoot(p, st)
		}
	}
}

// inRoot appends the op of a step whose path the child resolves inside the root.
func inRoot(p *child.Program, st mounts.Step) {
	op := child.Op{Flags: ignore(st), Ptr: unsafe.Pointer(p.InRoot(st.Path, create(st.Create)))}
	switch st.Action {
	case mounts.ActMount:
		op.Kind = child.KindMountIn
		op.Args[0], op.Args[1], op.Args[2] = p.CString(st.Source), p.CString(st.FSType), st.Flags
		if st.Data != "" {
			op.Args[3] = p.CString(st.Data)
		}
	case mounts.ActBind, mounts.ActReadOnly, mounts.ActHide:
		op.Kind = child.KindBindIn
		bindArgs(p, &op, st)
	case mounts.ActAttach:
		op.Kind = child.KindBindIn
		op.Args[0], op.Args[5] = child.SourceDetached, uintptr(detach(p, st.Tree))
	case mounts.ActSetAttr:
		op.Kind = child.KindSetAttrIn
		op.Args[0], op.Args[1] = attrs(st.Flags)
	case mounts.ActPropagation:
		op.Kind = child.KindSetAttrIn
		op.Args[2] = st.Flags &^ unix.MS_REC
		if st.Flags&unix.MS_REC != 0 {
			op.Args[3] = unix.AT_RECURSIVE
		}
	case mounts.ActSymlink:
		op.Kind = child.KindSymlinkIn
		op.Args[0] = p.CString(st.Source)
	case mounts.ActMknod:
		op.Kind = child.KindMknodIn
		mode := st.Mode
		if mode&unix.S_IFMT == 0 {
			mode |= unix.S_IFCHR
		}
		op.Args[0], op.Args[1], op.Args[2] = uintptr(mode), uintptr(unix.Mkdev(st.Major, st.Minor)), uintptr(st.Mode&0o7777)
	case mounts.ActMaskSource:
		op.Kind = child.KindSourceIn
		op.Args[0] = uintptr(unix.Mkdev(st.Major, st.Minor))
	case mounts.ActMask:
		op.Kind = child.KindMaskIn
	case mounts.ActWriteProc:
		op.Kind = child.KindWriteProcIn
		op.Args[0], op.Args[1] = p.Bytes([]byte(st.Source))
	default:
		panic("emit: no in-root step " + string(st.Action))
	}
	p.Append(op, st.Stage, st.What)
}

// bindArgs sets the source and the attributes of a KindBindIn: the host path
// Source, the tree at the path itself (ActReadOnly) or the empty tmpfs (ActHide);
// the copy is recursive with MS_REC, and its flags are set on every mount of it.
func bindArgs(p *child.Program, op *child.Op, st mounts.Step) {
	switch st.Action {
	case mounts.ActBind:
		op.Args[0] = p.CString(st.Source)
	case mounts.ActReadOnly:
		op.Args[0] = child.SourceSelf
	case mounts.ActHide:
		op.Args[0] = child.SourceEmpty
		return
	}
	if st.Flags&unix.MS_REC != 0 {
		op.Args[1], op.Args[4] = unix.AT_RECURSIVE, unix.AT_RECURSIVE
	}
	op.Args[2], op.Args[3] = attrs(st.Flags & remountable)
}

// outOfRoot appends the op of a step on a path of the child's own mount namespace.
func outOfRoot(p *child.Program, st mounts.Step) {
	ign := ignore(st)
	switch st.Action {
	case mounts.ActOpenRoot:
		var op child.Op
		op.Kind = child.KindOpenRoot
		op.Args[0] = p.CString(st.Path)
		p.Append(op, st.Stage, st.What)
	case mounts.ActEmptyTmpfs:
		p.Append(child.Op{Kind: child.KindEmptyMount}, st.Stage, st.What)
	case mounts.ActCheckpoint:
		p.Append(child.Op{Kind: child.KindCheckpoint}, st.Stage, st.What)
	case mounts.ActAttach:
		idx := detach(p, st.Tree)
		p.Append(child.Op{Kind: child.KindAttach, Args: [6]uintptr{uintptr(idx), p.CString(st.Path)}}, st.Stage, st.What)
	case mounts.ActMount:
		var data uintptr
		if st.Data != "" {
			data = p.CString(st.Data)
		}
		p.Syscall(st.Stage, st.What, ign, unix.SYS_MOUNT, p.CString(st.Source), p.CString(st.Path), p.CString(st.FSType), st.Flags, data)
	case mounts.ActBind, mounts.ActMove:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_MOUNT, p.CString(st.Source), p.CString(st.Path), 0, st.Flags, 0)
	case mounts.ActPropagation:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_MOUNT, 0, p.CString(st.Path), 0, st.Flags, 0)
	default:
		pathCall(p, st, ign)
	}
}

// pathCall appends the system call of a step on a path of the child's own.
func pathCall(p *child.Program, st mounts.Step, ign uint8) {
	path := p.CString(st.Path)
	switch st.Action {
	case mounts.ActMkdir:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_MKDIRAT, atFDCWD, path, uintptr(st.Mode))
	case mounts.ActSymlink:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_SYMLINKAT, p.CString(st.Source), atFDCWD, path)
	case mounts.ActChdir:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_CHDIR, path)
	case mounts.ActPivotRoot:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_PIVOT_ROOT, path, path)
	case mounts.ActDetach:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_UMOUNT2, path, unix.MNT_DETACH)
	case mounts.ActChroot:
		p.Syscall(st.Stage, st.What, ign, unix.SYS_CHROOT, path)
	default:
		panic("emit: no step " + string(st.Action) + " out of the root")
	}
}

// detach records the copy of a host tree that the parent makes for each start and
// returns its index.
func detach(p *child.Program, t *mounts.Tree) int {
	set, clr := attrs(t.Flags & remountable)
	return p.Detach(child.Detached{Path: t.Source, Recursive: t.Flags&unix.MS_REC != 0,
		AttrSet: uint64(set), AttrClr: uint64(clr), IDMap: t.IDMap, What: t.What})
}

// create is the child's way of creating a missing in-root path.
func create(c mounts.Create) child.Create {
	switch c {
	case mounts.CreateDir:
		return child.CreateDir
	case mounts.CreateFile:
		return child.CreateFile
	case mounts.CreateParent:
		return child.CreateParent
	}
	return child.CreateNone
}

// ignore returns the op flags of the failures that st skips or accepts.
func ignore(st mounts.Step) uint8 {
	var f uint8
	for _, x := range []struct {
		on   bool
		flag uint8
	}{
		{st.SkipMissing, child.IgnoreENOENT}, {st.IgnoreExist, child.IgnoreEEXIST},
		{st.SkipDenied, child.IgnoreEACCES}, {st.SkipInvalid, child.IgnoreEINVAL},
	} {
		if x.on {
			f |= x.flag
		}
	}
	return f
}

// attrs turns mount(2) flags into the mount attributes mount_setattr sets and
// clears. An atime mode replaces the mount's one; the other flags only add.
func attrs(f uintptr) (set, clr uintptr) {
	for _, x := range []struct{ ms, attr uintptr }{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY}, {unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
	} {
		if f&x.ms != 0 {
			set |= x.attr
		}
	}
	for _, x := range []struct{ ms, attr uintptr }{
		{unix.MS_NOATIME, unix.MOUNT_ATTR_NOATIME}, {unix.MS_STRICTATIME, unix.MOUNT_ATTR_STRICTATIME},
		{unix.MS_RELATIME, unix.MOUNT_ATTR_RELATIME},
	} {
		if f&x.ms != 0 {
			set |= x.attr
			clr |= unix.MOUNT_ATTR__ATIME
		}
	}
	return set, clr
}
