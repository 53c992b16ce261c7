package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

const stage = "mount"

// remountable are the flags that a bind mount takes only through a remount.
const remountable = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// CompilePropagation appends the op that cuts "/" of the child's new mount namespace
// off from the host: MS_REC|MS_PRIVATE, or MS_REC|MS_SLAVE for a slave or shared
// RootPropagation (shared is applied to the new root after pivot_root, so that the
// sandbox never joins the host's peer groups). It must be the first mount op, before
// overlay's, or the sandbox's mounts propagate to the host.
func CompilePropagation(s Spec, p *child.Program) error {
	flags := uintptr(unix.MS_REC | unix.MS_PRIVATE)
	switch s.RootPropagation {
	case "", Private, RPrivate:
	case Slave, RSlave, Shared, RShared:
		flags = unix.MS_REC | unix.MS_SLAVE
	default:
		return fmt.Errorf("%w: unknown root propagation %q", ErrInvalid, s.RootPropagation)
	}
	p.Syscall(stage, fmt.Sprintf("make / %s", FlagStringPropagation(flags)), 0,
		unix.SYS_MOUNT, 0, p.CString("/"), 0, flags, 0)
	return nil
}

// FlagStringPropagation spells propagation flags (rprivate, slave, ...).
func FlagStringPropagation(f uintptr) string {
	r := ""
	if f&unix.MS_REC != 0 {
		r = "r"
	}
	switch {
	case f&unix.MS_PRIVATE != 0:
		return r + "private"
	case f&unix.MS_SLAVE != 0:
		return r + "slave"
	case f&unix.MS_SHARED != 0:
		return r + "shared"
	case f&unix.MS_UNBINDABLE != 0:
		return r + "unbindable"
	}
	return fmt.Sprintf("%#x", f)
}

// Compile appends the child's mount ops, for a child that is in its new mount
// namespace, ran CompilePropagation and has its root assembled at env.NewRoot:
//
//  1. the default mounts, devices and /dev symlinks under the new root (Defaults);
//  2. Mounts, Binds (a copy of the source tree attached with move_mount, its
//     flags set on the copy first, recursively for a recursive bind), Tmpfs and
//     the tmpfs of the Hidden directories, in the order of their targets' depth;
//     missing mount points are created;
//  3. pivot_root into the new root (chdir; pivot_root(".", "."); umount2(".",
//     MNT_DETACH); chdir("/")), or MS_MOVE and chroot with Chroot;
//  4. masks (a bind of /dev/null, checked to be the device 1:3, or an empty
//     read-only tmpfs) and read-only paths, both skipped where missing and both
//     left out when env.Privileged; the Hidden files masked and the Hidden
//     directories made read-only, in every sandbox;
//  5. the read-only flag on "/" and on env.RootMounts with ReadonlyRoot.
//
// The root stays open in the child for later in-root steps (the working
// directory); the caller ends them with a child.KindCloseRoots step before the
// child rearranges its descriptors.
//
// Every path inside the root is resolved by the child inside the root, from a
// descriptor of it (child.InRoot): a symbolic link, "..", a file where a directory
// belongs or a FIFO in a hostile root filesystem can neither move a mount point
// out of the root nor make the child create anything outside it; such a step
// fails instead, naming the path. Bind sources are host paths, read on the host
// now to pick a directory or a file mount point.
func Compile(s Spec, env Env, p *child.Program) error {
	if err := s.Validate(); err != nil {
		return err
	}
	root := env.NewRoot
	if root != "" && !filepath.IsAbs(root) {
		return fmt.Errorf("%w: new root %q is not an absolute path", ErrInvalid, root)
	}
	c := compiler{p: p, label: env.MountLabel, targets: s.targets()}
	c.openRoot(root)
	if s.Defaults {
		c.defaults(env)
	}
	hidden := s.keepTargets(s.Hidden)
	c.emptyMount(s, env, hidden)
	if err := c.userMounts(s, env, hidden); err != nil {
		return err
	}
	c.pivot(s, root)
	c.masks(s, env.Privileged, hidden)
	if s.ReadonlyRoot {
		// A mount of the Spec's own at one of them covers it: that one keeps its
		// own flags, as it does on a root of one piece.
		own := s.targets()
		c.setAttr("/", unix.MS_RDONLY, 0)
		for _, m := range env.RootMounts {
			if m != "/" && !own[filepath.Clean(m)] {
				c.setAttr(m, unix.MS_RDONLY, 0)
			}
		}
	}
	return nil
}

