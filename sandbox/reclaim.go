package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"golang.org/x/sys/unix"
)

// The prefixes of what a Template creates on the host, followed by the creating
// process's owner ID (package internal/owner) and a dash.
const (
	stagingPrefix = "paddock-root-"
	cgroupPrefix  = "sandbox-"
)

// The owner ID of this process is held while something that carries it lives: an
// open Template (its staging directory) or a started Process with a cgroup. When
// the last one ends, the lock file is removed, so that a process leaves nothing
// behind in the lock directory; the next Build takes a new ID.
var owned struct {
	mu       sync.Mutex
	n        int
	fallback string // an ID of the same form, where no lock can be had
}

// holdOwner counts one more user of the owner ID and returns it, taking the
// liveness lock on first use. Where no lock can be had, it returns a random ID
// that no one will ever judge dead: what carries it is never reclaimed by others.
func holdOwner() string {
	owned.mu.Lock()
	defer owned.mu.Unlock()
	owned.n++
	if o, err := owner.Self(); err == nil {
		return o.ID
	}
	if owned.fallback == "" {
		var b [8]byte
		rand.Read(b[:])
		owned.fallback = hex.EncodeToString(b[:])
	}
	return owned.fallback
}

// dropOwner ends one use that holdOwner counted, and releases the lock after the
// last.
func dropOwner() {
	owned.mu.Lock()
	defer owned.mu.Unlock()
	if owned.n--; owned.n == 0 {
		owner.Release()
	}
}

// ownerOf returns the owner ID in name, which begins with prefix.
func ownerOf(name, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) < 17 || rest[16] != '-' || !owner.ValidID(rest[:16]) {
		return "", false
	}
	return rest[:16], true
}

// Reclaim removes what callers that died left behind (SIGKILL runs no cleanup):
// the staging directories of their Templates in the temporary directory, and the
// cgroups of their sandboxes below the cgroup parent of the Spec that opts make
// (the default parent without options). Only what carries the owner ID of a
// process whose liveness lock can be taken is removed, and of that only empty
// directories: a live sandbox's cgroup or staging directory is never touched. Build
// runs a pass itself, at most one at a time and one every ten seconds per process;
// Reclaim runs one now, for a long-lived process that builds rarely.
func Reclaim(opts ...Option) error {
	s := NewBuilder(opts...).Spec()
	var pl *cgroup.Planner
	if !s.NoCgroup {
		// Without the limits that may fall back to rlimits (memory and pids,
		// whose hierarchies are planned anyway): the presets' pids limit, which
		// an unprivileged caller's cgroup cannot enforce, must not stop the pass.
		cs := s.Cgroup
		cs.Resources = s.CgroupOnly()
		var err error
		if pl, err = cgroup.NewPlanner(&cs); err != nil && !errors.Is(err, cgroup.ErrNotSupported) {
			return err
		}
		if pl != nil {
			defer pl.Close()
		}
	}
	return reclaim(pl)
}

// reclaim is one pass over the staging directories and, with pl, the cgroups.
func reclaim(pl *cgroup.Planner) error {
	tmp := os.TempDir()
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	staging := map[string][]string{}
	for _, e := range ents {
		if id, ok := ownerOf(e.Name(), stagingPrefix); ok && e.IsDir() {
			staging[id] = append(staging[id], filepath.Join(tmp, e.Name()))
		}
	}
	ids := map[string]bool{}
	for id := range staging {
		ids[id] = true
	}
	for _, id := range owner.Known() {
		ids[id] = true
	}
	if pl != nil {
		names, _ := pl.Children()
		for _, name := range names {
			if id, ok := ownerOf(name, cgroupPrefix); ok {
				ids[id] = true
			}
		}
	}
	for id := range ids {
		reclaimOwner(id, staging[id], pl)
	}
	return nil
}

// reclaimOwner removes the staging directories and cgroups of owner id if it is
// dead, and its lock file once nothing of it is left.
func reclaimOwner(id string, staging []string, pl *cgroup.Planner) {
	d := owner.IfDead(id)
	if d == nil {
		return
	}
	all := true
	uid := uint32(os.Geteuid())
	for _, dir := range staging {
		var st unix.Stat_t
		if unix.Lstat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uid {
			continue
		}
		if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT {
			all = false
		}
	}
	if pl != nil {
		busy, _ := pl.Reclaim(func(name string) bool {
			got, ok := ownerOf(name, cgroupPrefix)
			return ok && got == id
		})
		all = all && len(busy) == 0
	}
	if all {
		d.Release()
	} else {
		d.Keep()
	}
}

// reclaimEvery is the least time between two passes that Builds of a process run.
const reclaimEvery = 10 * time.Second

var (
	reclaiming  atomic.Bool
	lastReclaim atomic.Int64 // unix nanoseconds of the last pass's start
)

// reclaimSoon runs a pass over what dead callers left, in the calling Build, unless
// another Build runs one or one ran less than reclaimEvery ago: a process's first
// Build pays for it, and one in every ten seconds after. pl is the cgroup planner
// of the Template being built, or nil. (In the background, a pass would hold
// descriptors and touch the host at times the caller cannot see.)
func reclaimSoon(pl *cgroup.Planner) {
	now := time.Now().UnixNano()
	if now-lastReclaim.Load() < int64(reclaimEvery) || !reclaiming.CompareAndSwap(false, true) {
		return
	}
	defer reclaiming.Store(false)
	lastReclaim.Store(now)
	reclaim(pl)
}
