package cgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Update changes the limits of an existing cgroup, as an OCI runtime's
// `update` does: each field of r that is set is written, the others stay as
// they are; Pids of Unlimited lifts the process limit. r is validated first
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
	need := wanted(r)
	if r.Pids == Unlimited {
		need = append(need, "pids")
	}
	for _, ctrl := range need {
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
	return applyV2(c.v2dir, r)
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

// blkioWeightFile checks that a v1 blkio directory has a weight to set.
func blkioWeightFile(d string) error {
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		if _, err := os.Stat(filepath.Join(d, f)); err == nil {
			return nil
		}
	}
	return unsupported("blkio weight", "no blkio.weight or blkio.bfq.weight in "+strings.TrimSuffix(d, "/")+" (no proportional I/O scheduler)")
}