// defaults mounts the kernel filesystems and fills /dev.
func (c compiler) defaults(env Env) {
	for _, m := range DefaultMounts(env) {
		c.mount(m, child.CreateDir)
		if m.Target != "/dev" {
			continue
		}
		for _, d := range DefaultDevices {
			c.device(d, env.InUserNS)
		}
		for _, l := range DefaultSymlinks {
			op := child.Op{Kind: child.KindSymlinkIn, Flags: child.IgnoreEEXIST, Ptr: unsafe.Pointer(c.p.InRoot(l.Path, child.CreateParent))}
			op.Args[0] = c.p.CString(l.Value)
			c.p.Append(op, stage, fmt.Sprintf("symlink %s -> %s", l.Path, l.Value))
		}
	}
}

// userMounts makes the Spec's own mounts, binds and tmpfs, and the tmpfs of the
// hidden directories, in the order of their targets' depth, so that a mount is
// never made below another one that would then cover it.
func (c compiler) userMounts(s Spec, env Env, hidden []HiddenPath) error {
	type entry struct {
		target string
		emit   func()
	}
	var es []entry
	for _, h := range hidden {
		if h.Dir {
			es = append(es, entry{h.Path, func() { c.hideDir(h.Path) }})
		}
	}
	for _, m := range s.Mounts {
		create := child.CreateDir
		if m.Flags&unix.MS_BIND != 0 {
			fi, err := os.Stat(m.Source)
			if err != nil {
				return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err, Invalid: true}
			}
			if !fi.IsDir() {
				create = child.CreateFile
			}
		}
		es = append(es, entry{m.Target, func() { c.mount(m, create) }})
	}
	for _, b := range s.Binds {
		fi, err := os.Stat(b.Source)
		if err != nil {
			return &MountError{Source: b.Source, Target: b.Target, FSType: "bind", Flags: b.flags(), Err: err, Invalid: true}
		}
		m := Mount{Source: b.Source, Target: b.Target, Flags: b.flags()}
		if b.ReadOnly {
			m.Flags |= unix.MS_RDONLY
		}
		create := child.CreateDir
		if !fi.IsDir() {
			create = child.CreateFile
		}
		if b.IDMap {
			if err := c.checkIDMap(b, env); err != nil {
				return err
			}
		}
		es = append(es, entry{b.Target, func() {
			if b.IDMap || env.DetachBinds {
				c.detached(m, create, b.IDMap)
			} else {
				c.mount(m, create)
			}
			if f := b.Propagation.Flags(); f != 0 {
				c.propagation(b.Target, f)
			}
		}})
	}
	for _, t := range s.Tmpfs {
		flags, data, err := t.flagsData()
		if err != nil {
			return &PathError{List: "tmpfs", Path: t.Target, Err: err}
		}
		m := Mount{Source: "tmpfs", Target: t.Target, FSType: "tmpfs", Flags: flags, Data: data}
		es = append(es, entry{t.Target, func() { c.mount(m, child.CreateDir) }})
	}
	sort.SliceStable(es, func(i, j int) bool { return depth(es[i].target) < depth(es[j].target) })
	for _, e := range es {
		e.emit()
	}
	return nil
}

// depth is the number of components of an absolute path.
func depth(p string) int { return strings.Count(strings.Trim(filepath.Clean(p), "/"), "/") + 1 }

