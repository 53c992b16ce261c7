package sandbox

import (
	"errors"
	"os"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/network"
)

// The prefixes of what a Template creates on the host, followed by the creating
// process's owner ID (package internal/owner) and a dash.
const (
	stagingPrefix = owner.StagingPrefix
	cgroupPrefix  = owner.CgroupPrefix
)

// Reclaim removes what callers that died left behind (SIGKILL runs no cleanup):
// the staging directories of their Templates in the temporary directory, and the
// cgroups of their sandboxes below the cgroup parent of the Spec that opts make
// (the default parent without options). Only what carries the owner ID of a
// process whose liveness lock can be taken is removed, and of that only empty
// directories: a live sandbox's cgroup or staging directory is never touched. For
// root it also deletes the port rules of dead callers' sandboxes on bridge
// networks, and the bridges no sandbox uses (network.Reclaim). Build
// runs a pass itself, at most one at a time and one every ten seconds per process;
// Reclaim runs one now, for a long-lived process that builds rarely.
func Reclaim(opts ...Option) error {
	if os.Geteuid() == 0 {
		network.Reclaim()
	}
	s := NewBuilder(opts...).Spec()
	if s.NoCgroup {
		return owner.Reclaim(nil)
	}
	// Without the limits that may fall back to rlimits (memory and pids, whose
	// hierarchies are planned anyway): the presets' pids limit, which an
	// unprivileged caller's cgroup cannot enforce, must not stop the pass.
	cs := s.Cgroup
	cs.Resources = s.CgroupOnly()
	pl, err := cgroup.NewPlanner(&cs)
	if err != nil && !errors.Is(err, cgroup.ErrNotSupported) {
		return err
	}
	if pl == nil {
		return owner.Reclaim(nil)
	}
	defer pl.Close()
	return owner.Reclaim(pl)
}

// reclaimAside runs reclaimSoon on another goroutine and returns a channel that
// closes when it is done. Build waits for it before it returns, so that the pass
// stays within the Build that pays for it (about a quarter of a millisecond for
// a first Build here, mostly reading the temporary directory), but no longer
// adds to it.
func reclaimAside(pl *cgroup.Planner) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		reclaimSoon(pl)
	}()
	return done
}

// reclaimSoon runs a pass over what dead callers left, in the calling Build (see
// owner.ReclaimSoon); pl is the cgroup planner of the Template being built, or nil.
func reclaimSoon(pl *cgroup.Planner) {
	if pl == nil {
		owner.ReclaimSoon(nil) // not a nil *Planner in the interface
		return
	}
	owner.ReclaimSoon(pl)
}
