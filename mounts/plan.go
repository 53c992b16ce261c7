package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

const stage = "mount"

// PlanPropagation returns the step that cuts "/" of the child's new mount
// namespace off from the host: MS_REC|MS_PRIVATE, or MS_REC|MS_SLAVE for a slave
// or shared RootPropagation (shared is applied to the new root after pivot_root,
// so that the sandbox never joins the host's peer groups). It must be the first
// mount step, before overlay's, or the sandbox's mounts propagate to the host.
func PlanPropagation(s Spec) (Step, error) {
	flags := uintptr(unix.MS_REC | unix.MS_PRIVATE)
	switch s.RootPropagation {
	case "", Private, RPrivate:
	case Slave, RSlave, Shared, RShared:
		flags = unix.MS_REC | unix.MS_SLAVE
	default:
		return Step{}, fmt.Errorf("%w: unknown root propagation %q", ErrInvalid, s.RootPropagation)
	}
	return propagation("/", flags, false), nil
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

// Plan returns the child's mount steps, for a child that is in its new mount
// namespace, ran the PlanPropagation step and has its root assembled at
// env.NewRoot:
//
//  1. the default mounts, devices and /dev symlinks under the new root (Defaults);
//  2. Mounts, Binds (a copy of the source tree attached with move_mount, its
//     flags set on the copy first, recursively for a recursive bind), Tmpfs and
//     the tmpfs of the Hidden directories, in that order, except that a mount
//     moves before any earlier one below its target (parentsFirst); then the
//     Nodes; then the Symlinks; missing mount points are created; then, with
//     env.BeforePivot or a tmpfs to fill (Tmpfs.CopyUp), a checkpoint for
//     the parent's work;
//  3. pivot_root into the new root (chdir; pivot_root(".", "."); umount2(".",
//     MNT_DETACH); chdir("/")), or MS_MOVE and chroot with Chroot, or chroot
//     alone with env.ChrootInPlace;
//  4. env.AfterPivot, the caller's steps in the new root (its sysctls);
//  5. masks (a bind of /dev/null, checked to be the device 1:3, or an empty
//     read-only tmpfs) and read-only paths, both skipped where missing and both
//     left out when env.Privileged; the Hidden files masked and the Hidden
//     directories made read-only, in every sandbox;
//  6. the read-only flag on "/" and on env.RootMounts with ReadonlyRoot.
//
// The root stays open in the child for later in-root steps (the working
// directory), which the caller ends before the child rearranges its descriptors.
//
// Every path inside the root is resolved by the child inside the root, from a
// descriptor of it (Step.InRoot): a symbolic link, "..", a file where a directory
// belongs or a FIFO in a hostile root filesystem can neither move a mount point
// out of the root nor make the child create anything outside it; such a step
// fails instead, naming the path. Bind sources are host paths, read on the host
// now to pick a directory or a file mount point.
func Plan(s Spec, env Env) ([]Step, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	root := env.NewRoot
	if root != "" && !filepath.IsAbs(root) {
		return nil, fmt.Errorf("%w: new root %q is not an absolute path", ErrInvalid, root)
	}
	c := &planner{label: env.MountLabel, targets: s.targets()}
	c.openRoot(root)
	if s.Defaults {
		c.defaults(env)
	}
	hidden := s.keepTargets(s.Hidden)
	c.emptyMount(s, env, hidden)
	if err := c.userMounts(s, env, hidden); err != nil {
		return nil, err
	}
	if err := c.nodes(s, env); err != nil {
		return nil, err
	}
	c.symlinks(s.Symlinks)
	if (env.BeforePivot || s.CopiesUp()) && root != "" {
		c.add(Step{Action: ActCheckpoint, Path: root, What: checkpointWhat(s, env)})
	}
	c.pivot(s, env, root)
	c.steps = append(c.steps, env.AfterPivot...)
	c.masks(s, env.Privileged, hidden)
	if s.ReadonlyRoot {
		// A mount of the Spec's own at one of them covers it: that one keeps its
		// own flags, as it does on a root of one piece.
		own := s.targets()
		c.setAttr("/", unix.MS_RDONLY, false)
		for _, m := range env.RootMounts {
			if m != "/" && !own[filepath.Clean(m)] {
				c.setAttr(m, unix.MS_RDONLY, false)
			}
		}
	}
	return c.steps, nil
}

// planner collects the steps of Plan.
type planner struct {
	steps   []Step
	label   string          // SELinux context= for tmpfs, or ""
	targets map[string]bool // the targets of the Spec's own mounts
	// empty says that the child makes the empty read-only tmpfs that masked and
	// hidden directories get copies of (ActEmptyTmpfs).
	empty bool
}

// add appends st, in the mount stage.
func (c *planner) add(st Step) {
	st.Stage = stage
	c.steps = append(c.steps, st)
}

// inRoot returns a step of action a on the path p inside the root.
func inRoot(a Action, p string, create Create, what string) Step {
	return Step{Action: a, Path: p, InRoot: true, Create: create, What: what}
}

// defaults mounts the kernel filesystems and fills /dev.
func (c *planner) defaults(env Env) {
	for _, m := range DefaultMounts(env) {
		c.mount(m, CreateDir)
		if m.Target != "/dev" {
			continue
		}
		for _, d := range DefaultDevices {
			c.device(d, env.InUserNS)
		}
		c.symlinks(DefaultSymlinks)
	}
}

// symlinks makes the links ls, each where nothing is yet.
func (c *planner) symlinks(ls []Symlink) {
	for _, l := range ls {
		st := inRoot(ActSymlink, l.Path, CreateParent, fmt.Sprintf("symlink %s -> %s", l.Path, l.Value))
		st.Source, st.IgnoreExist = l.Value, true
		c.add(st)
	}
}

// userMounts makes the Spec's own mounts, binds and tmpfs, and the tmpfs of the
// hidden directories, in their listed order except that a mount is never made
// below another one that would then cover it (parentsFirst).
func (c *planner) userMounts(s Spec, env Env, hidden []HiddenPath) error {
	type entry struct {
		target string
		plan   func()
	}
	var es []entry
	for _, h := range hidden {
		if h.Dir {
			es = append(es, entry{h.Path, func() { c.hideDir(h.Path) }})
		}
	}
	for _, m := range s.Mounts {
		create := CreateDir
		if m.Flags&unix.MS_BIND != 0 {
			fi, err := os.Stat(m.Source)
			if err != nil {
				return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err, Invalid: true}
			}
			if !fi.IsDir() {
				create = CreateFile
			}
		}
		es = append(es, entry{m.Target, func() {
			if m.Flags&unix.MS_BIND != 0 && env.DetachBinds {
				c.detached(m, create, false)
			} else {
				c.mount(m, create)
			}
			if m.Flags&unix.MS_BIND != 0 {
				c.bindPropagation(m.Target, m.Propagation, env)
			} else if f := m.Propagation.Flags(); f != 0 {
				c.add(propagation(m.Target, f, true))
			}
		}})
	}
	for _, b := range s.Binds {
		e, err := c.bind(b, env)
		if err != nil {
			return err
		}
		es = append(es, entry{b.Target, e})
	}
	for _, t := range s.Tmpfs {
		flags, data, err := t.flagsData()
		if err != nil {
			return tmpfsError(t, err)
		}
		m := Mount{Source: "tmpfs", Target: t.Target, FSType: "tmpfs", Flags: flags, Data: data}
		es = append(es, entry{t.Target, func() { c.mount(m, CreateDir) }})
	}
	order := parentsFirst(len(es), func(i int) string { return es[i].target })
	for _, i := range order {
		es[i].plan()
	}
	return nil
}

