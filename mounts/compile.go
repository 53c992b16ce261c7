package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

const stage = "mount"

// atFDCWD is AT_FDCWD (-100) as a syscall argument.
const atFDCWD = ^uintptr(99)

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
//  2. Mounts, Binds (MS_BIND, MS_REC if recursive, then a remount for read-only and
//     a recursive mount_setattr for a recursive read-only bind), Tmpfs; missing
//     mount points are created;
//  3. pivot_root into the new root (chdir; pivot_root(".", "."); umount2(".",
//     MNT_DETACH); chdir("/")), or MS_MOVE and chroot with Chroot;
//  4. masks (a /dev/null bind, verified to be 1:3, or an empty read-only tmpfs) and
//     read-only paths, both skipped where missing and both left out when
//     env.Privileged;
//  5. the read-only remount of "/" and of env.RootMounts with ReadonlyRoot.
//
// Bind sources are read on the host now, to pick a directory or file mount point.
// Mount points are created inside the new root before pivot_root, by path: a
// symbolic link in the root filesystem along a target is followed.
func Compile(s Spec, env Env, p *child.Program) error {
	if err := s.Validate(); err != nil {
		return err
	}
	root := env.NewRoot
	if root != "" && !filepath.IsAbs(root) {
		return fmt.Errorf("%w: new root %q is not an absolute path", ErrInvalid, root)
	}
	at := func(target string) string {
		if root == "" {
			return target
		}
		return filepath.Join(root, target)
	}
	c := compiler{p: p, label: env.MountLabel}

	if s.Defaults {
		for _, m := range DefaultMounts(env) {
			c.mountpoint(at(m.Target), true)
			c.mount(m, at(m.Target))
			if m.Target == "/dev" {
				for _, d := range DefaultDevices {
					c.device(d, at(d.Path), env.InUserNS)
				}
				for _, l := range DefaultSymlinks {
					p.Syscall(stage, fmt.Sprintf("symlink %s -> %s", at(l.Path), l.Value), child.IgnoreEEXIST,
						unix.SYS_SYMLINKAT, p.CString(l.Value), atFDCWD, p.CString(at(l.Path)))
				}
			}
		}
	}
	for _, m := range s.Mounts {
		dir := true
		if m.Flags&unix.MS_BIND != 0 {
			fi, err := os.Stat(m.Source)
			if err != nil {
				return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err, Invalid: true}
			}
			dir = fi.IsDir()
		}
		c.parents(root, m.Target)
		c.mountpoint(at(m.Target), dir)
		c.mount(m, at(m.Target))
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
		c.parents(root, b.Target)
		c.mountpoint(at(b.Target), fi.IsDir())
		c.mount(m, at(b.Target))
		if b.Propagation != "" {
			t := at(b.Target)
			f := b.Propagation.Flags()
			p.Syscall(stage, fmt.Sprintf("make %s %s", t, b.Propagation), 0, unix.SYS_MOUNT, 0, p.CString(t), 0, f, 0)
		}
	}
	for _, t := range s.Tmpfs {
		flags, data, err := t.flagsData()
		if err != nil {
			return &PathError{List: "tmpfs", Path: t.Target, Err: err}
		}
		c.parents(root, t.Target)
		c.mountpoint(at(t.Target), true)
		c.mount(Mount{Source: "tmpfs", Target: t.Target, FSType: "tmpfs", Flags: flags, Data: data}, at(t.Target))
	}

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
	}
	if s.RootPropagation == Shared || s.RootPropagation == RShared {
		p.Syscall(stage, "make / rshared", 0, unix.SYS_MOUNT, 0, p.CString("/"), 0, unix.MS_REC|unix.MS_SHARED, 0)
	}

	if !env.Privileged {
		null := p.CString("/dev/null")
		for _, m := range expand(s.Masked) {
			op := child.Op{Kind: child.KindMask, Flags: child.IgnoreENOENT}
			op.Args[0], op.Args[1] = p.CString(m), null
			p.Append(op, stage, "mask "+m)
		}
		for _, r := range expand(s.ReadOnly) {
			op := child.Op{Kind: child.KindBindSelf, Flags: child.IgnoreENOENT}
			op.Args[0] = p.CString(r)
			p.Append(op, stage, "bind "+r+" onto itself")
			c.remount(r, unix.MS_RDONLY, child.IgnoreENOENT)
		}
	}
	if s.ReadonlyRoot {
		c.remount("/", unix.MS_RDONLY, 0)
		for _, m := range env.RootMounts {
			if m != "/" {
				c.remount(m, unix.MS_RDONLY, 0)
			}
		}
	}
	return nil
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
	p     *child.Program
	label string // SELinux context= for tmpfs, or ""
}

