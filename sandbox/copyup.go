package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// Copy-up (mounts.Tmpfs.CopyUp, Podman's tmpcopyup). The child copies
// nothing: it mounts the tmpfs, makes the Spec's other mounts, and stops at
// the checkpoint before pivot_root. The parent, while it waits, reaches the
// new tmpfs through the child's mount namespace (/proc/<pid>/root, then the
// Template's staging root, then the mount point, each resolved in its root
// with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), checks that it is the root of a
// tmpfs and holds nothing but the mount points of the Spec's mounts below it,
// and fills it from the same path of the root filesystem as the host sees it:
// the root directory, or the one layer of the overlay that holds the path
// (a path held by several layers is refused rather than merged). The walk goes
// by descriptor, never follows a symbolic link of the root, and stops at
// maxCopyDepth levels. It copies directories, regular files (their content by
// copy_file_range or read/write), symbolic links as links, FIFOs, and device
// nodes where the caller may make them (root; a rootless caller's are
// skipped, as are sockets, which mean nothing without their server); hard
// links become separate files, extended attributes are not copied. Each copy
// gets its source's mode and times; a root caller gives it its source's owner,
// a rootless caller's copies are its own (the sandbox's root, which Build
// makes sure of). The tmpfs's own root keeps the Tmpfs's Mode. A full tmpfs
// fails the start with ENOSPC; the failed start's mount namespace, and the
// copy with it, dies with its child.

// maxCopyDepth bounds the directory levels that a copy-up walks below the
// mount point.
const maxCopyDepth = 64

// A copyUp is a tmpfs that each start fills from the root.
type copyUp struct {
	target string   // the mount point in the root
	layers []string // the host directories of the root, topmost first
	// covered holds, below target, the mount points of the Spec's other
	// mounts (true) and the directories the child made on the way to them
	// (false): the copy leaves the first alone and fills the second.
	covered map[string]bool
}

// compileCopyUp keeps the tmpfs mounts that each start fills from the root,
// and has each start stop before pivot_root for them; a root caller c gives
// the copies their sources' owners.
func (t *Template) compileCopyUp(c ids) {
	s := t.spec
	if !s.Mounts.CopiesUp() {
		return
	}
	layers := []string{s.RootDir}
	newRoot := t.staging
	if s.RootDir == "" {
		r := s.RootOverlaySpec()
		layers = append([]string(nil), r.Lower...)
		if r.Upper != "" {
			layers = append([]string{r.Upper}, layers...)
		}
		newRoot = overlay.NewRoot(t.staging)
	}
	t.copyRoot, t.chownCopies = newRoot, c.uid == 0
	t.idmappedLayers = s.RootDir == "" && s.RootOverlaySpec().IDMap
	t.pivotCheckpoint = true
	var targets []string
	for _, m := range s.Mounts.Mounts {
		if m.CopyUp {
			targets = append(targets, m.Target)
		}
	}
	for _, m := range s.Mounts.Tmpfs {
		if m.CopyUp {
			targets = append(targets, m.Target)
		}
	}
	for _, target := range targets {
		target = path.Clean(target)
		t.copyUp = append(t.copyUp, copyUp{target: target, layers: layers, covered: t.coveredBelow(target)})
	}
}

// coveredBelow returns the paths below dir that the Spec's own mounts, nodes
// and links take (true), and the directories on the way to them (false).
func (t *Template) coveredBelow(dir string) map[string]bool {
	m := t.spec.Mounts
	var paths []string
	for _, x := range m.Mounts {
		paths = append(paths, x.Target)
	}
	for _, x := range m.Binds {
		paths = append(paths, x.Target)
	}
	for _, x := range m.Tmpfs {
		paths = append(paths, x.Target)
	}
	for _, x := range m.Nodes {
		paths = append(paths, x.Path)
	}
	for _, x := range m.Symlinks {
		paths = append(paths, x.Path)
	}
	covered := map[string]bool{}
	for _, p := range paths {
		p = path.Clean(p)
		if !strings.HasPrefix(p, dir+"/") {
			continue
		}
		covered[p] = true
		for d := path.Dir(p); d != dir && !covered[d]; d = path.Dir(d) {
			covered[d] = false
		}
	}
	return covered
}

