package spec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
	"golang.org/x/sys/unix"
)

// A Limit names a bound that can end a sandbox; ExitStatus.Limit says which one did.
type Limit string

// The limits a sandbox can meet.
const (
	// LimitWallTime is Limits.WallTime: the sandbox ran too long and was killed.
	LimitWallTime Limit = "wall-time"
	// LimitCPUTime is Limits.CPUTime (or an RLIMIT_CPU of Spec.Rlimits): the
	// sandbox used too much CPU time and was killed, by Paddock or by the kernel.
	LimitCPUTime Limit = "cpu-time"
	// LimitMemory is the cgroup's memory limit: the OOM killer ended a process.
	LimitMemory Limit = "memory"
	// LimitPids is the cgroup's pids limit: it refused a fork or a clone, and the
	// target then failed.
	LimitPids Limit = "pids"
	// LimitOutput is Limits.Output: the sandbox wrote too much and was killed.
	LimitOutput Limit = "output"
)

// DefaultPidsLimit is the presets' bound on the processes and threads of a
// sandbox, Podman's default: the cgroup's pids.max where the sandbox has a cgroup,
// RLIMIT_NPROC where it has none (Spec.RlimitFallback lists LimitPids). WithPidsLimit
// changes it; WithPidsLimit(-1) removes it.
const DefaultPidsLimit = 2048

// Limits bound each run of a sandbox, from the moment Start returns; a zero field
// bounds nothing. ExitStatus.Limit says which limit ended a run.
type Limits struct {
	// WallTime kills the whole sandbox (Process.KillAll) once it has run this
	// long, as a cancelled context does.
	WallTime time.Duration `json:"wallTime,omitempty"`
	// CPUTime bounds the CPU time of the sandbox. Each of its processes gets an
	// RLIMIT_CPU of CPUTime rounded up to whole seconds, unless Spec.Rlimits sets
	// one: the kernel sends SIGXCPU there and SIGKILL a second later (PID 1 of a
	// pid namespace ignores SIGXCPU). Where the sandbox has a cgroup, the CPU time
	// of all its processes together is watched as well, and the sandbox is killed
	// once it reaches CPUTime, however many processes share it; without a cgroup
	// (rootless on cgroup v1) only the per-process RLIMIT_CPU bounds it.
	CPUTime time.Duration `json:"cpuTime,omitempty"`
	// Output bounds the bytes the target writes to the Command's Stdout and Stderr,
	// counted together: the copier passes the first Output bytes on, discards the
	// rest and kills the sandbox. With a limit, an *os.File is connected through a
	// pipe and a copier too, so that it is counted; a nil stream (/dev/null) is not
	// counted; a Command with a Terminal is refused, since the caller reads its
	// master directly.
	Output int64 `json:"output,omitempty"`
}

// validateLimits checks Limits and RlimitFallback.
func (s *Spec) validateLimits() error {
	l := &s.Limits
	switch {
	case l.WallTime < 0:
		return specErr("limits.wallTime", "%v is negative", l.WallTime)
	case l.CPUTime < 0:
		return specErr("limits.cpuTime", "%v is negative", l.CPUTime)
	case l.Output < 0:
		return specErr("limits.output", "%d bytes is negative", l.Output)
	}
	for i, f := range s.RlimitFallback {
		if f != LimitMemory && f != LimitPids {
			return specErr(fmt.Sprintf("rlimitFallback[%d]", i), "%q has no rlimit fallback: only %q (RLIMIT_AS) and %q (RLIMIT_NPROC) have one", f, LimitMemory, LimitPids)
		}
	}
	return nil
}

// fallbackRlimits are the cgroup limits that have a fallback, and its resource.
var fallbackRlimits = []struct {
	limit    Limit
	resource string
}{{LimitMemory, "RLIMIT_AS"}, {LimitPids, "RLIMIT_NPROC"}}

