package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// A start whose mount of a host path fails with EACCES fails for good: the
// sandbox's root, another user of the host where its user namespace maps it
// elsewhere, may not reach the path (a directory on its way that only the
// host's root may search, such as a bundle under a 0700 directory). A new
// plan of the filesystem would not change that, so Start does not try again
// (see replanAfter); explainAccess names the directory in the error.

// deniedAccess reports whether err is a start's failure with EACCES.
func deniedAccess(err error) (*ChildError, bool) {
	var ce *ChildError
	return ce, errors.As(err, &ce) && ce.Errno == syscall.EACCES
}

// explainAccess adds to a start's EACCES failure the host path the step
// reads and, where it finds one, the directory on its way that the sandbox's
// root may not search.
func (t *Template) explainAccess(ce *ChildError) {
	src := t.stepSource(ce)
	if src == "" || ce.Detail != "" {
		return
	}
	uid, gid := rootOnHost(t.plan.IDs.UIDMap), rootOnHost(t.plan.IDs.GIDMap)
	if uid < 0 || gid < 0 {
		ce.Detail = "the sandbox's root may not reach " + src
		return
	}
	if dir, mode, owner := unsearchable(src, uint32(uid), uint32(gid)); dir != "" {
		ce.Detail = fmt.Sprintf("the sandbox's root, uid %d on the host, may not reach %s: %s (mode %04o, owner %d) is on the way", uid, src, dir, mode, owner)
		return
	}
	ce.Detail = fmt.Sprintf("the sandbox's root, uid %d on the host, may not reach %s", uid, src)
}

// stepSource returns the host path of the filesystem step that failed: its
// source (a bind's, the root directory's), or "" where the step has none.
func (t *Template) stepSource(ce *ChildError) string {
	for _, st := range t.plan.Filesystem.Steps {
		if st.What == ce.Step && st.Stage == ce.Stage && filepath.IsAbs(st.Source) && st.Action != mounts.ActSymlink {
			return st.Source
		}
	}
	return ""
}

// rootOnHost returns the host ID that ID 0 of a user namespace maps to, or -1.
func rootOnHost(m []namespace.IDMap) int64 {
	for _, e := range m {
		if e.ContainerID == 0 && e.Size > 0 {
			return int64(e.HostID)
		}
	}
	return -1
}

// unsearchable returns the first directory on the way to path (path itself
// included) that uid and gid, without capabilities over it, may not search,
// with its mode and owner; "" where none is found.
func unsearchable(path string, uid, gid uint32) (string, uint32, uint32) {
	dir := "/"
	for _, part := range append([]string{""}, strings.Split(strings.Trim(filepath.Clean(path), "/"), "/")...) {
		dir = filepath.Join(dir, part)
		var st unix.Stat_t
		if unix.Stat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return "", 0, 0
		}
		bit := uint32(0o001)
		switch {
		case st.Uid == uid:
			bit = 0o100
		case st.Gid == gid:
			bit = 0o010
		}
		if st.Mode&bit == 0 {
			return dir, st.Mode & uint32(os.ModePerm), st.Uid
		}
	}
	return "", 0, 0
}
