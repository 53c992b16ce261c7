package overlay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// Driver chooses the overlay implementation.
type Driver string

// The drivers. The zero Driver is Auto.
const (
	// Auto uses the kernel driver where it works (see KernelInUserNS) and
	// fuse-overlayfs otherwise.
	Auto Driver = "auto"
	// Kernel uses the kernel's overlayfs.
	Kernel Driver = "kernel"
	// Fuse uses fuse-overlayfs.
	Fuse Driver = "fuse"
)

// Spec is the root filesystem of a sandbox as an overlay.
type Spec struct {
	// Lower lists the read-only layers, highest first and lowest last, as
	// overlayfs's lowerdir= expects. "/" (the host's root filesystem, without the
	// mounts on it) is a valid lower layer.
	Lower []string `json:"lower"`
	// Upper and Work are the writable layer and overlayfs's scratch directory, both on
	// the same filesystem. Both empty means ephemeral: they live in a tmpfs inside the
	// sandbox's mount namespace and vanish with it.
	Upper string `json:"upper,omitempty"`
	Work  string `json:"work,omitempty"`
	// Driver selects the implementation; empty means Auto.
	Driver Driver `json:"driver,omitempty"`
	// Size bounds the ephemeral tmpfs that holds the upper layer (tmpfs size=
	// syntax, such as "512m" or "50%"); empty means DefaultSize. A sandbox that
	// writes more gets ENOSPC ("No space left on device"). Where the root is
	// assembled per top-level directory (a rootless sandbox on the host's "/"),
	// new top-level entries live in a second tmpfs of the same size.
	Size string `json:"size,omitempty"`
	// IDMap mounts each lower layer idmapped with the sandbox's user namespace
	// (mount_setattr with MOUNT_ATTR_IDMAP): a file owned by ID n on the layer's
	// filesystem appears owned by ID n inside, as it would to a sandbox without a
	// user namespace, whatever host IDs the namespace maps to. An image owned by
	// host root is thus owned by the sandbox's root, without a chown. The layers
	// stay read-only; what the sandbox writes goes to the upper layer under its
	// own IDs. It needs a new user namespace whose maps root writes, the kernel
	// driver and a filesystem that supports idmapped mounts (see IDMappedLayers);
	// the host's "/" is never idmapped: that would hand its files to the
	// sandbox's root.
	IDMap bool `json:"idmap,omitempty"`
}

// DefaultSize bounds an ephemeral upper layer whose Spec gives no Size: without a
// bound a tmpfs may take half of the host's memory, which nothing else limits
// where the sandbox has no memory cgroup (rootless on cgroup v1).
const DefaultSize = "1g"

// size returns Size, or DefaultSize.
func (s *Spec) size() string {
	if s.Size == "" {
		return DefaultSize
	}
	return s.Size
}

// Ephemeral reports whether the upper layer lives in a tmpfs of the sandbox.
func (s *Spec) Ephemeral() bool { return s.Upper == "" && s.Work == "" }