// parents creates the directories between root and target's parent.
func (c compiler) parents(root, target string) {
	parts := strings.Split(strings.Trim(filepath.Dir(target), "/"), "/")
	cur := root
	if cur == "" {
		cur = "/"
	}
	for _, part := range parts {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		c.mountpoint(cur, true)
	}
}

// mountpoint creates a directory or an empty file, if missing.
func (c compiler) mountpoint(path string, dir bool) {
	if dir {
		c.p.Syscall(stage, "mkdir "+path, child.IgnoreEEXIST, unix.SYS_MKDIRAT, atFDCWD, c.p.CString(path), 0o755)
		return
	}
	c.p.Syscall(stage, "create "+path, child.IgnoreEEXIST, unix.SYS_MKNODAT, atFDCWD, c.p.CString(path), unix.S_IFREG|0o644, 0)
}

// mount mounts m at target (m.Target below the new root): a bind is followed by a
// remount for its other flags, and a recursive read-only bind by mount_setattr.
func (c compiler) mount(m Mount, target string) {
	p := c.p
	if m.Flags&unix.MS_BIND == 0 {
		if c.label != "" && m.FSType == "tmpfs" {
			m.Data = joinData(m.Data, c.label)
		}
		var data uintptr
		if m.Data != "" {
			data = p.CString(m.Data)
		}
		p.Syscall(stage, "mount "+Mount{m.Source, target, m.FSType, m.Flags, m.Data}.String(), 0,
			unix.SYS_MOUNT, p.CString(m.Source), p.CString(target), p.CString(m.FSType), m.Flags, data)
		return
	}
	bind := m.Flags & (unix.MS_BIND | unix.MS_REC)
	p.Syscall(stage, fmt.Sprintf("bind %s on %s (%s)", m.Source, target, FlagString(bind)), 0,
		unix.SYS_MOUNT, p.CString(m.Source), p.CString(target), 0, bind, 0)
	if extra := m.Flags & remountable; extra != 0 {
		c.remount(target, extra, 0)
		if m.Flags&unix.MS_REC != 0 {
			c.setattrRecursive(target, extra)
		}
	}
}

// remount appends a KindRemount: the child adds MS_REMOUNT|MS_BIND and the locked
// flags it reads with statfs.
func (c compiler) remount(path string, flags uintptr, opFlags uint8) {
	op := child.Op{Kind: child.KindRemount, Flags: opFlags}
	op.Args[0], op.Args[1] = c.p.CString(path), flags
	c.p.Append(op, stage, fmt.Sprintf("remount %s (%s)", path, FlagString(flags)))
}

// setattrRecursive applies the ro, nosuid, nodev and noexec of flags to every mount
// under path with mount_setattr(AT_RECURSIVE) (Linux 5.12), since a remount changes
// the top mount only.
func (c compiler) setattrRecursive(path string, flags uintptr) {
	var set uint64
	for _, x := range []struct {
		f uintptr
		a uint64
	}{{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY}, {unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID}, {unix.MS_NODEV, unix.MOUNT_ATTR_NODEV}, {unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC}} {
		if flags&x.f != 0 {
			set |= x.a
		}
	}
	if set == 0 {
		return
	}
	attr := &unix.MountAttr{Attr_set: set}
	c.p.Syscall(stage, fmt.Sprintf("set %s on every mount under %s", FlagString(flags&(unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC)), path), 0,
		unix.SYS_MOUNT_SETATTR, atFDCWD, c.p.CString(path), unix.AT_RECURSIVE, child.Ptr(c.p, attr), unsafe.Sizeof(*attr))
}

// device creates a device node: mknod and chmod (past the umask) as root, or an
// empty file with the host's node bound onto it in a user namespace.
func (c compiler) device(d Device, path string, userns bool) {
	p := c.p
	if userns {
		c.mountpoint(path, false)
		p.Syscall(stage, fmt.Sprintf("bind %s on %s", d.Path, path), 0,
			unix.SYS_MOUNT, p.CString(d.Path), p.CString(path), 0, unix.MS_BIND, 0)
		return
	}
	cp := p.CString(path)
	p.Syscall(stage, fmt.Sprintf("mknod %s c %d %d", path, d.Major, d.Minor), child.IgnoreEEXIST,
		unix.SYS_MKNODAT, atFDCWD, cp, uintptr(unix.S_IFCHR|d.Mode), uintptr(unix.Mkdev(d.Major, d.Minor)))
	p.Syscall(stage, fmt.Sprintf("chmod %s %#o", path, d.Mode), 0, unix.SYS_FCHMODAT, atFDCWD, cp, uintptr(d.Mode))
}

// joinData appends opt to a mount's comma-separated data.
func joinData(data, opt string) string {
	if data == "" {
		return opt
	}
	return data + "," + opt
}
