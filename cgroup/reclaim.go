package cgroup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// Children returns the names of the cgroups below the Planner's parent, in every
// hierarchy it creates cgroups in, each name once.
func (pl *Planner) Children() ([]string, error) {
	var names []string
	var first error
	for _, parent := range pl.parents() {
		ents, err := os.ReadDir(parent)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && first == nil {
				first = fileError("read", parent, "", err)
			}
			continue
		}
		for _, e := range ents {
			if e.IsDir() && !slices.Contains(names, e.Name()) {
				names = append(names, e.Name())
			}
		}
	}
	return names, first
}

// Reclaim removes the cgroups below the Planner's parent, in every hierarchy it
// creates cgroups in, whose name stale accepts, with the cgroups below them. Only
// empty cgroups can be removed: it returns the names of those left because a
// process is still in them. The caller decides what is stale: package sandbox
// names a cgroup after its creator's owner ID, whose liveness lock tells whether
// the creator lives; emptiness alone proves nothing, since on cgroup v1 a new
// cgroup is empty between its mkdir and the first process joining it.
func (pl *Planner) Reclaim(stale func(name string) bool) (busy []string, err error) {
	names, err := pl.Children()
	for _, name := range names {
		if !stale(name) {
			continue
		}
		for _, parent := range pl.parents() {
			if !removeEmptyTree(filepath.Join(parent, name)) && !slices.Contains(busy, name) {
				busy = append(busy, name)
			}
		}
	}
	return busy, err
}

// parents returns the parent directories of the Planner's cgroups: one per v1
// hierarchy it uses, and the unified one's.
func (pl *Planner) parents() []string {
	var dirs []string
	if pl.need.Version == 1 {
		for _, ctrl := range pl.need.Controllers {
			d := pl.l.v1[ctrl].dir(resolveParent(pl.spec.Parent, pl.own.V1[ctrl]))
			if !slices.Contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	if pl.need.Version == 2 || pl.need.Unified {
		dirs = append(dirs, pl.l.v2.dir(resolveParent(pl.spec.Parent, pl.own.V2)))
	}
	return dirs
}

// removeEmptyTree removes the cgroup directory dir and the ones below it,
// deepest first, and reports whether dir is gone.
func removeEmptyTree(dir string) bool {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := unix.Rmdir(dirs[i]); err != nil && err != unix.ENOENT {
			return false
		}
	}
	return true
}