// hideDir covers the hidden directory p with an empty tmpfs: a copy of the empty
// read-only one, or, where the sandbox's own mounts lie below p or the tmpfs needs
// a label, a tmpfs of its own, writable until their mount points are made (masks
// makes it read-only). A directory that the child may not enter (the host's /root
// for a rootless sandbox: owned by a user its namespace does not map) is hidden
// already.
func (c compiler) hideDir(p string) {
	if c.empty && !c.below(p) {
		op := child.Op{Kind: child.KindBindIn, Flags: child.IgnoreENOENT, Ptr: unsafe.Pointer(c.p.InRoot(p, child.CreateNone))}
		op.Args[0] = child.SourceEmpty
		c.p.Append(op, stage, "hide "+p+" under the empty tmpfs")
		return
	}
	m := Mount{Source: "tmpfs", Target: p, FSType: "tmpfs", Flags: nosuidNoexecNodev, Data: "mode=755,size=1m"}
	if c.label != "" {
		m.Data = joinData(m.Data, c.label)
	}
	op := child.Op{Kind: child.KindMountIn, Flags: child.IgnoreENOENT | child.IgnoreEACCES, Ptr: unsafe.Pointer(c.p.InRoot(p, child.CreateNone))}
	op.Args[0], op.Args[1], op.Args[2], op.Args[3] = c.p.CString(m.Source), c.p.CString(m.FSType), m.Flags, c.p.CString(m.Data)
	c.p.Append(op, stage, "hide "+p+" under an empty tmpfs")
}

// pivot makes the new root the sandbox's "/" and opens it for the steps after.
func (c compiler) pivot(s Spec, root string) {
	p := c.p
	if root != "" {
		r := p.CString(root)
		dot := p.CString(".")
		p.Syscall(stage, "chdir "+root, 0, unix.SYS_CHDIR, r)
		if s.Chroot {
			p.Syscall(stage, "move "+root+" to /", 0, unix.SYS_MOUNT, dot, p.CString("/"), 0, unix.MS_MOVE, 0)
			p.Syscall(stage, "chroot "+root, 0, unix.SYS_CHROOT, dot)
		} else {
			p.Syscall(stage, "pivot_root "+root, 0, unix.SYS_PIVOT_ROOT, dot, dot)
			p.Syscall(stage, "detach the old root", 0, unix.SYS_UMOUNT2, dot, unix.MNT_DETACH)
		}
		p.Syscall(stage, "chdir /", 0, unix.SYS_CHDIR, p.CString("/"))
		c.openRoot("/")
	}
	if s.RootPropagation == Shared || s.RootPropagation == RShared {
		p.Syscall(stage, "make / rshared", 0, unix.SYS_MOUNT, 0, p.CString("/"), 0, unix.MS_REC|unix.MS_SHARED, 0)
	}
}

// masks hides the masked paths and makes the read-only paths read-only (left out
// in a privileged sandbox), and finishes hiding the hidden paths, as the sandbox
// sees them after the pivot. A mask of anything but a directory binds /dev/null,
// which the child checks to be the device 1:3 first (CVE-2025-31133).
func (c compiler) masks(s Spec, privileged bool, hidden []HiddenPath) {
	p := c.p
	var masked, readOnly []string
	if !privileged {
		masked, readOnly = expand(s.Masked), expand(s.ReadOnly)
	}
	for _, h := range hidden {
		if !h.Dir {
			masked = append(masked, h.Path)
		}
	}
	if len(masked) > 0 {
		op := child.Op{Kind: child.KindSourceIn, Flags: child.IgnoreENOENT, Ptr: unsafe.Pointer(p.InRoot("/dev/null", child.CreateNone))}
		op.Args[0] = uintptr(unix.Mkdev(1, 3))
		p.Append(op, stage, "open /dev/null, the source of masks, checked to be the device 1:3")
	}
	for _, m := range masked {
		op := child.Op{Kind: child.KindMaskIn, Flags: child.IgnoreENOENT, Ptr: unsafe.Pointer(p.InRoot(m, child.CreateNone))}
		p.Append(op, stage, "mask "+m)
	}
	for _, r := range readOnly {
		op := child.Op{Kind: child.KindBindIn, Flags: child.IgnoreENOENT, Ptr: unsafe.Pointer(p.InRoot(r, child.CreateNone))}
		set, clr := attrs(unix.MS_RDONLY)
		op.Args = [6]uintptr{child.SourceSelf, unix.AT_RECURSIVE, set, clr, unix.AT_RECURSIVE}
		p.Append(op, stage, "make "+r+" read-only")
	}
	for _, h := range hidden {
		// EINVAL: no tmpfs of its own, since the child could not enter it (hideDir).
		if h.Dir && (!c.empty || c.below(h.Path)) {
			c.setAttr(h.Path, unix.MS_RDONLY, child.IgnoreENOENT|child.IgnoreEINVAL)
		}
	}
}

