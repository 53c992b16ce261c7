package cgroup

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Update changes the limits of an existing cgroup, as an OCI runtime's
// `update` does: each field of r that is set is written, the others stay as
// they are; Pids of Unlimited lifts the process limit, Memory of Unlimited the
// memory limit (and the limit of memory plus swap, unless MemorySwap is -1 too
// or 0). r is validated first
// (a *ResourceError), then every controller it needs is checked: one that the
// cgroup is not in (on v1), or that its v2 directory does not have, fails with
// an error matching ErrNotSupported naming it, before anything is written.
// Device rules are not changed.
func (c *Cgroup) Update(r *Resources) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if c == nil {
		if r.IsZero() {
			return nil
		}
		return unsupported("resource limits", "the sandbox has no cgroup")
	}
	for _, ctrl := range r.Controllers() {
		if err := c.hasController(ctrl); err != nil {
			return err
		}
	}
	if c.version == 1 {
		return updateV1(c.v1, r)
	}
	if r.Pids == Unlimited {
		if err := writeFile(filepath.Join(c.v2dir, "pids.max"), "max"); err != nil {
			return err
		}
	}
	if r.Memory == Unlimited {
		if err := unlimitMemoryV2(c.v2dir); err != nil {
			return err
		}
	}
	return applyV2(c.v2dir, r)
}

// Controllers returns the controllers, by their v1 names, that r's limits are
// written to: "memory", "pids", "cpu", "cpuset", "blkio".
func (r *Resources) Controllers() []string {
	c := wanted(r)
	if r != nil && r.Pids == Unlimited {
		c = append(c, "pids")
	}
	if r != nil && r.Memory == Unlimited {
		c = append(c, "memory")
	}
	return c
}

// Extend puts a v1 cgroup in the hierarchies of the controllers ctrls (v1
// names) that it is not in yet, so that Update can write their limits: runc
// puts a container in every hierarchy when it creates it, Paddock only in
// those its limits, accounting and freezing need, since each costs every
// start a migration. The new directory has the path, below its hierarchy's
// mount, that the cgroup's directories have below theirs (the shortest, see
// relPath; a new cpuset
// directory gets its parent's CPUs and memory nodes); every process of the
// cgroup is moved into it, with the cgroup frozen meanwhile where it has a
// freezer (left frozen if it was). Dirs then lists the new directories, which
// whoever removes the cgroup must know. A controller the host does not mount
// fails with an error matching ErrNotSupported; on v2, Extend does nothing.
func (c *Cgroup) Extend(ctx context.Context, ctrls ...string) error {
	if c == nil {
		return unsupported("controllers "+strings.Join(ctrls, ", "), "the sandbox has no cgroup")
	}
	if c.version != 1 || len(c.dirs) == 0 {
		return nil
	}
	l, err := loadLayout()
	if err != nil {
		return err
	}
	var add []string
	for _, ctrl := range ctrls {
		if c.v1[ctrl] != "" || slices.Contains(add, ctrl) {
			continue
		}
		if l.v1[ctrl] == nil {
			return unsupported("controller "+ctrl, "not mounted")
		}
		add = append(add, ctrl)
	}
	if len(add) == 0 {
		return nil
	}
	rel, err := c.relPath(l)
	if err != nil {
		return err
	}
	if st, err := c.FreezerState(); err == nil && st != Frozen {
		if err := c.Freeze(ctx); err != nil {
			return err
		}
		defer c.Thaw(context.WithoutCancel(ctx))
	}
	for _, ctrl := range add {
		if err := c.extend(l, ctrl, rel); err != nil {
			return err
		}
	}
	return nil
}

// relPath returns the shortest of the paths that the cgroup's v1 directories
// have below the mounts of their hierarchies: the caller that created it was
// in the root of most hierarchies, and in a deeper cgroup of some (a service
// manager's memory accounting, say), which a new directory need not copy.
func (c *Cgroup) relPath(l *layout) (string, error) {
	best := ""
	for _, d := range c.dirs {
		for _, h := range l.v1 {
			if rel, ok := strings.CutPrefix(d, h.mountpoint+"/"); ok && (best == "" || len(rel) < len(best)) {
				best = rel
			}
		}
	}
	if best == "" {
		return "", fileError("find the hierarchy of", c.dirs[0], "", os.ErrNotExist)
	}
	return "/" + best, nil
}