// fillTmpfs fills each copy-up tmpfs of the waiting child from the root.
func (p *Process) fillTmpfs() error {
	t := p.tmpl
	if len(t.copyUp) == 0 {
		return nil
	}
	var owners *copyOwners
	var err error
	if t.chownCopies {
		owners, err = readOwners(p.pid, t.idmappedLayers)
	}
	if err != nil {
		return &ChildError{Stage: "mount", Step: "read the sandbox's ID maps for its copy-up tmpfs", Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
	}
	uid, gid, ok := uint32(0), uint32(0), true
	if owners != nil {
		uid, gid, ok = owners.root()
	}
	if !ok {
		return &ChildError{Stage: "mount", Step: "copy into the copy-up tmpfs", Op: child.CheckpointOp, Errno: unix.EOVERFLOW,
			Detail: "the sandbox's user namespace maps no root to own the copies"}
	}
	if uid == 0 && gid == 0 {
		return p.fillAll(owners) // host root is the sandbox's root, or no caller of its own
	}
	return asIDs(uid, gid, func() error { return p.fillAll(owners) })
}

// fillAll fills each copy-up tmpfs, the copies given owners by owners (nil:
// the caller's own).
func (p *Process) fillAll(owners *copyOwners) error {
	t := p.tmpl
	root, err := openRootOf(p.pid, t.copyRoot)
	for _, c := range t.copyUp {
		if err == nil {
			err = c.fill(root, owners, p.contextErr)
		}
		if err != nil {
			if root >= 0 {
				unix.Close(root)
			}
			return &ChildError{Stage: "mount", Step: "copy " + c.target + " of the root into its tmpfs (copy-up)",
				Op: child.CheckpointOp, Errno: child.ErrnoOf(err), cause: err}
		}
	}
	unix.Close(root)
	return nil
}

// inRoot resolves name below the directory dirfd as if dirfd were "/", and
// follows no magic link.
func inRoot(dirfd int, name string, flags uint64) (int, error) {
	how := &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(dirfd, name, how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// openRootOf opens the sandbox's new root, newRoot, in the mount namespace of
// the child pid, with O_PATH: /proc/<pid>/root, from which a lookup walks the
// child's mounts, then newRoot in it.
func openRootOf(pid int, newRoot string) (int, error) {
	proc := "/proc/" + strconv.Itoa(pid) + "/root"
	pfd, err := unix.Open(proc, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: proc, Err: err}
	}
	defer unix.Close(pfd)
	fd, err := inRoot(pfd, newRoot, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: proc + newRoot, Err: err}
	}
	return fd, nil
}

// fill copies the tree at c.target of the root into the tmpfs there, below
// root (the sandbox's new root in the child's mount namespace), until stop
// returns an error: the start's context ended.
func (c copyUp) fill(root int, owners *copyOwners, stop func() error) error {
	dst, err := c.openTmpfs(root)
	if err != nil {
		return err
	}
	defer unix.Close(dst)
	src, err := c.openSource()
	if err != nil || src == nil {
		return err
	}
	defer src.Close()
	w := &copyWalk{covered: c.covered, owners: owners, stop: stop}
	return w.dir(src, dst, c.target, 0)
}

// openTmpfs opens the tmpfs at c.target below root and checks it: the root of
// a tmpfs mount, holding nothing but what c.covered names.
func (c copyUp) openTmpfs(root int) (int, error) {
	fd, err := inRoot(root, c.target, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return -1, &os.PathError{Op: "open the tmpfs", Path: c.target, Err: err}
	}
	if err := c.checkTmpfs(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// checkTmpfs checks that fd is the root of a tmpfs mount that holds nothing
// the copy would not fill.
func (c copyUp) checkTmpfs(fd int) error {
	var fs unix.Statfs_t
	var stx unix.Statx_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return &os.PathError{Op: "fstatfs", Path: c.target, Err: err}
	}
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_BASIC_STATS, &stx); err != nil {
		return &os.PathError{Op: "statx", Path: c.target, Err: err}
	}
	if fs.Type != unix.TMPFS_MAGIC || stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 || stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return &os.PathError{Op: "check the tmpfs", Path: c.target, Err: errors.New("the mount point is not the root of a tmpfs")}
	}
	d, err := unix.Dup(fd)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(d), c.target)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, ok := c.covered[path.Join(c.target, n)]; !ok {
			return &os.PathError{Op: "check the tmpfs", Path: path.Join(c.target, n), Err: fmt.Errorf("the new tmpfs is not empty: %w", unix.EEXIST)}
		}
	}
	return nil
}

// openSource opens c.target in the root as the host sees it: in the root
// directory, or in the one layer of the overlay that holds it; nil where none
// does or it is no directory (there is nothing to copy).
func (c copyUp) openSource() (*os.File, error) {
	var found *os.File
	for _, l := range c.layers {
		f, err := openInLayer(l, c.target)
		if err != nil {
			if found != nil {
				found.Close()
			}
			return nil, err
		}
		if f == nil {
			continue
		}
		if found != nil {
			found.Close()
			f.Close()
			return nil, &os.PathError{Op: "open the source", Path: c.target, Err: fmt.Errorf("more than one layer of the overlay holds it, which Paddock does not merge: %w", unix.EOPNOTSUPP)}
		}
		found = f
	}
	if found == nil {
		return nil, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(found.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		found.Close()
		return nil, err
	}
	d, err := inRoot(int(found.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY)
	found.Close()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: c.target, Err: err}
	}
	return os.NewFile(uintptr(d), c.target), nil
}

// openInLayer opens, with O_PATH, target inside the host directory layer,
// nil where the layer has nothing there.
func openInLayer(layer, target string) (*os.File, error) {
	lfd, err := unix.Open(layer, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: layer, Err: err}
	}
	defer unix.Close(lfd)
	fd, err := inRoot(lfd, target, unix.O_PATH)
	switch {
	case err == unix.ENOENT || err == unix.ENOTDIR:
		return nil, nil
	case err != nil:
		return nil, &os.PathError{Op: "open", Path: target + " in " + layer, Err: err}
	}
	return os.NewFile(uintptr(fd), target), nil
}
