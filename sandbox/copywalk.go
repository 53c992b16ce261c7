package sandbox

import (
	"fmt"
	"io"
	"os"
	"path"

	"golang.org/x/sys/unix"
)

// A copyWalk copies a directory tree of the root into a copy-up tmpfs, by
// descriptor (see copyup.go).
type copyWalk struct {
	covered map[string]bool // see copyUp.covered
	owners  *copyOwners     // a root caller's, which gives copies owners; nil otherwise
	buf     []byte          // the buffer of readWrite, made once
	link    []byte          // the buffer of symlink, made once
	stop    func() error    // non-nil once the start's context ended (Process.contextErr)
}

// dir copies the entries of the directory src into dst; at is the path of
// both in the sandbox, depth the levels below the mount point.
func (w *copyWalk) dir(src *os.File, dst int, at string, depth int) error {
	if depth > maxCopyDepth {
		return &os.PathError{Op: "copy", Path: at, Err: fmt.Errorf("deeper than %d directories: %w", maxCopyDepth, unix.ELOOP)}
	}
	for {
		names, err := src.Readdirnames(256)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &os.PathError{Op: "read directory", Path: at, Err: err}
		}
		for _, n := range names {
			if err := w.entry(src, dst, n, at, depth); err != nil {
				return err
			}
		}
	}
}

// entry copies the entry name of src into dst.
func (w *copyWalk) entry(src *os.File, dst int, name, at string, depth int) error {
	if err := w.stop(); err != nil {
		return err // the sandbox is killed; the tmpfs would outlive it only in this walk
	}
	p := path.Join(at, name)
	mountPoint, onTheWay := w.covered[p]
	if onTheWay && mountPoint {
		return nil // a mount of the Spec's covers it
	}
	sfd := int(src.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	var err error
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		err = w.subdir(src, dst, name, p, depth, onTheWay)
	case unix.S_IFREG:
		err = w.file(sfd, dst, name, p)
	case unix.S_IFLNK:
		err = w.symlink(sfd, dst, name)
	case unix.S_IFIFO:
		err = unix.Mknodat(dst, name, unix.S_IFIFO|0o600, 0)
	case unix.S_IFCHR, unix.S_IFBLK:
		if w.owners == nil {
			return nil // a rootless caller cannot make devices
		}
		err = unix.Mknodat(dst, name, st.Mode&unix.S_IFMT|0o600, int(st.Rdev))
		if err == unix.EPERM {
			return nil // where the caller may not make it
		}
	default:
		return nil // a socket means nothing without its server
	}
	if err == nil {
		err = w.attrs(dst, name, &st)
	}
	if err != nil {
		if _, ok := err.(*os.PathError); !ok {
			err = &os.PathError{Op: "copy", Path: p, Err: err}
		}
	}
	return err
}

// subdir copies the directory name of src into dst: a new directory, or the
// one the child made on the way to a mount point (made).
func (w *copyWalk) subdir(src *os.File, dst int, name, p string, depth int, made bool) error {
	if err := unix.Mkdirat(dst, name, 0o700); err != nil && !(made && err == unix.EEXIST) {
		return err
	}
	sfd, err := unix.Openat(int(src.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	s := os.NewFile(uintptr(sfd), p)
	defer s.Close()
	dfd, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open the copy", Path: p, Err: err}
	}
	defer unix.Close(dfd)
	return w.dir(s, dfd, p, depth+1)
}

// file copies the regular file name of src into dst, p in the sandbox: a new
// file of the same content. The source is opened without blocking and checked
// again once open: a FIFO or a device put in the file's place since the stat
// would otherwise hold the copy, or fill the tmpfs.
func (w *copyWalk) file(src, dst int, name, p string) error {
	sfd, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(sfd)
	var st unix.Stat_t
	if err := unix.Fstat(sfd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return &os.PathError{Op: "copy", Path: p, Err: fmt.Errorf("no longer a regular file: %w", unix.EAGAIN)}
	}
	dfd, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	if err := w.content(sfd, dfd); err != nil {
		return &os.PathError{Op: "copy", Path: p, Err: err}
	}
	return nil
}

// content copies what sfd holds into dfd: by copy_file_range, which the
// kernel refuses between filesystems of different types (EXDEV), else by
// read and write through w's buffer.
func (w *copyWalk) content(sfd, dfd int) error {
	for {
		n, err := unix.CopyFileRange(sfd, nil, dfd, nil, 1<<30, 0)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EXDEV || err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP:
			return w.readWrite(sfd, dfd)
		case err != nil || n == 0:
			return err
		}
	}
}

// readWrite copies what is left of sfd into dfd with read and write.
func (w *copyWalk) readWrite(sfd, dfd int) error {
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	for {
		n, err := unix.Read(sfd, w.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return err
		}
		for b := w.buf[:n]; len(b) > 0; {
			m, err := unix.Write(dfd, b)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			b = b[m:]
		}
	}
}

// symlink copies the symbolic link name of src into dst, as a link: it is
// never followed.
func (w *copyWalk) symlink(src, dst int, name string) error {
	if w.link == nil {
		w.link = make([]byte, unix.PathMax)
	}
	n, err := unix.Readlinkat(src, name, w.link)
	if err != nil {
		return err
	}
	return unix.Symlinkat(string(w.link[:n]), dst, name)
}

// attrs gives the copy name in dst the owner (a root caller's, see
// copyOwners), mode and times of its source st. The owner goes first: a chown
// clears set-ID bits.
func (w *copyWalk) attrs(dst int, name string, st *unix.Stat_t) error {
	if w.owners != nil {
		if uid, gid, ok := w.owners.owner(st.Uid, st.Gid); ok {
			if err := unix.Fchownat(dst, name, int(uid), int(gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dst, name, st.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dst, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}
