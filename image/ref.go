package image

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The transports of a Ref, as skopeo and podman name them.
const (
	// OCILayout is an OCI image layout directory: oci:DIR[:TAG|@DIGEST].
	OCILayout = "oci"
	// OCIArchive is a tar archive of an OCI image layout: oci-archive:FILE[:TAG].
	OCIArchive = "oci-archive"
	// DockerArchive is what docker save and podman save write:
	// docker-archive:FILE[:NAME:TAG].
	DockerArchive = "docker-archive"
)

// A Ref names an image on the local filesystem.
type Ref struct {
	// Transport is OCILayout, OCIArchive or DockerArchive.
	Transport string
	// Path is the layout directory or the archive file, made absolute.
	Path string
	// Tag selects an image of a layout by its org.opencontainers.image.ref.name
	// annotation, or of a docker archive by its RepoTags entry; "" takes the only
	// image.
	Tag string
	// Digest selects an image of a layout by its manifest's digest.
	Digest string
}

// String returns the reference as ParseRef reads it.
func (r Ref) String() string {
	s := r.Transport + ":" + r.Path
	if r.Digest != "" {
		return s + "@" + r.Digest
	}
	if r.Tag != "" {
		return s + ":" + r.Tag
	}
	return s
}

// ParseRef reads oci:DIR[:TAG|@DIGEST], oci-archive:FILE[:TAG] or
// docker-archive:FILE[:NAME:TAG]. The path ends at the first ":" or "@" after
// it, so a path that holds either cannot be named.
func ParseRef(s string) (Ref, error) {
	transport, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Ref{}, fmt.Errorf("%w: reference %q: want oci:DIR, oci-archive:FILE or docker-archive:FILE", ErrInvalid, s)
	}
	var r Ref
	switch transport {
	case OCILayout, OCIArchive, DockerArchive:
		r.Transport = transport
	default:
		return Ref{}, fmt.Errorf("%w: reference %q: unknown transport %q (want oci, oci-archive or docker-archive)", ErrInvalid, s, transport)
	}
	p := rest
	if i := strings.IndexAny(rest, ":@"); i >= 0 {
		p = rest[:i]
		if rest[i] == '@' {
			r.Digest = rest[i+1:]
		} else {
			r.Tag = rest[i+1:]
		}
	}
	if p == "" || (r.Digest == "" && r.Tag == "" && len(p) < len(rest)) {
		return Ref{}, fmt.Errorf("%w: reference %q: empty path, tag or digest", ErrInvalid, s)
	}
	if r.Digest != "" && (r.Transport != OCILayout || !validDigest(r.Digest)) {
		return Ref{}, fmt.Errorf("%w: reference %q: a digest (sha256: and 64 hex digits) selects an image of an oci: layout only", ErrInvalid, s)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Ref{}, fmt.Errorf("%w: reference %q: %w", ErrInvalid, s, err)
	}
	r.Path = abs
	return r, nil
}

// validDigest reports whether d is "sha256:" and 64 lower-case hex digits.
func validDigest(d string) bool {
	hex, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
