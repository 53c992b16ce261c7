package overlay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// Env is what Plan needs to know about the sandbox being built.
type Env struct {
	// Staging is an existing, empty directory on the host, owned by whoever builds
	// the sandbox (for example one made with os.MkdirTemp per template and removed
	// when the template is closed). The child mounts a tmpfs on it inside its own
	// mount namespace, so the host's directory stays empty; it must not hold or
	// contain a layer, and it is shadowed in the child until pivot_root, so no bind
	// source may lie under it.
	Staging string
	// InUserNS says the child runs in a new user namespace: the kernel driver then
	// needs userxattr.
	InUserNS bool
	// Rootless says the caller is not root on the host.
	Rootless bool
	// MountLabel is the SELinux context= option (selinux.MountOption) for the
	// overlay and its tmpfs, or "" where SELinux is off.
	MountLabel string
	// DetachLayers has the parent copy each lower layer for each start (as it
	// copies an idmapped one, see Spec.IDMap) instead of the child mounting it by
	// path: the child of an automatic ID range is an unprivileged user of the host
	// from its first step, and could not reach a layer below a directory that only
	// root may search. Not for the host's "/".
	DetachLayers bool
}

// NewRoot returns where Plan mounts the root filesystem for a staging directory:
// the directory that package mounts pivots into.
func NewRoot(staging string) string { return filepath.Join(staging, "root") }

// Resolve returns the driver that the spec gets in env: Kernel or Fuse. Auto picks
// Kernel outside a user namespace or where KernelInUserNS succeeds, and Fuse where
// fuse-overlayfs is available; otherwise the error matches ErrNotSupported.
func (s *Spec) Resolve(env Env) (Driver, error) {
	switch s.Driver {
	case Kernel:
		return Kernel, nil
	case Fuse:
		return Fuse, FuseAvailable()
	}
	if !env.InUserNS {
		return Kernel, nil
	}
	kerr := KernelInUserNS()
	if kerr == nil {
		return Kernel, nil
	}
	if ferr := FuseAvailable(); ferr != nil {
		return "", unsupported(Auto, "neither the kernel driver in a user namespace nor fuse-overlayfs works", errors.Join(kerr, ferr))
	}
	return Fuse, nil
}

// Plan returns the child's steps that assemble the root filesystem at
// NewRoot(env.Staging). The child runs them in its new mount namespace, after "/"
// was made private (see package mounts), and before the default mounts:
//
//	mount tmpfs on Staging (mode=755, nosuid, nodev)
//	mkdir Staging/root; ephemeral: mkdir Staging/upper, Staging/work
//	mount overlay on Staging/root
//
// With the fuse driver (see Resolve) the child cannot mount the overlay itself:
// Plan returns the tmpfs and the directories, then a mounts.ActCheckpoint, at
// which the parent must run the FuseCommand (Spec.FuseCommand, FuseCommand.StartFuse)
// in the child's namespaces and release it; the child must run in fork mode.
//
//	mount tmpfs on Staging; mkdir Staging/root; ephemeral: Staging/upper, Staging/work
//	checkpoint: the parent runs fuse-overlayfs -o lowerdir=...,upperdir=...,workdir=... Staging/root
//
// Plan does not call Validate; Build should.
func (s Spec) Plan(env Env) ([]mounts.Step, error) {
	st, err := s.checkStaging(env)
	if err != nil {
		return nil, err
	}
	d, err := s.Resolve(env)
	if err != nil {
		return nil, err
	}
	if s.IDMap {
		if err := s.checkIDMap(env, d); err != nil {
			return nil, err
		}
	}
	upper, work := s.Upper, s.Work
	if s.Ephemeral() {
		upper, work = filepath.Join(st, "upper"), filepath.Join(st, "work")
	}
	data, err := s.options(upper, work, env.InUserNS)
	if err != nil {
		return nil, err
	}
	data = withLabel(data, env.MountLabel)
	tmpData := withLabel("mode=755,size="+s.size(), env.MountLabel)
	var p plan
	if d == Fuse {
		if _, err := s.FuseCommand(env); err != nil {
			return nil, err
		}
		s.planFuse(&p, st, tmpData)
		return p, nil
	}
	root := NewRoot(st)
	if s.splitRoot(env) {
		return p, s.planSplitRoot(&p, st, root, upper, work, tmpData, env.MountLabel)
	}
	p.mount("paddock", st, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpData)
	p.mkdir(root, 0o755)
	if s.Ephemeral() {
		p.mkdir(upper, 0o755)
		p.mkdir(work, 0o700)
	}
	if s.IDMap || env.DetachLayers {
		if data, err = s.attachLayers(&p, st, upper, work, env); err != nil {
			return nil, err
		}
	}
	p.mount("overlay", root, "overlay", 0, data)
	return p, nil
}