// cgroupLimit returns the value of the cgroup limit l in r, 0 when r sets none.
func cgroupLimit(r *cgroup.Resources, l Limit) int64 {
	if r == nil {
		return 0
	}
	switch l {
	case LimitMemory:
		return max(r.Memory, 0)
	case LimitPids:
		return max(r.Pids, 0)
	}
	return 0
}

// withoutLimit returns a copy of r without the cgroup limit l.
func withoutLimit(r *cgroup.Resources, l Limit) *cgroup.Resources {
	if r == nil {
		return nil
	}
	c := *r
	switch l {
	case LimitMemory:
		c.Memory, c.MemorySwap = 0, 0
	case LimitPids:
		c.Pids = 0
	}
	return &c
}

func (s *Spec) fallsBack(l Limit) bool {
	for _, f := range s.RlimitFallback {
		if f == l {
			return true
		}
	}
	return false
}

// cgroupOnly returns the Spec's cgroup limits without those that fall back to
// rlimits: what only a cgroup can enforce.
func (s *Spec) cgroupOnly() *cgroup.Resources {
	r := s.Cgroup.Resources
	for _, f := range fallbackRlimits {
		if s.fallsBack(f.limit) {
			r = withoutLimit(r, f.limit)
		}
	}
	return r
}

// A LimitPlan is how Build enforces a Spec's limits for the calling user.
type LimitPlan struct {
	// Cgroup is the cgroup part of the Spec as each start gets it, without the
	// limits that fell back to rlimits.
	Cgroup cgroup.Spec `json:"cgroup"`
	// Need is what the cgroup package creates per start; Version 0 means no
	// cgroup: the sandbox stays in the caller's.
	Need cgroup.Need `json:"need"`
	// FellBack lists the limits of RlimitFallback that no cgroup can enforce here
	// (the sandbox has no cgroup, or its controller is missing).
	FellBack []Limit `json:"fellBack,omitempty"`
	// Rlimits are set in the child besides Spec.Rlimits: RLIMIT_AS and
	// RLIMIT_NPROC for the limits that fell back, RLIMIT_CPU for Limits.CPUTime.
	// A resource that Spec.Rlimits sets itself is left to it.
	Rlimits []Rlimit `json:"rlimits,omitempty"`
}

// PlanLimits returns how Build enforces the Spec's limits for the calling user:
// the cgroup each start gets, and the rlimits that replace the cgroup limits
// listed in RlimitFallback wherever no cgroup can enforce them. It fails as Build
// does, with ErrNotSupported for a limit nothing here can enforce.
func (s *Spec) PlanLimits() (*LimitPlan, error) {
	euid := unix.Geteuid()
	return s.planLimits(euid, func(cs *cgroup.Spec) (cgroup.Need, error) { return cgroup.Plan(cs, euid) })
}

// planLimits is PlanLimits for caller euid, with plan deciding what the cgroup
// package does for a cgroup Spec (cgroup.Plan, or NewPlanner for Build).
func (s *Spec) planLimits(euid int, plan func(*cgroup.Spec) (cgroup.Need, error)) (*LimitPlan, error) {
	lp := &LimitPlan{Cgroup: s.Cgroup}
	if s.NoCgroup {
		// validate refused the limits that only a cgroup can enforce.
		for _, f := range fallbackRlimits {
			if s.fallsBack(f.limit) && cgroupLimit(s.Cgroup.Resources, f.limit) > 0 {
				lp.fallBack(f.limit)
			}
		}
	} else {
		need, err := plan(&lp.Cgroup)
		if errors.Is(err, cgroup.ErrNotSupported) {
			// Move the limits that may fall back and that this host cannot give
			// a cgroup to rlimits, and plan the rest again.
			moved := false
			for _, f := range fallbackRlimits {
				if s.fallsBack(f.limit) && cgroupLimit(lp.Cgroup.Resources, f.limit) > 0 && !s.enforceable(euid, f.limit) {
					lp.fallBack(f.limit)
					moved = true
				}
			}
			if moved {
				need, err = plan(&lp.Cgroup)
			}
		}
		if err != nil {
			return nil, s.cgroupError(euid, err)
		}
		lp.Need = need
	}
	lp.addRlimits(s)
	return lp, nil
}

