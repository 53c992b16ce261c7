package owner

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The prefixes of what a sandbox Template creates on the host, followed by the
// creating process's owner ID and a dash.
const (
	// StagingPrefix begins the name of a Template's staging directory in the
	// temporary directory.
	StagingPrefix = "paddock-root-"
	// CgroupPrefix begins the name of a start's cgroup below the cgroup parent.
	CgroupPrefix = "sandbox-"
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

// Hold counts one more user of the owner ID and returns it, taking the liveness
// lock on first use. Where no lock can be had, it returns a random ID that no one
// will ever judge dead: what carries it is never reclaimed by others.
func Hold() string {
	owned.mu.Lock()
	defer owned.mu.Unlock()
	owned.n++
	if o, err := Self(); err == nil {
		return o.ID
	}
	if owned.fallback == "" {
		var b [8]byte
		rand.Read(b[:])
		owned.fallback = hex.EncodeToString(b[:])
	}
	return owned.fallback
}

// Drop ends one use that Hold counted, and releases the lock after the last.
func Drop() {
	owned.mu.Lock()
	defer owned.mu.Unlock()
	if owned.n--; owned.n == 0 {
		Release()
	}
}

// IDIn returns the owner ID in name, which begins with prefix.
func IDIn(name, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) < 17 || rest[16] != '-' || !ValidID(rest[:16]) {
		return "", false
	}
	return rest[:16], true
}

// Cgroups are the cgroups below a cgroup parent, as a cgroup.Planner lists and
// removes them.
type Cgroups interface {
	// Children returns the names of the cgroups below the parent.
	Children() ([]string, error)
	// Reclaim removes the empty cgroups whose names stale accepts and returns
	// those still busy.
	Reclaim(stale func(name string) bool) (busy []string, err error)
}

// Reclaim is one pass over what dead owners left behind: the staging directories
// in the temporary directory and, with cgs, the cgroups below its parent (nil for
// none). Only what carries the ID of an owner whose liveness lock can be taken is
// removed, and of that only empty directories.
func Reclaim(cgs Cgroups) error {
	tmp := filepath.Clean(os.TempDir())
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	staging := map[string][]string{}
	for _, e := range ents {
		if id, ok := IDIn(e.Name(), StagingPrefix); ok && e.IsDir() {
			staging[id] = append(staging[id], filepath.Join(tmp, e.Name()))
		}
	}
	ids := map[string]bool{}
	for id := range staging {
		ids[id] = true
	}
	for _, id := range Known() {
		ids[id] = true
	}
	if cgs != nil {
		names, _ := cgs.Children()
		for _, name := range names {
			if id, ok := IDIn(name, CgroupPrefix); ok {
				ids[id] = true
			}
		}
	}
	for id := range ids {
		reclaimOwner(id, staging[id], cgs)
	}
	return nil
}

// reclaimOwner removes the staging directories and cgroups of owner id if it is
// dead, and its lock file once nothing of it is left.
func reclaimOwner(id string, staging []string, cgs Cgroups) {
	d := IfDead(id)
	if d == nil {
		return
	}
	// An owner with another temporary directory left its staging directories
	// there: this pass removes them too, before its lock file goes.
	if own := d.TempDir(); own != "" && own != filepath.Clean(os.TempDir()) {
		staging = append(staging, stagingIn(own, id)...)
	}
	all := true
	uid := uint32(os.Geteuid())
	for _, dir := range staging {
		var st unix.Stat_t
		if unix.Lstat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != uid {
			continue
		}
		DetachMounts(dir, MaxStagingMounts)
		unix.Unlink(filepath.Join(dir, ResolvConfName))
		if err := unix.Rmdir(dir); err != nil && err != unix.ENOENT {
			all = false
		}
	}
	if cgs != nil {
		busy, _ := cgs.Reclaim(func(name string) bool {
			got, ok := IDIn(name, CgroupPrefix)
			return ok && got == id
		})
		all = all && len(busy) == 0
	} else if d.MadeCgroups() {
		all = false // its cgroups are for a pass that lists them
	}
	if all {
		d.Release()
	} else {
		d.Keep()
	}
}

// ResolvConfName is the one file that a staging directory may hold: the
// resolv.conf of a sandbox's network, which its Template binds from there.
const ResolvConfName = "resolv.conf"

// stagingIn returns the staging directories of owner id in the directory tmp.
func stagingIn(tmp, id string) []string {
	ents, _ := os.ReadDir(tmp)
	var dirs []string
	for _, e := range ents {
		if got, ok := IDIn(e.Name(), StagingPrefix); ok && got == id && e.IsDir() {
			dirs = append(dirs, filepath.Join(tmp, e.Name()))
		}
	}
	return dirs
}

// MaxStagingMounts bounds the mounts detached from a staging directory: the
// bind of the directory on itself and the root bound on it, stacked there, and
// a margin.
const MaxStagingMounts = 8

// DetachMounts detaches every mount stacked on dir in this mount namespace,
// the topmost first, each with the mounts beneath it (umount2 with
// MNT_DETACH), until dir is no mount point (EINVAL), at most max of them. A
// root set up in its caller's mount namespace (sandbox.WithRootInCallerMountNS)
// is detached so once its child has entered a copy of it, and Reclaim so
// detaches what a start killed midway left on a dead owner's staging directory.
func DetachMounts(dir string, max int) error {
	for range max {
		err := unix.Unmount(dir, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		if err == unix.EINVAL {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("more than %d mounts on %s: %w", max, dir, unix.EBUSY)
}

// reclaimEvery is the least time between two passes that ReclaimSoon runs.
const reclaimEvery = 10 * time.Second

var (
	reclaiming  atomic.Bool
	lastReclaim atomic.Int64 // unix nanoseconds of the last pass's start
)

// ReclaimSoon runs a Reclaim pass in the caller, unless another one runs or one
// ran less than ten seconds ago: a process's first Build pays for it, and one in
// every ten seconds after. (In the background, a pass would hold descriptors and
// touch the host at times the caller cannot see.)
func ReclaimSoon(cgs Cgroups) {
	now := time.Now().UnixNano()
	if now-lastReclaim.Load() < int64(reclaimEvery) || !reclaiming.CompareAndSwap(false, true) {
		return
	}
	defer reclaiming.Store(false)
	lastReclaim.Store(now)
	Reclaim(cgs)
}
