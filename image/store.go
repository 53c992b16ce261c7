package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// A Store holds unpacked layers by diff ID, and a record of each image loaded
// into it (the layers it uses), under one directory:
//
//	layers/HEX/    a layer's files, ready as an overlay lower layer
//	locks/HEX      the lock file of a layer's unpack
//	images/HEX     an image's record (JSON), named by its config's digest
//	tmp/           unpacks under way
//	lock           shared by loads, exclusive for a prune
type Store struct {
	root string
	// unpacked counts the layers this Store value unpacked, for tests and
	// reports of reuse.
	unpacked atomic.Int64
}

// DefaultRoot returns where a store lives by default: /var/lib/paddock for
// root, $XDG_DATA_HOME/paddock or ~/.local/share/paddock for another user.
func DefaultRoot() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/lib/paddock", nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "paddock"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		return "", fmt.Errorf("%w: no store directory: set XDG_DATA_HOME or HOME (%v)", ErrInvalid, err)
	}
	return filepath.Join(home, ".local", "share", "paddock"), nil
}

// OpenStore opens the store at root, making its directories where they are
// missing; "" means DefaultRoot. Its directories are private to their owner
// (0700), who must be the caller: a layer holds the image's set-user-ID
// programs, owned by the image's root in a store of root's, which no other user
// of the host may reach. A root caller's sandbox whose user namespace maps its
// root to another host ID gets the layers from the parent, idmapped, as under
// an automatic ID range by default (sandbox.WithIDMappedLayers otherwise): it
// could not reach them by path.
func OpenStore(root string) (*Store, error) {
	if root == "" {
		var err error
		if root, err = DefaultRoot(); err != nil {
			return nil, err
		}
	}
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("%w: store %q is not an absolute path", ErrInvalid, root)
	}
	root = filepath.Clean(root)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	for _, d := range []string{"layers", "locks", "images", "tmp"} {
		p := filepath.Join(root, d)
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if err := checkPrivate(p); err != nil {
			return nil, err
		}
	}
	return &Store{root: root}, nil
}

// checkPrivate checks that the store's directory p is a directory (not a
// link) of the caller's that no one else may enter.
func checkPrivate(p string) error {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uint32(os.Geteuid()) || st.Mode&0o077 != 0 {
		return fmt.Errorf("%w: store directory %s must be a directory of uid %d's with mode 0700 (it is %o, uid %d)", ErrInvalid, p, os.Geteuid(), st.Mode, st.Uid)
	}
	return nil
}

// Root returns the store's directory.
func (s *Store) Root() string { return s.root }

// Unpacked returns how many layers this Store value has unpacked: a load that
// found every layer in the store adds none.
func (s *Store) Unpacked() int64 { return s.unpacked.Load() }

// LayerDir returns the directory of the layer with diffID, which may not exist.
func (s *Store) LayerDir(diffID string) (string, error) {
	if !validDigest(diffID) {
		return "", fmt.Errorf("%w: diff ID %q: want sha256: and 64 hex digits", ErrInvalid, diffID)
	}
	return filepath.Join(s.root, "layers", strings.TrimPrefix(diffID, "sha256:")), nil
}

// lock takes an flock(2) on the file path, shared or exclusive, and returns
// its release.
func lock(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// layer returns the directory of the layer diffID, unpacking it first from the
// stream that open returns when it is not in the store. Concurrent calls for one
// layer, in this process or others, unpack it once.
func (s *Store) layer(diffID string, open func() (io.ReadCloser, error)) (string, error) {
	dir, err := s.LayerDir(diffID)
	if err != nil {
		return "", corrupt(diffID, "", err)
	}
	if present(dir) {
		return dir, nil
	}
	unlock, err := lock(filepath.Join(s.root, "locks", filepath.Base(dir)), unix.LOCK_EX)
	if err != nil {
		return "", &LayerError{DiffID: diffID, Err: err}
	}
	defer unlock()
	if present(dir) {
		return dir, nil // another unpack finished while this one waited
	}
	if err := s.unpackLayer(diffID, dir, open); err != nil {
		return "", err
	}
	s.unpacked.Add(1)
	return dir, nil
}

// present reports whether a layer's directory exists.
func present(dir string) bool {
	_, err := os.Lstat(dir)
	return err == nil
}

// unpackLayer unpacks a layer into a temporary directory and renames it to dir
// once complete; on failure it removes what it wrote.
func (s *Store) unpackLayer(diffID, dir string, open func() (io.ReadCloser, error)) (err error) {
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "layer-")
	if err != nil {
		return &LayerError{DiffID: diffID, Err: err}
	}
	defer func() {
		if err != nil {
			overlay.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return &LayerError{DiffID: diffID, Err: err}
	}
	rc, err := open()
	if err != nil {
		return corrupt(diffID, "", err)
	}
	defer rc.Close()
	root, err := unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &LayerError{DiffID: diffID, Err: err}
	}
	defer unix.Close(root)
	u := &unpacker{root: root, rootful: os.Geteuid() == 0, diffID: diffID}
	if err := u.unpack(rc); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return &LayerError{DiffID: diffID, Err: err}
	}
	return nil
}