// extend makes the cgroup's directory in the hierarchy of ctrl and moves its
// processes into it.
func (c *Cgroup) extend(l *layout, ctrl, rel string) error {
	h := l.v1[ctrl]
	dir := filepath.Join(h.mountpoint, rel)
	if !slices.Contains(c.dirs, dir) {
		_, _, err := makeDirs(h, path.Join(h.root, rel), shares(l, h, "cpuset"), nil, true)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		c.dirs = slices.Insert(c.dirs, len(c.dirs)-btoi(c.v2dir != ""), dir)
	}
	for _, other := range v1ControllersOf(dir) {
		c.v1[other] = dir
	}
	pids, err := readPids(filepath.Join(c.dirs[0], "cgroup.procs"))
	if err != nil {
		return err
	}
	for _, pid := range pids {
		err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid))
		if err != nil && !errors.Is(err, unix.ESRCH) {
			return err
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// hasController checks that the cgroup can take limits of controller ctrl (a
// v1 name).
func (c *Cgroup) hasController(ctrl string) error {
	if c.version == 1 {
		if c.v1[ctrl] == "" {
			return unsupported("controller "+ctrl, "the cgroup "+c.name+" was not created in its hierarchy")
		}
		return nil
	}
	if !containsField(filepath.Join(c.v2dir, "cgroup.controllers"), v2Name(ctrl)) {
		return unsupported("controller "+v2Name(ctrl), "not enabled in "+c.v2dir)
	}
	return nil
}

func containsField(p, word string) bool {
	for _, f := range readFields(p) {
		if f == word {
			return true
		}
	}
	return false
}

// updateV1 writes r into v1 directories. A new memory limit above the current
// limit of memory plus swap is written after that one is raised: the kernel
// refuses a memory limit above it.
func updateV1(dirs map[string]string, r *Resources) error {
	if d := dirs["pids"]; d != "" && r.Pids == Unlimited {
		if err := writeFile(filepath.Join(d, "pids.max"), "max"); err != nil {
			return err
		}
	}
	if d := dirs["memory"]; d != "" && r.Memory == Unlimited {
		if err := unlimitMemoryV1(d); err != nil {
			return err
		}
	}
	if d := dirs["memory"]; d != "" && r.Memory > 0 {
		memsw := filepath.Join(d, "memory.memsw.limit_in_bytes")
		swap := r.MemorySwap
		if swap == 0 {
			swap = r.Memory
		}
		if cur, err := readUint(memsw); err == nil && (swap == -1 || uint64(swap) > cur) {
			if err := writeFile(memsw, strconv.FormatInt(swap, 10)); err != nil {
				return err
			}
		}
	}
	if r.IOWeight != 0 && dirs["blkio"] != "" {
		if err := blkioWeightFile(dirs["blkio"]); err != nil {
			return err
		}
	}
	return applyV1(dirs, r, nil)
}

// unlimitMemoryV1 lifts a v1 directory's memory limit, and its limit of memory
// plus swap first where the kernel accounts swap: the kernel refuses a memory
// limit above that one.
func unlimitMemoryV1(d string) error {
	if memsw := filepath.Join(d, "memory.memsw.limit_in_bytes"); exists(memsw) {
		if err := writeFile(memsw, "-1"); err != nil {
			return err
		}
	}
	return writeFile(filepath.Join(d, "memory.limit_in_bytes"), "-1")
}

// unlimitMemoryV2 lifts a v2 directory's memory limit, and its swap limit
// where it has one, as runc does for a memory limit of -1.
func unlimitMemoryV2(d string) error {
	if err := writeFile(filepath.Join(d, "memory.max"), "max"); err != nil {
		return err
	}
	if swap := filepath.Join(d, "memory.swap.max"); exists(swap) {
		return writeFile(swap, "max")
	}
	return nil
}

// blkioWeightFile checks that a v1 blkio directory has a weight to set.
func blkioWeightFile(d string) error {
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		if _, err := os.Stat(filepath.Join(d, f)); err == nil {
			return nil
		}
	}
	return unsupported("blkio weight", "no blkio.weight or blkio.bfq.weight in "+strings.TrimSuffix(d, "/")+" (no proportional I/O scheduler)")
}
