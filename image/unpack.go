package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// Whiteout names of the OCI layer format.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// Opaque-directory attributes: overlayfs reads the trusted.* one unless it is
// mounted with userxattr, as in a user namespace, where it reads the user.* one.
const (
	opaqueTrusted = "trusted.overlay.opaque"
	opaqueUser    = "user.overlay.opaque"
)

// resolve keeps every lookup of an unpack inside the layer's directory and off
// the layer's symbolic links.
const resolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_XDEV

// An unpacker writes one layer's tar stream into a directory.
type unpacker struct {
	root    int  // the layer's directory
	rootful bool // keep owners and make device nodes
	diffID  string
	dirs    []dirMeta // directories' modes and times, set last
	// Skipped counts the entries left out: device nodes where the caller may not
	// make them, and unknown entry types.
	skipped int
}

// dirMeta is a directory's metadata, applied once its entries are written.
type dirMeta struct {
	rel   string
	mode  uint32
	mtime unix.Timespec
}

// unpack reads a layer's uncompressed tar stream r into the directory open at
// root and checks the stream against diffID.
func (u *unpacker) unpack(r io.Reader) error {
	h := sha256.New()
	r = io.TeeReader(r, h)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt(u.diffID, "", fmt.Errorf("reading the tar stream: %w", err))
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
	}
	// The stream's digest covers the padding after the end-of-archive marker.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return corrupt(u.diffID, "", fmt.Errorf("reading the tar stream: %w", err))
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != u.diffID {
		return corrupt(u.diffID, "", fmt.Errorf("content has digest %s", got))
	}
	return u.finishDirs()
}

// entry writes one tar entry.
func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := cleanPath(hdr.Name)
	if err != nil {
		return corrupt(u.diffID, hdr.Name, err)
	}
	if rel == "" {
		return nil // the layer's root: its directory is the store's
	}
	dir, base := path.Split(rel)
	parent, err := u.openDir(strings.TrimSuffix(dir, "/"))
	if err != nil {
		return corrupt(u.diffID, hdr.Name, err)
	}
	defer unix.Close(parent)
	if err := u.write(parent, rel, base, hdr, r); hostFault(err) {
		return &LayerError{DiffID: u.diffID, Entry: hdr.Name, Err: err}
	} else if err != nil {
		return corrupt(u.diffID, hdr.Name, err)
	}
	return nil
}

// hostFault reports whether err is the host's doing (a full or failing disk,
// no memory), not the layer's.
func hostFault(err error) bool {
	for _, e := range []error{unix.ENOSPC, unix.EDQUOT, unix.EIO, unix.EROFS, unix.ENOMEM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// cleanPath makes a tar entry's name relative to the layer's root. It refuses
// ".." and empty names; a leading "/" is dropped, as tar(1) drops it.
func cleanPath(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", errors.New("empty name or NUL byte in the name")
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return "", errors.New(`a ".." in the path`)
		}
	}
	return strings.TrimPrefix(path.Clean("/"+name), "/"), nil
}

// write creates the entry base in the directory parent. rel is its path in the
// layer.
func (u *unpacker) write(parent int, rel, base string, hdr *tar.Header, r io.Reader) error {
	if base == opaqueMarker {
		return u.setOpaque(parent)
	}
	if name, ok := strings.CutPrefix(base, whiteoutPrefix); ok {
		if strings.HasPrefix(name, whiteoutPrefix) || name == "" || name == "." || name == ".." {
			return nil // other .wh..wh. names are aufs's bookkeeping
		}
		if err := u.clear(parent, name, false); err != nil {
			return err
		}
		return unix.Mknodat(parent, name, unix.S_IFCHR, 0)
	}
	mode := uint32(hdr.Mode) & 0o7777
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.mkdir(parent, rel, base, hdr, mode)
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
		// The tar reader expands a sparse file; a contiguous file is a regular one.
		return u.file(parent, base, hdr, mode, r)
	case tar.TypeSymlink:
		if err := u.clear(parent, base, false); err != nil {
			return err
		}
		if err := unix.Symlinkat(hdr.Linkname, parent, base); err != nil {
			return err
		}
		return u.finish(parent, base, hdr, 0, false)
	case tar.TypeLink:
		return u.link(parent, base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.node(parent, base, hdr, mode)
	}
	u.skipped++
	return nil
}