// A Record is what the store keeps of an image it loaded.
type Record struct {
	// ID is the digest of the image's configuration.
	ID string `json:"id"`
	// Refs are the references it was loaded from.
	Refs []string `json:"refs"`
	// DiffIDs are its layers, lowest first.
	DiffIDs []string `json:"diffIDs"`
}

// record adds ref to the image's record.
func (s *Store) record(id, ref string, diffIDs []string) error {
	unlock, err := lock(filepath.Join(s.root, "locks", "images"), unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	p := filepath.Join(s.root, "images", strings.TrimPrefix(id, "sha256:"))
	r := Record{ID: id, DiffIDs: diffIDs}
	if old, err := s.readRecord(p); err == nil {
		r.Refs = old.Refs
	}
	if !contains(r.Refs, ref) {
		r.Refs = append(r.Refs, ref)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Store) readRecord(p string) (Record, error) {
	var r Record
	data, err := os.ReadFile(p)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("%w: image record %s: %w", ErrCorrupt, p, err)
	}
	return r, nil
}

// Images lists the records of the images loaded into the store.
func (s *Store) Images() ([]Record, error) {
	names, err := filepath.Glob(filepath.Join(s.root, "images", "*"))
	if err != nil {
		return nil, err
	}
	var out []Record
	for _, n := range names {
		if strings.HasSuffix(n, ".tmp") {
			continue
		}
		r, err := s.readRecord(n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Layers lists the diff IDs of the layers in the store, sorted.
func (s *Store) Layers() ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(s.root, "layers"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		out = append(out, "sha256:"+e.Name())
	}
	sort.Strings(out)
	return out, nil
}

// Remove forgets the image whose ID (its config's digest, or a unique prefix of
// its hex digits) or one of whose references is given; Prune then removes the
// layers that no other image uses.
func (s *Store) Remove(image string) error {
	unlock, err := lock(filepath.Join(s.root, "locks", "images"), unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	imgs, err := s.Images()
	if err != nil {
		return err
	}
	var match []Record
	for _, r := range imgs {
		hex := strings.TrimPrefix(r.ID, "sha256:")
		if image != "" && (r.ID == image || strings.HasPrefix(hex, image) || contains(r.Refs, image)) {
			match = append(match, r)
		}
	}
	if len(match) != 1 {
		return fmt.Errorf("%w: %d images match %q", ErrNotFound, len(match), image)
	}
	return os.Remove(filepath.Join(s.root, "images", strings.TrimPrefix(match[0].ID, "sha256:")))
}

// Prune removes the layers that no image of the store uses, and what failed
// unpacks left, and returns the diff IDs of the layers it removed. It waits for
// loads under way; it does not know of running sandboxes, whose layers are in
// use only as long as an image that they came from is in the store.
func (s *Store) Prune() ([]string, error) {
	unlock, err := lock(filepath.Join(s.root, "lock"), unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, r := range imgs {
		for _, d := range r.DiffIDs {
			used[d] = true
		}
	}
	layers, err := s.Layers()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, d := range layers {
		if used[d] {
			continue
		}
		dir, _ := s.LayerDir(d)
		// Out of layers/ first, so that no load finds it half removed.
		gone, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "prune-")
		if err != nil {
			return removed, err
		}
		if err := os.Rename(dir, filepath.Join(gone, "layer")); err != nil {
			os.Remove(gone)
			return removed, err
		}
		if err := overlay.RemoveAll(gone); err != nil {
			return removed, err
		}
		os.Remove(filepath.Join(s.root, "locks", filepath.Base(dir)))
		removed = append(removed, d)
	}
	tmps, _ := filepath.Glob(filepath.Join(s.root, "tmp", "*"))
	for _, t := range tmps {
		if err := overlay.RemoveAll(t); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
