package mounts

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// rootStage names the steps that make the root in errors, as package overlay's do.
const rootStage = "root filesystem"

// CheckRootDir checks dir as a sandbox's root directory (see PlanRootDir): an
// absolute path without a NUL byte, of an existing directory that is not the
// host's own "/" (a sandbox that keeps the host's root has no root of its own).
// The error matches ErrInvalid.
func CheckRootDir(dir string) error {
	switch {
	case !filepath.IsAbs(dir):
		return fmt.Errorf("%w: root directory %q is not an absolute path", ErrInvalid, dir)
	case strings.IndexByte(dir, 0) >= 0:
		return fmt.Errorf("%w: root directory %q holds a NUL byte", ErrInvalid, dir)
	case filepath.Clean(dir) == "/":
		return fmt.Errorf("%w: the root directory is the host's /: keep the host's root instead (no root filesystem of the sandbox's own)", ErrInvalid)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%w: root directory: %w", ErrInvalid, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: root directory %s: %w", ErrInvalid, dir, unix.ENOTDIR)
	}
	return nil
}

// PlanRootDir returns the child's step that makes the host directory dir the
// sandbox's root, as runc makes a bundle's root.path: a recursive bind of dir
// (with the mounts beneath it, each keeping its own flags) on newRoot, an empty
// directory of the host that the child covers in its own mount namespace only.
// Plan then works inside it (with Env.NewRoot set to newRoot) as inside an
// overlay root: every later path is resolved inside the root by descriptor, the
// child pivots into it, and ReadonlyRoot makes it read-only. What the sandbox
// writes lands in dir itself, the mount points that the setup creates included.
//
// The child runs it in its new mount namespace, after the PlanPropagation step:
// the bind never propagates to the host.
func PlanRootDir(dir, newRoot string) ([]Step, error) {
	if err := CheckRootDir(dir); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(newRoot) {
		return nil, fmt.Errorf("%w: new root %q is not an absolute path", ErrInvalid, newRoot)
	}
	dir, newRoot = filepath.Clean(dir), filepath.Clean(newRoot)
	const flags = unix.MS_BIND | unix.MS_REC
	return []Step{{Action: ActBind, Stage: rootStage, Path: newRoot, Source: dir, Flags: flags, FlagText: FlagString(flags),
		What: fmt.Sprintf("bind the root directory %s on %s (%s)", dir, newRoot, FlagString(flags))}}, nil
}