// expand replaces the paths with a "*" by their matches on the host.
func expand(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !strings.ContainsAny(p, "*?[") {
			out = append(out, p)
			continue
		}
		m, _ := filepath.Glob(p) // the only error is a bad pattern: no match
		out = append(out, m...)
	}
	return out
}

type compiler struct {
	p       *child.Program
	label   string          // SELinux context= for tmpfs, or ""
	targets map[string]bool // the targets of the Spec's own mounts
	// empty says that the child made the empty read-only tmpfs that masked and
	// hidden directories get copies of (child.KindEmptyMount).
	empty bool
}

// emptyMount has the child make one empty read-only tmpfs, detached, where
// directories will be masked or hidden: each gets a copy of it, so that a start
// makes and ends one superblock for all of them. With an SELinux label each gets a
// labelled tmpfs of its own instead.
func (c *compiler) emptyMount(s Spec, env Env, hidden []HiddenPath) {
	need := !env.Privileged && len(s.Masked) > 0
	for _, h := range hidden {
		need = need || h.Dir
	}
	if !need || c.label != "" {
		return
	}
	c.p.Append(child.Op{Kind: child.KindEmptyMount}, stage, "make the empty read-only tmpfs that masked and hidden directories get")
	c.empty = true
}

// below reports whether one of the Spec's own mounts lies below directory p.
func (c compiler) below(p string) bool {
	for t := range c.targets {
		if strings.HasPrefix(t, p+"/") {
			return true
		}
	}
	return false
}

// openRoot makes root ("" for the host's "/") the root that later steps resolve
// their paths in.
func (c compiler) openRoot(root string) {
	if root == "" {
		root = "/"
	}
	var op child.Op
	op.Kind = child.KindOpenRoot
	op.Args[0] = c.p.CString(root)
	c.p.Append(op, stage, "open the root "+root)
}

// mount mounts m at m.Target inside the root, creating the mount point as create
// says: a new filesystem, or a bind whose flags are set on the copy of the source
// before it is attached (on every mount of it for a recursive bind).
func (c compiler) mount(m Mount, create child.Create) {
	p := c.p
	target := unsafe.Pointer(p.InRoot(m.Target, create))
	if m.Flags&unix.MS_BIND == 0 {
		if c.label != "" && m.FSType == "tmpfs" {
			m.Data = joinData(m.Data, c.label)
		}
		op := child.Op{Kind: child.KindMountIn, Ptr: target}
		op.Args[0], op.Args[1], op.Args[2] = p.CString(m.Source), p.CString(m.FSType), m.Flags
		if m.Data != "" {
			op.Args[3] = p.CString(m.Data)
		}
		p.Append(op, stage, "mount "+m.String())
		return
	}
	op := child.Op{Kind: child.KindBindIn, Ptr: target}
	op.Args[0] = p.CString(m.Source)
	rec := m.Flags&unix.MS_REC != 0
	if rec {
		op.Args[1], op.Args[4] = unix.AT_RECURSIVE, unix.AT_RECURSIVE
	}
	op.Args[2], op.Args[3] = attrs(m.Flags & remountable)
	p.Append(op, stage, fmt.Sprintf("bind %s on %s (%s)", m.Source, m.Target, FlagString(m.Flags)))
}