// checkStaging checks env.Staging: an absolute path of an existing directory that
// holds no layer. It returns it cleaned.
func (s Spec) checkStaging(env Env) (string, error) {
	st := env.Staging
	if !filepath.IsAbs(st) {
		return "", &LayerError{Role: "staging", Path: st, Err: errors.New("not an absolute path")}
	}
	st = filepath.Clean(st)
	if _, err := checkDir("staging", st); err != nil {
		return "", err
	}
	for _, l := range append(append([]string(nil), s.Lower...), s.Upper, s.Work) {
		if l != "" && (filepath.Clean(l) == st || within(filepath.Clean(l), st)) {
			return "", &LayerError{Role: "staging", Path: st, Err: fmt.Errorf("holds layer %q, which the staging tmpfs would hide", l)}
		}
	}
	return st, nil
}

// withLabel adds the SELinux context= option label, if any, to mount data.
func withLabel(data, label string) string {
	if label == "" {
		return data
	}
	return data + "," + label
}

// checkIDMap checks that the lower layers can be idmapped (Spec.IDMap) in env
// with driver d: a new user namespace, the kernel driver, a caller who may idmap
// (root) and, for each layer, a filesystem and kernel that take an idmapped lower
// layer (IDMappedLayers, a probe cached per filesystem).
func (s Spec) checkIDMap(env Env, d Driver) error {
	switch {
	case !env.InUserNS:
		return fmt.Errorf("%w: idmapped lower layers need a new user namespace, whose maps they take", ErrInvalid)
	case d != Kernel:
		return fmt.Errorf("%w: idmapped lower layers need the kernel driver, not %s", ErrInvalid, d)
	case env.Rootless:
		return unsupported(Kernel, "idmapped lower layers need CAP_SYS_ADMIN over the layers' filesystems (root)", nil)
	}
	for _, l := range s.Lower {
		if filepath.Clean(l) == "/" {
			return &LayerError{Role: "lower", Path: l, Err: errors.New("the host's / is never idmapped: its files would be the sandbox root's")}
		}
		if err := IDMappedLayers(l); err != nil {
			return err
		}
	}
	return nil
}

// attachLayers has the child attach a copy of each lower layer (a mounts.Tree,
// which the parent makes for each start), idmapped where s.IDMap
// says so, on a directory of the staging tmpfs, layer0, layer1, ..., and returns
// the overlay's options with those as lowerdir. The copies lie in the staging
// tmpfs, which the sandbox leaves behind with the host's root when it pivots; they
// are read-only anyway.
func (s Spec) attachLayers(p *plan, st, upper, work string, env Env) (string, error) {
	mapped := Spec{Lower: make([]string, len(s.Lower))}
	what := "lower layer"
	if s.IDMap {
		what = "idmapped lower layer"
	}
	for i, l := range s.Lower {
		dir := filepath.Join(st, fmt.Sprintf("layer%d", i))
		p.mkdir(dir, 0o700)
		p.attach(mounts.Tree{Source: l, Flags: unix.MS_RDONLY, FlagText: mounts.FlagString(unix.MS_RDONLY), IDMap: s.IDMap, What: what + " " + l},
			dir, fmt.Sprintf("attach the %s %s on %s", what, l, dir))
		mapped.Lower[i] = dir
	}
	data, err := mapped.options(upper, work, env.InUserNS)
	return withLabel(data, env.MountLabel), err
}