// fallBack moves the cgroup limit l of the plan to FellBack.
func (lp *LimitPlan) fallBack(l Limit) {
	lp.FellBack = append(lp.FellBack, l)
	lp.Cgroup.Resources = withoutLimit(lp.Cgroup.Resources, l)
}

// addRlimits fills Rlimits: the fallbacks and RLIMIT_CPU, where Spec.Rlimits does
// not set the resource itself.
func (lp *LimitPlan) addRlimits(s *Spec) {
	add := func(resource string, soft, hard uint64) {
		if !s.hasRlimit(resource) {
			lp.Rlimits = append(lp.Rlimits, Rlimit{Type: resource, Soft: soft, Hard: hard})
		}
	}
	for _, f := range fallbackRlimits {
		for _, l := range lp.FellBack {
			if l == f.limit {
				v := uint64(cgroupLimit(s.Cgroup.Resources, l))
				add(f.resource, v, v)
			}
		}
	}
	if d := s.Limits.CPUTime; d > 0 {
		// Whole seconds, rounded up; SIGKILL follows SIGXCPU a second later.
		sec := uint64((d + time.Second - 1) / time.Second)
		add("RLIMIT_CPU", sec, sec+1)
	}
}

// hasRlimit reports whether Spec.Rlimits sets the resource named name.
func (s *Spec) hasRlimit(name string) bool {
	n, _ := rlimitResource(name)
	for _, r := range s.Rlimits {
		if m, _ := rlimitResource(r.Type); m == n {
			return true
		}
	}
	return false
}

// enforceable reports whether a cgroup of this Spec's parent could enforce the
// limit l for caller euid on this host: a cgroup for the caller, the controller.
func (s *Spec) enforceable(euid int, l Limit) bool {
	one := &cgroup.Resources{}
	switch l {
	case LimitMemory:
		one.Memory = cgroup.MinMemory
	case LimitPids:
		one.Pids = 1
	}
	_, err := cgroup.Plan(&cgroup.Spec{Parent: s.Cgroup.Parent, Path: s.Cgroup.Path, AllowAllDevices: true, Resources: one}, euid)
	return err == nil
}

// cgroupError types an error of the cgroup plan and, where a memory or pids limit
// that no cgroup can enforce here could fall back to an rlimit, says how.
func (s *Spec) cgroupError(euid int, err error) error {
	if !errors.Is(err, cgroup.ErrNotSupported) {
		return &SpecError{Field: "cgroup", Err: err}
	}
	var limits, resources []string
	for _, f := range fallbackRlimits {
		if !s.fallsBack(f.limit) && cgroupLimit(s.Cgroup.Resources, f.limit) > 0 && !s.enforceable(euid, f.limit) {
			limits = append(limits, "sandbox."+limitConstName(f.limit))
			resources = append(resources, f.resource)
		}
	}
	if len(limits) > 0 {
		err = fmt.Errorf("%w; sandbox.WithRlimitFallback(%s) enforces it with %s of each process instead",
			err, strings.Join(limits, ", "), strings.Join(resources, " and "))
	}
	return &SpecError{NotSupported: true, Field: "cgroup", Err: err}
}

func limitConstName(l Limit) string {
	if l == LimitMemory {
		return "LimitMemory"
	}
	return "LimitPids"
}

// noCgroupError is validate's error for a Spec without a cgroup whose limits need
// one, or nil.
func (s *Spec) noCgroupError() error {
	if s.cgroupOnly().IsZero() {
		return nil
	}
	return specErr("cgroup", "resource limits need a cgroup, but the sandbox has none "+
		"(WithRlimitFallback enforces the memory and pids limits without one)")
}
