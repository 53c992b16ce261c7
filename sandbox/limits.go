package sandbox

import (
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
)

// WithTimeLimit kills the sandbox once it has run for d (see Limits.WallTime);
// ExitStatus.Limit is then LimitWallTime.
func WithTimeLimit(d time.Duration) Option { return func(s *Spec) { s.Limits.WallTime = d } }

// WithCPUTimeLimit bounds the sandbox's CPU time (see Limits.CPUTime); ExitStatus.Limit
// is LimitCPUTime when it ends the sandbox.
func WithCPUTimeLimit(d time.Duration) Option { return func(s *Spec) { s.Limits.CPUTime = d } }

// WithOutputLimit bounds the bytes the target writes to its Stdout and Stderr
// together (see Limits.Output); ExitStatus.Limit is LimitOutput when it ends the
// sandbox.
func WithOutputLimit(bytes int64) Option { return func(s *Spec) { s.Limits.Output = bytes } }

// WithRlimitFallback enforces the given cgroup limits (LimitMemory, LimitPids)
// with resource limits of each process wherever no cgroup can enforce them,
// instead of failing Build with ErrNotSupported: see Spec.RlimitFallback. It
// replaces the list; WithRlimitFallback() empties it, so that the presets'
// default pids limit no longer falls back either.
func WithRlimitFallback(limits ...Limit) Option {
	return func(s *Spec) { s.RlimitFallback = append([]Limit(nil), limits...) }
}

// onlineCPUs is the number of CPUs the sandbox's processes may run on at most,
// for the CPU-time watch: the CPU time of a cgroup grows by at most that many
// nanoseconds per nanosecond.
var onlineCPUs = sync.OnceValue(func() int {
	n := runtime.NumCPU()
	if b, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if cpus, err := cgroup.ParseCPUList(string(b)); err == nil {
			n = max(n, len(cpus))
		}
	}
	return max(n, 1)
})

// planCgroup plans the Spec's limits (see PlanLimits): where each start gets a
// cgroup, the Template keeps its Planner; the rlimits of the plan go to the
// Plan's.
func (t *Template) planCgroup(c ids) (*LimitPlan, error) {
	var pl *cgroup.Planner
	plan := func(cs *cgroup.Spec) (cgroup.Need, error) {
		next, err := cgroup.NewPlanner(cs)
		if err != nil {
			return cgroup.Need{}, err
		}
		if pl != nil {
			pl.Close()
		}
		pl = next
		return pl.Need(), nil
	}
	lp, err := t.spec.PlanLimitsWith(c.uid, plan)
	if err != nil || lp.Need.Version == 0 {
		if pl != nil {
			pl.Close()
		}
		return lp, err
	}
	t.cgroup = pl
	return lp, nil
}