// detached attaches at m.Target a copy of the bind source m.Source, idmapped
// where idmap is set (Bind.IDMap), which the parent makes for each start with m's
// flags set (see child.Detached and Env.DetachBinds).
func (c compiler) detached(m Mount, create child.Create, idmap bool) {
	p := c.p
	set, clr := attrs(m.Flags & remountable)
	rec := m.Flags&unix.MS_REC != 0
	what := fmt.Sprintf("bind %s on %s (%s)", m.Source, m.Target, FlagString(m.Flags))
	if idmap {
		what = fmt.Sprintf("bind %s on %s (%s, idmapped)", m.Source, m.Target, FlagString(m.Flags))
	}
	idx := p.Detach(child.Detached{Path: m.Source, Recursive: rec, AttrSet: uint64(set), AttrClr: uint64(clr), IDMap: idmap, What: what})
	op := child.Op{Kind: child.KindBindIn, Ptr: unsafe.Pointer(p.InRoot(m.Target, create))}
	op.Args[0], op.Args[5] = child.SourceDetached, uintptr(idx)
	p.Append(op, stage, what)
}

// checkIDMap checks that the bind b can be idmapped in env: a new user namespace,
// whose maps the idmapping takes, and a source whose filesystem supports it
// (IDMapSupported; recursively, every filesystem beneath it).
func (c compiler) checkIDMap(b Bind, env Env) error {
	if !env.InUserNS {
		return &MountError{Source: b.Source, Target: b.Target, FSType: "bind", Flags: b.flags(), Invalid: true,
			Err: fmt.Errorf("%w: an idmapped bind needs a new user namespace, whose maps it takes", ErrInvalid)}
	}
	return IDMapSupported(b.Source, b.Recursive)
}

// propagation sets the propagation type f (mount(2) flags) of the mount at target.
func (c compiler) propagation(target string, f uintptr) {
	op := child.Op{Kind: child.KindSetAttrIn, Ptr: unsafe.Pointer(c.p.InRoot(target, child.CreateNone))}
	op.Args[2] = f &^ unix.MS_REC
	if f&unix.MS_REC != 0 {
		op.Args[3] = unix.AT_RECURSIVE
	}
	c.p.Append(op, stage, fmt.Sprintf("make %s %s", target, FlagStringPropagation(f)))
}

// setAttr sets the flags f (mount(2) flags) on the mount at path, inside the root.
func (c compiler) setAttr(path string, f uintptr, opFlags uint8) {
	op := child.Op{Kind: child.KindSetAttrIn, Flags: opFlags, Ptr: unsafe.Pointer(c.p.InRoot(path, child.CreateNone))}
	op.Args[0], op.Args[1] = attrs(f)
	c.p.Append(op, stage, fmt.Sprintf("set %s on %s", FlagString(f), path))
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

// device creates a device node in /dev: mknod and chmod (past the umask) as root,
// or an empty file with the host's node bound onto it in a user namespace.
func (c compiler) device(d Device, userns bool) {
	if userns {
		c.mount(Mount{Source: d.Path, Target: d.Path, Flags: unix.MS_BIND}, child.CreateFile)
		return
	}
	op := child.Op{Kind: child.KindMknodIn, Ptr: unsafe.Pointer(c.p.InRoot(d.Path, child.CreateParent))}
	op.Args[0], op.Args[1], op.Args[2] = uintptr(unix.S_IFCHR|d.Mode), uintptr(unix.Mkdev(d.Major, d.Minor)), uintptr(d.Mode)
	c.p.Append(op, stage, fmt.Sprintf("mknod %s c %d %d (mode %#o)", d.Path, d.Major, d.Minor, d.Mode))
}

// joinData appends opt to a mount's comma-separated data.
func joinData(data, opt string) string {
	if data == "" {
		return opt
	}
	return data + "," + opt
}