// mkdir makes a directory, or keeps the one already there.
func (u *unpacker) mkdir(parent int, rel, base string, hdr *tar.Header, mode uint32) error {
	if err := u.clear(parent, base, true); err != nil {
		return err
	}
	if err := unix.Mkdirat(parent, base, 0o700); err != nil && err != unix.EEXIST {
		return err
	}
	if u.rootful {
		if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	u.dirs = append(u.dirs, dirMeta{rel: rel, mode: mode, mtime: unix.NsecToTimespec(hdr.ModTime.UnixNano())})
	return nil
}

// file writes a regular file.
func (u *unpacker) file(parent int, base string, hdr *tar.Header, mode uint32, r io.Reader) error {
	if err := u.clear(parent, base, false); err != nil {
		return err
	}
	fd, err := unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	err = copyTo(fd, r)
	if err == nil && u.rootful {
		if capData, ok := hdr.PAXRecords["SCHILY.xattr.security.capability"]; ok {
			err = unix.Fsetxattr(fd, "security.capability", []byte(capData), 0)
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return u.finish(parent, base, hdr, mode, true)
}

// copyTo copies r to the descriptor fd.
func copyTo(fd int, r io.Reader) error {
	buf := make([]byte, 128<<10)
	for {
		n, err := r.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			w, werr := unix.Write(fd, b)
			if werr != nil {
				return werr
			}
			b = b[w:]
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// link makes a hard link to an entry written before in the same layer.
func (u *unpacker) link(parent int, base string, hdr *tar.Header) error {
	target, err := cleanPath(hdr.Linkname)
	if err != nil || target == "" {
		return fmt.Errorf("hard link to %q: not a path inside the layer", hdr.Linkname)
	}
	tdir, tbase := path.Split(target)
	tparent, err := u.lookupDir(strings.TrimSuffix(tdir, "/"))
	if err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	defer unix.Close(tparent)
	if err := u.clear(parent, base, false); err != nil {
		return err
	}
	// Without AT_SYMLINK_FOLLOW, linkat links a symbolic link itself.
	if err := unix.Linkat(tparent, tbase, parent, base, 0); err != nil {
		return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
	}
	return nil
}

// node makes a device node or a FIFO. An unprivileged caller cannot make a
// device node (other than a whiteout): it is skipped.
func (u *unpacker) node(parent int, base string, hdr *tar.Header, mode uint32) error {
	kind := uint32(unix.S_IFIFO)
	switch hdr.Typeflag {
	case tar.TypeChar:
		kind = unix.S_IFCHR
	case tar.TypeBlock:
		kind = unix.S_IFBLK
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if !u.rootful && kind != unix.S_IFIFO && !(kind == unix.S_IFCHR && dev == 0) {
		u.skipped++
		return nil
	}
	if err := u.clear(parent, base, false); err != nil {
		return err
	}
	if err := unix.Mknodat(parent, base, kind|mode&0o777, int(dev)); err != nil {
		return err
	}
	return u.finish(parent, base, hdr, mode, true)
}

// finish sets an entry's owner (rootful), mode (after the owner, which clears
// set-ID bits) and modification time.
func (u *unpacker) finish(parent int, base string, hdr *tar.Header, mode uint32, chmod bool) error {
	if u.rootful {
		if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	if chmod {
		// base was just made by this unpack, as a file that is no symbolic link.
		if err := unix.Fchmodat(parent, base, mode, 0); err != nil {
			return err
		}
	}
	ts := unix.NsecToTimespec(hdr.ModTime.UnixNano())
	return unix.UtimesNanoAt(parent, base, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
}

// clear removes what is at base before a new entry takes its place. A directory
// stays for a new directory (which updates it) and is refused for anything else:
// a layer that puts a file where it made a directory is malformed.
func (u *unpacker) clear(parent int, base string, forDir bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW); err == unix.ENOENT {
		return nil
	} else if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if forDir {
			return nil
		}
		return errors.New("replaces a directory of the same layer")
	}
	return unix.Unlinkat(parent, base, 0)
}

// setOpaque marks the directory dir opaque.
func (u *unpacker) setOpaque(dir int) error {
	if u.rootful {
		if err := unix.Fsetxattr(dir, opaqueTrusted, []byte("y"), 0); err != nil {
			return fmt.Errorf("marking the directory opaque: %w", err)
		}
	}
	if err := unix.Fsetxattr(dir, opaqueUser, []byte("y"), 0); err != nil {
		return fmt.Errorf("marking the directory opaque: %w", err)
	}
	return nil
}

// lookupDir opens the existing directory rel of the layer.
func (u *unpacker) lookupDir(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(u.root, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolve})
	if err == unix.ELOOP {
		return -1, fmt.Errorf("%q lies beneath a symbolic link", rel)
	}
	if err == unix.ENOTDIR {
		return -1, fmt.Errorf("%q: a file where a directory should be", rel)
	}
	return fd, err
}

// openDir opens the directory rel of the layer, making the directories along it
// that the layer did not list.
func (u *unpacker) openDir(rel string) (int, error) {
	fd, err := u.lookupDir(rel)
	if err != unix.ENOENT {
		return fd, err
	}
	fd, err = u.lookupDir("")
	if err != nil {
		return -1, err
	}
	for c := range strings.SplitSeq(rel, "/") {
		if err := unix.Mkdirat(fd, c, 0o755); err != nil && err != unix.EEXIST {
			unix.Close(fd)
			return -1, err
		}
		next, err := unix.Openat2(fd, c, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: resolve})
		unix.Close(fd)
		if err != nil {
			return -1, fmt.Errorf("%q: %w", rel, err)
		}
		fd = next
	}
	return fd, nil
}

// finishDirs sets the directories' modes and times, deepest last written first:
// a mode that denies the owner search or write must not stop the unpack.
func (u *unpacker) finishDirs() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		dir, base := path.Split(d.rel)
		parent, err := u.lookupDir(strings.TrimSuffix(dir, "/"))
		if err != nil {
			return corrupt(u.diffID, d.rel, err)
		}
		err = unix.Fchmodat(parent, base, d.mode, 0)
		if err == nil {
			err = unix.UtimesNanoAt(parent, base, []unix.Timespec{d.mtime, d.mtime}, unix.AT_SYMLINK_NOFOLLOW)
		}
		unix.Close(parent)
		if err != nil {
			return &LayerError{DiffID: u.diffID, Entry: d.rel, Err: err}
		}
	}
	return nil
}
