package sandbox

import (
	"strings"
	"sync/atomic"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// warmForkOnly makes every pool keep fork-mode children, for the benchmarks
// that compare the two modes.
var warmForkOnly atomic.Bool

// refillDelay, a time.Duration, delays the refill after a pooled start, for
// the benchmarks that measure a start without the refill beside it.
var refillDelay atomic.Int64

// sharesMemory reports whether t's warm children may share the caller's memory
// (child.SpawnShared) instead of forking a copy of it. A shared child must not
// change what the kernel keeps per mm rather than per process: so the
// child's credentials must stay the caller's kernel IDs (a change of euid,
// egid, fsuid or fsgid resets the dumpable flag of the caller's mm, which
// would make the caller undumpable and its /proc files root's), it must not
// write oom_score_adj (which the kernel copies to every process of the mm),
// and must not join a user or time namespace (setns refuses a process that
// shares its mm). Nor may it wait in a memory cgroup that can run out of
// memory without the caller's: the OOM killer rates a process by its mm's
// pages, so it would take a warm child for the caller's whole heap, and kill
// every process of that mm, the caller with it. A Template that does any of
// these keeps fork-mode children.
func (t *Template) sharesMemory() bool {
	pl := t.plan
	if pl.Process.OOMScoreAdj != nil || pl.IDs.Auto != nil ||
		pl.Get(namespace.User).Mode == namespace.Join || pl.Get(namespace.Time).Mode == namespace.Join ||
		t.ownMemoryBound() {
		return false
	}
	return keepsCallerIDs(pl, uint32(unix.Geteuid()), uint32(unix.Getegid()))
}

// ownMemoryBound reports whether a start's cgroup may have a memory limit that
// the caller's cgroup does not share: a limit of its own, or a place outside
// the caller's cgroup (an absolute Parent or Path), whose ancestors may have
// one. The default place, below the caller's own cgroup, shares every limit
// above the caller's.
func (t *Template) ownMemoryBound() bool {
	if t.cgroup == nil {
		return false
	}
	c := &t.spec.Cgroup
	if r := c.Resources; r != nil && (r.Memory > 0 || r.MemorySwap > 0) {
		return true
	}
	return strings.HasPrefix(c.Parent, "/") || strings.HasPrefix(c.Path, "/")
}

// keepsCallerIDs reports whether every identity the child takes is, seen from
// the caller's user namespace, the caller's euid and egid: root of a new user
// namespace (which the child becomes first) and the target's user and group.
func keepsCallerIDs(pl *plan.Plan, euid, egid uint32) bool {
	ids := &pl.IDs
	if pl.Get(namespace.User).Mode != namespace.New {
		return ids.User == euid && ids.Group == egid
	}
	for _, in := range [...]uint32{0, ids.User} {
		if out, ok := hostID(ids.UIDMap, in); !ok || out != euid {
			return false
		}
	}
	for _, in := range [...]uint32{0, ids.Group} {
		if out, ok := hostID(ids.GIDMap, in); !ok || out != egid {
			return false
		}
	}
	return true
}

// hostID returns what id inside maps to outside, and whether m maps it.
func hostID(m []namespace.IDMap, id uint32) (uint32, bool) {
	for _, r := range m {
		if id >= r.ContainerID && id-r.ContainerID < r.Size {
			return r.HostID + id - r.ContainerID, true
		}
	}
	return 0, false
}