// parentsFirst orders n targets as listed, except that a target moves before
// the first earlier one that lies below it, so that no mount is made below
// another that would then cover it. Unrelated targets keep their listed order
// (an OCI runtime mounts in the configuration's order, and the runtime-tools
// suite checks it in the mount table), and mounts on the same target stack in
// the listed order. It returns the indexes in mount order.
func parentsFirst(n int, target func(int) string) []int {
	order := make([]int, 0, n)
	for i := 0; i < n; i++ {
		t := filepath.Clean(target(i))
		at := len(order)
		for k, j := range order {
			if inside(filepath.Clean(target(j)), t) {
				at = k
				break
			}
		}
		order = slices.Insert(order, at, i)
	}
	return order
}

// inside reports whether path p lies strictly below dir.
func inside(p, dir string) bool {
	return p != dir && strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// bind checks the bind b in env and returns what plans it.
func (c *planner) bind(b Bind, env Env) (func(), error) {
	fi, err := os.Stat(b.Source)
	if err != nil {
		return nil, &MountError{Source: b.Source, Target: b.Target, FSType: "bind", Flags: b.flags(), Err: err, Invalid: true}
	}
	m := Mount{Source: b.Source, Target: b.Target, Flags: b.flags()}
	if b.ReadOnly {
		m.Flags |= unix.MS_RDONLY
	}
	create := CreateDir
	if !fi.IsDir() {
		create = CreateFile
	}
	if b.IDMap {
		if err := checkIDMap(b, env); err != nil {
			return nil, err
		}
	}
	return func() {
		if b.IDMap || env.DetachBinds {
			c.detached(m, create, b.IDMap)
		} else {
			c.mount(m, create)
		}
		c.bindPropagation(b.Target, b.Propagation, env)
	}, nil
}

// bindPropagation sets the propagation p of the bind at target, if any. In the
// caller's mount namespace (env.ChrootInPlace) a bind without one is made
// private with its mounts: a copy of a shared host mount stays its peer, and
// the mounts made below it would reach the host and stay there.
func (c *planner) bindPropagation(target string, p Propagation, env Env) {
	f := p.Flags()
	if f == 0 && env.ChrootInPlace {
		f = unix.MS_REC | unix.MS_PRIVATE
	}
	if f != 0 {
		c.add(propagation(target, f, true))
	}
}

// hideDir covers the hidden directory p with an empty tmpfs: a copy of the empty
// read-only one, or, where the sandbox's own mounts lie below p or the tmpfs needs
// a label, a tmpfs of its own, writable until their mount points are made (masks
// makes it read-only). A directory that the child may not enter (the host's /root
// for a rootless sandbox: owned by a user its namespace does not map) is hidden
// already.
func (c *planner) hideDir(p string) {
	if c.empty && !c.below(p) {
		st := inRoot(ActHide, p, CreateNone, "hide "+p+" under the empty tmpfs")
		st.SkipMissing = true
		c.add(st)
		return
	}
	data := "mode=755,size=1m"
	if c.label != "" {
		data = joinData(data, c.label)
	}
	st := inRoot(ActMount, p, CreateNone, "hide "+p+" under an empty tmpfs")
	st.Source, st.FSType, st.Flags, st.FlagText, st.Data = "tmpfs", "tmpfs", nosuidNoexecNodev, FlagString(nosuidNoexecNodev), data
	st.SkipMissing, st.SkipDenied = true, true
	c.add(st)
}

// pivot makes the new root the sandbox's "/" and opens it for the steps after.
func (c *planner) pivot(s Spec, env Env, root string) {
	if root != "" {
		c.add(Step{Action: ActChdir, Path: root, What: "chdir " + root})
		if env.ChrootInPlace {
			// The copies of shared host mounts that binds brought in would
			// otherwise send the mounts made on them, masks included.
			c.add(propagation(root, unix.MS_REC|unix.MS_PRIVATE, false))
			c.add(Step{Action: ActChroot, Path: ".", What: "chroot " + root + " (in the caller's mount namespace)"})
		} else if s.Chroot {
			c.add(Step{Action: ActMove, Source: ".", Path: "/", Flags: unix.MS_MOVE, What: "move " + root + " to /"})
			c.add(Step{Action: ActChroot, Path: ".", What: "chroot " + root})
		} else {
			c.add(Step{Action: ActPivotRoot, Path: ".", What: "pivot_root " + root})
			c.add(Step{Action: ActDetach, Path: ".", What: "detach the old root"})
		}
		c.add(Step{Action: ActChdir, Path: "/", What: "chdir /"})
		c.openRoot("/")
	}
	if s.RootPropagation == Shared || s.RootPropagation == RShared {
		c.add(propagation("/", unix.MS_REC|unix.MS_SHARED, false))
	}
}

// masks hides the masked paths and makes the read-only paths read-only (left out
// in a privileged sandbox), and finishes hiding the hidden paths, as the sandbox
// sees them after the pivot. A mask of anything but a directory binds /dev/null,
// which the child checks to be the device 1:3 first (CVE-2025-31133).
func (c *planner) masks(s Spec, privileged bool, hidden []HiddenPath) {
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
		st := inRoot(ActMaskSource, "/dev/null", CreateNone, "open /dev/null, the source of masks, checked to be the device 1:3")
		st.Major, st.Minor, st.SkipMissing = 1, 3, true
		c.add(st)
	}
	for _, m := range masked {
		st := inRoot(ActMask, m, CreateNone, "mask "+m)
		st.SkipMissing = true
		c.add(st)
	}
	for _, r := range readOnly {
		st := inRoot(ActReadOnly, r, CreateNone, "make "+r+" read-only")
		st.Flags, st.FlagText, st.SkipMissing = unix.MS_RDONLY|unix.MS_REC, FlagString(unix.MS_RDONLY|unix.MS_REC), true
		c.add(st)
	}
	for _, h := range hidden {
		// EINVAL: no tmpfs of its own, since the child could not enter it (hideDir).
		if h.Dir && (!c.empty || c.below(h.Path)) {
			c.setAttr(h.Path, unix.MS_RDONLY, true)
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

// emptyMount has the child make one empty read-only tmpfs, detached, where
// directories will be masked or hidden: each gets a copy of it, so that a start
// makes and ends one superblock for all of them. With an SELinux label each gets a
// labelled tmpfs of its own instead.
func (c *planner) emptyMount(s Spec, env Env, hidden []HiddenPath) {
	need := !env.Privileged && len(s.Masked) > 0
	for _, h := range hidden {
		need = need || h.Dir
	}
	if !need || c.label != "" {
		return
	}
	c.add(Step{Action: ActEmptyTmpfs, What: "make the empty read-only tmpfs that masked and hidden directories get"})
	c.empty = true
}

// below reports whether one of the Spec's own mounts lies below directory p.
func (c *planner) below(p string) bool {
	for t := range c.targets {
		if strings.HasPrefix(t, p+"/") {
			return true
		}
	}
	return false
}

// openRoot makes root ("" for the host's "/") the root that later steps resolve
// their paths in.
func (c *planner) openRoot(root string) {
	if root == "" {
		root = "/"
	}
	c.add(Step{Action: ActOpenRoot, Path: root, What: "open the root " + root})
}

// mount mounts m at m.Target inside the root, creating the mount point as create
// says: a new filesystem, or a bind whose flags are set on the copy of the source
// before it is attached (on every mount of it for a recursive bind).
func (c *planner) mount(m Mount, create Create) {
	if m.Flags&unix.MS_BIND == 0 {
		if c.label != "" && m.FSType == "tmpfs" {
			m.Data = joinData(m.Data, c.label)
		}
		st := inRoot(ActMount, m.Target, create, "mount "+m.String())
		st.Source, st.FSType, st.Flags, st.FlagText, st.Data = m.Source, m.FSType, m.Flags, FlagString(m.Flags), m.Data
		c.add(st)
		return
	}
	st := inRoot(ActBind, m.Target, create, fmt.Sprintf("bind %s on %s (%s)", m.Source, m.Target, FlagString(m.Flags)))
	st.Source, st.Flags, st.FlagText = m.Source, m.Flags, FlagString(m.Flags)
	c.add(st)
}

// detached attaches at m.Target a copy of the bind source m.Source, idmapped
// where idmap is set (Bind.IDMap), which the parent makes for each start with m's
// flags set (see Tree and Env.DetachBinds).
func (c *planner) detached(m Mount, create Create, idmap bool) {
	what := fmt.Sprintf("bind %s on %s (%s)", m.Source, m.Target, FlagString(m.Flags))
	if idmap {
		what = fmt.Sprintf("bind %s on %s (%s, idmapped)", m.Source, m.Target, FlagString(m.Flags))
	}
	st := inRoot(ActAttach, m.Target, create, what)
	st.Tree = &Tree{Source: m.Source, Flags: m.Flags, FlagText: FlagString(m.Flags), IDMap: idmap, What: what}
	c.add(st)
}

// checkIDMap checks that the bind b can be idmapped in env: a new user namespace,
// whose maps the idmapping takes, and a source whose filesystem supports it
// (IDMapSupported; recursively, every filesystem beneath it).
func checkIDMap(b Bind, env Env) error {
	if !env.InUserNS {
		return &MountError{Source: b.Source, Target: b.Target, FSType: "bind", Flags: b.flags(), Invalid: true,
			Err: fmt.Errorf("%w: an idmapped bind needs a new user namespace, whose maps it takes", ErrInvalid)}
	}
	return IDMapSupported(b.Source, b.Recursive)
}

// propagation returns the step that sets the propagation type f (mount(2) flags)
// of the mount at target.
func propagation(target string, f uintptr, in bool) Step {
	return Step{Action: ActPropagation, Stage: stage, Path: target, InRoot: in, Flags: f, FlagText: FlagStringPropagation(f),
		What: fmt.Sprintf("make %s %s", target, FlagStringPropagation(f))}
}

// setAttr sets the flags f (mount(2) flags) on the mount at path, inside the root;
// with optional, a path that is missing or no mount (EINVAL) is skipped.
func (c *planner) setAttr(path string, f uintptr, optional bool) {
	st := inRoot(ActSetAttr, path, CreateNone, fmt.Sprintf("set %s on %s", FlagString(f), path))
	st.Flags, st.FlagText = f, FlagString(f)
	st.SkipMissing, st.SkipInvalid = optional, optional
	c.add(st)
}

// device creates a device node in /dev: mknod and chmod (past the umask) as root,
// or an empty file with the host's node bound onto it in a user namespace.
func (c *planner) device(d Device, userns bool) {
	if userns {
		c.mount(Mount{Source: d.Path, Target: d.Path, Flags: unix.MS_BIND}, CreateFile)
		return
	}
	st := inRoot(ActMknod, d.Path, CreateParent, fmt.Sprintf("mknod %s c %d %d (mode %#o)", d.Path, d.Major, d.Minor, d.Mode))
	st.Major, st.Minor, st.Mode = d.Major, d.Minor, d.Mode
	c.add(st)
}

// joinData appends opt to a mount's comma-separated data.
func joinData(data, opt string) string {
	if data == "" {
		return opt
	}
	return data + "," + opt
}

// checkpointWhat says what the parent does at the checkpoint before pivot_root.
func checkpointWhat(s Spec, env Env) string {
	switch {
	case env.BeforePivot && s.CopiesUp():
		return "wait for the parent to copy the root's files into the copy-up tmpfs and run a held start's Command.BeforePivot before pivot_root"
	case s.CopiesUp():
		return "wait for the parent to copy the root's files into the copy-up tmpfs before pivot_root"
	}
	return "wait for the parent's work before pivot_root (a held start's Command.BeforePivot)"
}
