package overlay

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Changes is what a sandbox changed in its root filesystem, as read from an upper
// layer. Paths are absolute as the sandbox saw them ("/etc/passwd"), sorted.
type Changes struct {
	// Added holds paths that no lower layer shows.
	Added []string `json:"added,omitempty"`
	// Modified holds paths that replace a lower entry: a file written or recreated,
	// or a directory made opaque or given another mode or owner. A directory merely
	// copied up because something inside it changed is not listed.
	Modified []string `json:"modified,omitempty"`
	// Deleted holds paths that a whiteout hides, and, when lowers are given, the
	// lower entries hidden by an opaque directory.
	Deleted []string `json:"deleted,omitempty"`
	// Opaque holds directories whose lower contents are hidden as a whole.
	Opaque []string `json:"opaque,omitempty"`
}

const (
	whPrefix  = ".wh."
	whOpaque  = ".wh..wh..opq"
	xOpaque   = "overlay.opaque"
	xWhiteout = "overlay.whiteout"
)

// Diff walks the upper layer of an overlay that is no longer mounted (or not written
// to) and reports its changes. Whiteouts are 0:0 character devices, aufs-style
// ".wh." files, or files carrying an overlay.whiteout attribute; opaque directories
// carry overlay.opaque = "y" in the trusted namespace, or in the user namespace for an
// overlay mounted with userxattr (both are read; trusted.* needs root).
//
// Telling added from modified needs the lower layers, highest first as in
// Spec.Lower; without them every entry that is not a whiteout is reported as Added.
func Diff(upper string, lowers ...string) (*Changes, error) {
	if _, err := checkDir("upper", upper); err != nil {
		return nil, err
	}
	c := &Changes{}
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == upper {
			return nil
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, upper+"/"))
		name := d.Name()
		dir := filepath.Dir(rel)
		switch {
		case name == whOpaque:
			c.Opaque = append(c.Opaque, dir)
			return nil
		case strings.HasPrefix(name, whPrefix):
			c.Deleted = append(c.Deleted, filepath.Join(dir, strings.TrimPrefix(name, whPrefix)))
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if isWhiteout(p, &st) {
			c.Deleted = append(c.Deleted, rel)
			return nil
		}
		lst, inLower := lowerLookup(lowers, rel)
		if d.IsDir() {
			opaque := hasXattr(p, xOpaque, "y")
			if opaque {
				c.Opaque = append(c.Opaque, rel)
			}
			switch {
			case !inLower:
				c.Added = append(c.Added, rel)
			case opaque || lst.Mode&unix.S_IFMT != unix.S_IFDIR || lst.Mode != st.Mode || lst.Uid != st.Uid || lst.Gid != st.Gid:
				c.Modified = append(c.Modified, rel)
			}
			return nil
		}
		if inLower {
			c.Modified = append(c.Modified, rel)
		} else {
			c.Added = append(c.Added, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(lowers) > 0 {
		// Entries below an opaque directory that the lower view had and the upper
		// layer does not recreate are gone.
		for _, o := range c.Opaque {
			for _, name := range lowerNames(lowers, o) {
				rel := filepath.Join(o, name)
				if _, err := os.Lstat(filepath.Join(upper, rel)); errors.Is(err, fs.ErrNotExist) {
					c.Deleted = append(c.Deleted, rel)
				}
			}
		}
	}
	for _, l := range [][]string{c.Added, c.Modified, c.Deleted, c.Opaque} {
		sort.Strings(l)
	}
	c.Deleted = dedup(c.Deleted)
	c.Opaque = dedup(c.Opaque)
	return c, nil
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// isWhiteout reports an overlayfs whiteout: a character device 0:0, or an empty
// regular file marked with an overlay.whiteout attribute.
func isWhiteout(p string, st *unix.Stat_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return st.Rdev == 0
	case unix.S_IFREG:
		return st.Size == 0 && hasXattr(p, xWhiteout, "")
	}
	return false
}

// hasXattr reports whether p carries trusted.NAME or user.NAME, with value want
// unless want is empty.
func hasXattr(p, name, want string) bool {
	buf := make([]byte, 16)
	for _, ns := range []string{"trusted.", "user."} {
		n, err := unix.Lgetxattr(p, ns+name, buf)
		if err != nil {
			continue
		}
		if want == "" || string(buf[:n]) == want {
			return true
		}
	}
	return false
}

// lowerLookup finds rel in the merged view of the lower layers (highest first),
// honouring whiteouts and opaque directories inside them.
func lowerLookup(lowers []string, rel string) (*unix.Stat_t, bool) {
	for _, l := range lowers {
		p := filepath.Join(l, rel)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == nil {
			if isWhiteout(p, &st) {
				return nil, false
			}
			return &st, true
		}
		if hiddenBelow(l, rel) {
			return nil, false
		}
	}
	return nil, false
}

// hiddenBelow reports whether layer l hides rel from the layers under it: an ancestor
// of rel is a whiteout, a non-directory, or an opaque directory in l.
func hiddenBelow(l, rel string) bool {
	parts := strings.Split(strings.Trim(rel, "/"), "/")
	cur := l
	for i := 0; i < len(parts)-1; i++ {
		if _, err := os.Lstat(filepath.Join(cur, whPrefix+parts[i])); err == nil {
			return true
		}
		cur = filepath.Join(cur, parts[i])
		var st unix.Stat_t
		if err := unix.Lstat(cur, &st); err != nil {
			return false
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR || isWhiteout(cur, &st) || hasXattr(cur, xOpaque, "y") {
			return true
		}
		if _, err := os.Lstat(filepath.Join(cur, whOpaque)); err == nil {
			return true
		}
	}
	last := parts[len(parts)-1]
	_, err := os.Lstat(filepath.Join(cur, whPrefix+last))
	return err == nil
}

// lowerNames lists the names that the merged lower view shows in directory rel.
func lowerNames(lowers []string, rel string) []string {
	seen := map[string]bool{}
	var names []string
	for _, l := range lowers {
		dir := filepath.Join(l, rel)
		ents, err := os.ReadDir(dir)
		if err != nil {
			if _, lerr := os.Lstat(dir); lerr == nil || hiddenBelow(l, rel) {
				break // a non-directory or a whiteout hides the layers below
			}
			continue
		}
		opaque := hasXattr(dir, xOpaque, "y")
		for _, e := range ents {
			n := e.Name()
			if n == whOpaque {
				opaque = true
				continue
			}
			if strings.HasPrefix(n, whPrefix) {
				seen[strings.TrimPrefix(n, whPrefix)] = true
				continue
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			var st unix.Stat_t
			p := filepath.Join(dir, n)
			if unix.Lstat(p, &st) == nil && isWhiteout(p, &st) {
				continue
			}
			names = append(names, n)
		}
		if opaque {
			break
		}
	}
	return names
}
