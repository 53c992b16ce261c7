package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

// An Image is an image loaded into a Store: its layers unpacked, its
// configuration read.
type Image struct {
	// Ref is where it was loaded from.
	Ref Ref
	// ID is the digest of its configuration.
	ID string
	// DiffIDs and Layers are its layers' diff IDs and directories in the store,
	// lowest first.
	DiffIDs []string
	Layers  []string
	// Config is how it runs.
	Config Config
}

// Lower returns the layers' directories highest first, as overlayfs's
// lowerdir= (and overlay.Spec.Lower) takes them.
func (img *Image) Lower() []string {
	out := slices.Clone(img.Layers)
	slices.Reverse(out)
	return out
}

// Load reads the image that ref names (see ParseRef), unpacks the layers that
// the store does not hold yet and records the image in the store. A layer whose
// content does not match its diff ID, or that the unpacker refuses, fails with a
// *LayerError matching ErrCorrupt and leaves nothing in the store.
func Load(ref string, s *Store) (*Image, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	unlock, err := lock(filepath.Join(s.root, "lock"), unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer unlock()
	src, cleanup, err := s.open(r)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return s.load(r, src)
}

// open returns the v1.Image that r names.
func (s *Store) open(r Ref) (v1.Image, func(), error) {
	nothing := func() {}
	switch r.Transport {
	case DockerArchive:
		var tag *name.Tag
		if r.Tag != "" {
			t, err := name.NewTag(r.Tag)
			if err != nil {
				return nil, nothing, fmt.Errorf("%w: %s: tag: %w", ErrInvalid, r, err)
			}
			tag = &t
		}
		img, err := tarball.ImageFromPath(r.Path, tag)
		if err != nil {
			return nil, nothing, fmt.Errorf("%w: %s: %w", ErrNotFound, r, err)
		}
		return img, nothing, nil
	case OCIArchive:
		dir, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "archive-")
		if err != nil {
			return nil, nothing, err
		}
		cleanup := func() { os.RemoveAll(dir) }
		if err := extractLayout(r.Path, dir); err != nil {
			cleanup()
			return nil, nothing, fmt.Errorf("%s: %w", r, err)
		}
		img, err := openLayout(dir, r)
		if err != nil {
			cleanup()
			return nil, nothing, err
		}
		return img, cleanup, nil
	}
	img, err := openLayout(r.Path, r)
	return img, nothing, err
}

// openLayout returns the image of the layout dir that r selects, checking its
// manifest against the digest that the index gives.
func openLayout(dir string, r Ref) (v1.Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, r, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, r, err)
	}
	for depth := 0; depth < 4; depth++ {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: index: %w", ErrCorrupt, r, err)
		}
		d, err := pick(im.Manifests, r, depth == 0)
		if err != nil {
			return nil, err
		}
		if !d.MediaType.IsIndex() {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, r, err)
			}
			return img, checkManifest(img, d.Digest, r)
		}
		if idx, err = idx.ImageIndex(d.Digest); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrNotFound, r, err)
		}
	}
	return nil, fmt.Errorf("%w: %s: indexes nested too deep", ErrCorrupt, r)
}

// pick chooses the descriptor that r selects from an index: by digest or tag at
// the top, else the one for this platform, else the only one.
func pick(ds []v1.Descriptor, r Ref, top bool) (v1.Descriptor, error) {
	var match []v1.Descriptor
	for _, d := range ds {
		switch {
		case top && r.Digest != "":
			if d.Digest.String() == r.Digest {
				match = append(match, d)
			}
		case top && r.Tag != "":
			if d.Annotations[ocispec.AnnotationRefName] == r.Tag {
				match = append(match, d)
			}
		case d.Platform == nil || (d.Platform.OS == runtime.GOOS && d.Platform.Architecture == runtime.GOARCH):
			match = append(match, d)
		}
	}
	if len(match) == 0 {
		return v1.Descriptor{}, fmt.Errorf("%w: %s: no such image in the layout", ErrNotFound, r)
	}
	if len(match) > 1 && (r.Digest == "" || !top) {
		return v1.Descriptor{}, fmt.Errorf("%w: %s: %d images match: name one by tag or digest", ErrNotFound, r, len(match))
	}
	return match[0], nil
}

// checkManifest checks an image's manifest against its digest.
func checkManifest(img v1.Image, want v1.Hash, r Ref) error {
	raw, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("%w: %s: manifest: %w", ErrCorrupt, r, err)
	}
	if got := digestOf(raw); got != want.String() {
		return fmt.Errorf("%w: %s: manifest has digest %s, not %s", ErrCorrupt, r, got, want)
	}
	return nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// load unpacks the layers of img and reads its configuration.
func (s *Store) load(r Ref, img v1.Image) (*Image, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: configuration: %w", ErrCorrupt, r, err)
	}
	out := &Image{Ref: r, ID: digestOf(raw)}
	if r.Transport != DockerArchive {
		m, err := img.Manifest()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: manifest: %w", ErrCorrupt, r, err)
		}
		if m.Config.Digest.String() != out.ID {
			return nil, fmt.Errorf("%w: %s: configuration has digest %s, not %s", ErrCorrupt, r, out.ID, m.Config.Digest)
		}
	}
	cf, err := v1.ParseConfigFile(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: configuration: %w", ErrCorrupt, r, err)
	}
	for _, h := range cf.RootFS.DiffIDs {
		dir, err := s.layer(h.String(), func() (io.ReadCloser, error) {
			l, err := img.LayerByDiffID(h)
			if err != nil {
				return nil, err
			}
			return l.Uncompressed()
		})
		if err != nil {
			return nil, err
		}
		out.DiffIDs, out.Layers = append(out.DiffIDs, h.String()), append(out.Layers, dir)
	}
	if len(out.Layers) == 0 {
		return nil, fmt.Errorf("%w: %s: the image has no layer", ErrCorrupt, r)
	}
	if out.Config, err = configFrom(cf, out.Layers); err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	return out, s.record(out.ID, r.String(), out.DiffIDs)
}

// extractLayout extracts an OCI archive's layout (index.json, oci-layout and
// blobs) into dir. It takes regular files and directories only, refuses ".."
// and writes through an os.Root, which keeps every path inside dir.
func extractLayout(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: reading the archive: %w", ErrCorrupt, err)
		}
		rel, err := cleanPath(h.Name)
		if err != nil {
			return fmt.Errorf("%w: archive entry %q: %w", ErrCorrupt, h.Name, err)
		}
		if rel == "" {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = root.MkdirAll(rel, 0o700)
		case tar.TypeReg:
			err = extractFile(root, rel, tr)
		}
		if err != nil {
			return fmt.Errorf("archive entry %q: %w", h.Name, err)
		}
	}
}

func extractFile(root *os.Root, rel string, r io.Reader) error {
	if d := filepath.Dir(rel); d != "." {
		if err := root.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}

// Env returns the image's environment (for sandbox.WithImage).
func (img *Image) Env() []string { return slices.Clone(img.Config.Env) }

// Workdir returns the image's working directory, or "" (for sandbox.WithImage).
func (img *Image) Workdir() string { return img.Config.WorkingDir }

// User returns the image's user resolved to IDs, and whether the image names
// one (for sandbox.WithImage).
func (img *Image) User() (uid, gid uint32, groups []uint32, ok bool) {
	c := img.Config
	return c.UID, c.GID, slices.Clone(c.Groups), c.User != ""
}