// planSplitRoot assembles the host's own "/" as the lower layer inside a user
// namespace. There every mount inherited from the host is locked, and overlayfs
// refuses a layer with locked mounts beneath it ("failed to clone lowerpath"):
// the host's "/" always has /proc, /sys and /dev on it. So the root is a tmpfs of
// its own, and each top-level directory of the host is an overlay of its own,
// with its upper and work directories under upper/NAME and work/NAME, or, where the
// caller may not search it, a bind of it (see closed). Top-level symbolic links
// are recreated; directories with other mounts beneath them
// (/proc, /sys, /dev and, on some hosts, /mnt or /media) stay empty: the default
// mounts fill the first three, and the host's mounts are not to be seen anyway.
// New top-level entries live in the root tmpfs and vanish with the sandbox even
// with a persistent upper layer.
func (s Spec) planSplitRoot(p *plan, st, root, upper, work, tmpData, label string) error {
	entries, err := os.ReadDir("/")
	if err != nil {
		return &LayerError{Role: "lower", Path: "/", Err: err}
	}
	overlaid, err := s.ownOverlay()
	if err != nil {
		return err
	}
	p.mount("paddock", st, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpData)
	p.mkdir(root, 0o755)
	// pivot_root needs the new root to be a mount point: give it a tmpfs of its own.
	// New top-level entries live in this tmpfs: bounded as the upper layer is.
	p.mount("paddock-root", root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, withLabel("mode=755,size="+s.size(), label))
	if s.Ephemeral() {
		p.mkdir(upper, 0o755)
		p.mkdir(work, 0o700)
	}
	for _, e := range entries {
		name := e.Name()
		src, dst := "/"+name, filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if err != nil {
			continue // gone since ReadDir
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return &LayerError{Role: "lower", Path: src, Err: err}
			}
			p.add(mounts.Step{Action: mounts.ActSymlink, Path: dst, Source: target, IgnoreExist: true,
				What: fmt.Sprintf("symlink %s -> %s", dst, target)})
		case fi.IsDir():
			p.mkdir(dst, uint32(fi.Mode().Perm()))
			if !overlaid(src) {
				continue
			}
			if closed(src) {
				p.add(mounts.Step{Action: mounts.ActBind, Path: dst, Source: src, Flags: unix.MS_BIND | unix.MS_REC,
					FlagText: mounts.FlagString(unix.MS_BIND | unix.MS_REC), What: fmt.Sprintf("bind %s on %s", src, dst)})
				continue
			}
			u, w := filepath.Join(upper, name), filepath.Join(work, name)
			p.mkdir(u, 0o755)
			p.mkdir(w, 0o700)
			layer := Spec{Lower: []string{src}, Upper: u, Work: w}
			data, err := layer.options(u, w, true)
			if err != nil {
				return err
			}
			p.mount("overlay", dst, "overlay", 0, withLabel(data, label))
		}
	}
	return nil
}

// closed reports whether the caller may not search the host directory dir: nothing
// beneath it can be reached, read or written, through an overlay or not. Such a
// directory (/root and /lost+found, 0700 root, for an unprivileged caller) is bound
// as it is instead: the same EACCES, without an overlay whose setup and teardown
// cost about 0.1 ms of every start and whose superblock's destruction waits for an
// RCU grace period.
func closed(dir string) bool { return unix.Access(dir, unix.X_OK) != nil }

// splitRoot reports whether Plan assembles the root per top-level directory
// (see planSplitRoot): the host's own "/" as the only lower layer, inside a user
// namespace.
func (s Spec) splitRoot(env Env) bool {
	return env.InUserNS && len(s.Lower) == 1 && filepath.Clean(s.Lower[0]) == "/"
}