// Validate checks the spec against the host: lower layers are existing absolute
// directories; Upper and Work are both set or both empty, absolute, existing
// directories on one filesystem, distinct and not nested, with no symbolic link along
// them, owned by the caller unless the caller is root. Paths must fit the mount option
// syntax (see Options).
func (s *Spec) Validate() error {
	switch s.Driver {
	case "", Auto, Kernel, Fuse:
	default:
		return fmt.Errorf("%w: unknown driver %q", ErrInvalid, s.Driver)
	}
	if len(s.Lower) == 0 {
		return fmt.Errorf("%w: no lower layer", ErrInvalid)
	}
	for _, l := range s.Lower {
		if _, err := checkDir("lower", l); err != nil {
			return err
		}
	}
	if s.IDMap {
		if s.Driver == Fuse {
			return fmt.Errorf("%w: idmapped lower layers need the kernel driver, not fuse-overlayfs", ErrInvalid)
		}
		for _, l := range s.Lower {
			if filepath.Clean(l) == "/" {
				return &LayerError{Role: "lower", Path: l, Err: errors.New("the host's / is never idmapped: its files would be the sandbox root's")}
			}
		}
	}
	if s.Size != "" {
		if err := mounts.CheckTmpfsSize(s.Size); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	if s.Ephemeral() {
		return nil
	}
	if s.Upper == "" || s.Work == "" {
		return fmt.Errorf("%w: upper %q and work %q must be both set or both empty", ErrInvalid, s.Upper, s.Work)
	}
	up, err := checkDir("upper", s.Upper)
	if err != nil {
		return err
	}
	wk, err := checkDir("work", s.Work)
	if err != nil {
		return err
	}
	u, w := filepath.Clean(s.Upper), filepath.Clean(s.Work)
	for _, c := range []struct{ role, path string }{{"upper", u}, {"work", w}} {
		// The kernel follows links in these paths at every start: none may have one,
		// so that what Build checked is what the sandboxes write to.
		if real, err := filepath.EvalSymlinks(c.path); err != nil || real != c.path {
			return &LayerError{Role: c.role, Path: c.path, Err: fmt.Errorf("has a symbolic link along it (it leads to %q)", real)}
		}
	}
	if u == w || within(u, w) || within(w, u) {
		return &LayerError{Role: "work", Path: s.Work, Err: fmt.Errorf("must not be, contain or lie inside upper %q", s.Upper)}
	}
	if up.Dev != wk.Dev {
		return &LayerError{Role: "work", Path: s.Work, Err: fmt.Errorf("not on the filesystem of upper %q", s.Upper)}
	}
	if euid := uint32(os.Geteuid()); euid != 0 {
		for _, c := range []struct {
			role, path string
			st         *unix.Stat_t
		}{{"upper", s.Upper, up}, {"work", s.Work, wk}} {
			if c.st.Uid != euid {
				return &LayerError{Role: c.role, Path: c.path, Err: fmt.Errorf("owned by uid %d, not by the caller (%d)", c.st.Uid, euid)}
			}
		}
	}
	_, err = s.Options(false)
	return err
}

func checkDir(role, p string) (*unix.Stat_t, error) {
	if !filepath.IsAbs(p) {
		return nil, &LayerError{Role: role, Path: p, Err: errors.New("not an absolute path")}
	}
	if err := checkOptionPath(p); err != nil {
		return nil, &LayerError{Role: role, Path: p, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return nil, &LayerError{Role: role, Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, &LayerError{Role: role, Path: p, Err: unix.ENOTDIR}
	}
	return &st, nil
}

// within reports whether p lies strictly inside dir.
func within(p, dir string) bool {
	if dir == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, dir+"/")
}

// maxData is the size of the page into which mount(2) copies its data argument.
const maxData = 4095

// checkOptionPath rejects paths that the option string cannot carry: NUL bytes and
// newlines. Commas, colons and backslashes are escaped by Options.
func checkOptionPath(p string) error {
	if strings.ContainsAny(p, "\x00\n") {
		return errors.New("contains a NUL byte or a newline")
	}
	return nil
}

// escape protects the separators of overlayfs's option parser: "," between options,
// ":" between lower layers, and the backslash itself.
func escape(p string) string {
	if !strings.ContainsAny(p, `,:\`) {
		return p
	}
	var b strings.Builder
	for _, c := range p {
		if c == ',' || c == ':' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Options returns the mount data for the kernel driver:
// lowerdir=L1:L2,upperdir=U,workdir=W[,userxattr], with ",", ":" and "\" in paths
// escaped by a backslash as the kernel's parser expects. For an ephemeral spec, upper
// and work are left out (Plan adds them). userxattr is added when inUserNS,
// because trusted.* attributes are out of reach there. The result must fit in a page.
func (s *Spec) Options(inUserNS bool) (string, error) {
	return s.options(s.Upper, s.Work, inUserNS)
}

func (s *Spec) options(upper, work string, inUserNS bool) (string, error) {
	var b strings.Builder
	b.WriteString("lowerdir=")
	for i, l := range s.Lower {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(escape(l))
	}
	if upper != "" {
		b.WriteString(",upperdir=" + escape(upper) + ",workdir=" + escape(work))
	}
	if inUserNS {
		b.WriteString(",userxattr")
	}
	if b.Len() > maxData {
		return "", fmt.Errorf("%w: overlay options are %d bytes, the kernel takes at most %d", ErrInvalid, b.Len(), maxData)
	}
	return b.String(), nil
}