// unusableLayers returns a test for the host's top-level directories that cannot
// be overlay layers in a user namespace: those with mounts beneath them, and those
// that are themselves a kernel filesystem (proc, sysfs, devtmpfs ...), which
// overlayfs does not take as a layer.
func unusableLayers() (func(dir string) bool, error) {
	mps, err := mountinfo.GetMounts(nil)
	if err != nil {
		return nil, &LayerError{Role: "lower", Path: "/", Err: err}
	}
	return func(dir string) bool {
		for _, m := range mps {
			if strings.HasPrefix(m.Mountpoint, dir+"/") || (m.Mountpoint == dir && pseudoFS[m.FSType]) {
				return true
			}
		}
		return false
	}, nil
}

// ownOverlay returns the one test that planSplitRoot and Mountpoints share:
// whether a top-level directory of the host gets a mount of its own in a split root
// (it can be a layer, and an overlay would add something to a plain directory): an
// overlay, or a bind where the directory is closed to the caller.
func (s Spec) ownOverlay() (func(dir string) bool, error) {
	unusable, err := unusableLayers()
	if err != nil {
		return nil, err
	}
	return func(dir string) bool { return !unusable(dir) && !ephemeralEmpty(s, dir) }, nil
}

// Mountpoints returns where the sandbox sees, once it has pivoted, the mounts that
// make up the root filesystem that Plan assembles for s in env: "/" and, where
// the host's "/" is split per top-level directory (inside a user namespace, see
// planSplitRoot), each directory that is a mount of its own. A read-only root
// must remount every one of them: a remount of "/" alone would leave /usr, /etc
// and /tmp writable there.
func (s Spec) Mountpoints(env Env) ([]string, error) {
	if d, err := s.Resolve(env); err == nil && d == Fuse {
		return []string{"/"}, nil
	}
	if !s.splitRoot(env) {
		return []string{"/"}, nil
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return nil, &LayerError{Role: "lower", Path: "/", Err: err}
	}
	overlaid, err := s.ownOverlay()
	if err != nil {
		return nil, err
	}
	mps := []string{"/"}
	for _, e := range entries {
		dir := "/" + e.Name()
		if fi, err := os.Lstat(dir); err == nil && fi.IsDir() && overlaid(dir) {
			mps = append(mps, dir)
		}
	}
	return mps, nil
}

// ephemeralEmpty reports whether an overlay of the host directory dir would add
// nothing to a plain directory in the root tmpfs: the upper layer is ephemeral and
// dir is empty now (and readable: an unreadable one keeps its own mount, which
// answers EACCES as the host does). Each overlay left out saves about a tenth of a
// millisecond per start. Such a directory starts empty in the sandbox even if the
// host fills it later.
func ephemeralEmpty(s Spec, dir string) bool {
	if !s.Ephemeral() {
		return false
	}
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	return err == io.EOF && len(names) == 0
}

// pseudoFS are kernel filesystems that cannot be overlay layers.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "configfs": true, "fusectl": true,
	"mqueue": true, "bpf": true, "pstore": true, "autofs": true, "efivarfs": true,
	"binfmt_misc": true, "hugetlbfs": true, "nsfs": true, "rpc_pipefs": true,
}

const stage = "root filesystem"

// plan collects the steps of Plan, in the root filesystem stage.
type plan []mounts.Step

func (p *plan) add(st mounts.Step) {
	st.Stage = stage
	*p = append(*p, st)
}

// mount mounts a filesystem of type fstype, or changes the propagation of the
// mount at target ("none", MS_SHARED).
func (p *plan) mount(src, target, fstype string, flags uintptr, data string) {
	p.add(mounts.Step{Action: mounts.ActMount, Path: target, Source: src, FSType: fstype, Flags: flags, FlagText: mounts.FlagString(flags), Data: data,
		What: fmt.Sprintf("mount %s on %s (type %s, flags %#x, data %q)", src, target, fstype, flags, data)})
}

func (p *plan) mkdir(path string, mode uint32) {
	p.add(mounts.Step{Action: mounts.ActMkdir, Path: path, Mode: mode, IgnoreExist: true, What: fmt.Sprintf("mkdir %s (mode %#o)", path, mode)})
}

// attach attaches the copy t on the directory dir.
func (p *plan) attach(t mounts.Tree, dir, what string) {
	p.add(mounts.Step{Action: mounts.ActAttach, Path: dir, Tree: &t, What: what})
}
