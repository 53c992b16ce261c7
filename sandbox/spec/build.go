package spec

import (
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
)

// This file holds what package sandbox's Build needs to resolve a Spec in parts:
// the cgroup planner, the SELinux labels and the staging directory are host
// objects a Template keeps, and the capabilities and the filter are resolved on
// another core. Plan does all of it at once.

// Check validates s for the calling process in place, as Build does first: it
// fills in what the Spec left to defaults and resolves an automatic ID range.
// Validate is Check on a copy.
func (s *Spec) Check() error { return s.validate(callerIDs()) }

// PlanLimitsWith is PlanLimits for caller euid, with planCgroup deciding what the
// cgroup package makes for each start (cgroup.Plan; Build passes a Planner's).
func (s *Spec) PlanLimitsWith(euid int, planCgroup func(*cgroup.Spec) (cgroup.Need, error)) (*LimitPlan, error) {
	return s.planLimits(euid, planCgroup)
}

// Resolve makes the Plan of a checked Spec for the caller uid, gid, from its
// limit plan and the labels the caller resolved, all but the capabilities and
// the filter (ResolvePrivileges) and the mount steps (MountSteps).
func (s *Spec) Resolve(uid, gid int, lp *LimitPlan, labels selinux.Labels) (*plan.Plan, error) {
	return s.resolve(ids{uid, gid}, lp, labels)
}

// Privileges are a Plan's capabilities and filter, and the compiled filter
// (nil for none, or where not asked for).
type Privileges struct {
	Capabilities plan.Capabilities
	Seccomp      plan.Seccomp
	Filter       *seccomp.Filter
}

// ResolvePrivileges resolves the capability sets and the filter's profile of a
// checked Spec, and compiles the filter if compile is set.
func (s *Spec) ResolvePrivileges(compile bool) (Privileges, error) {
	r := s.resolvePrivileges(compile)
	return Privileges{Capabilities: r.caps, Seccomp: r.seccomp, Filter: r.filter}, r.err
}

// MountSteps resolves the mount steps of the Spec's new mount namespace for the
// caller uid, gid, with its root assembled in staging and the files labelled
// mountLabel, in the child's order: the propagation of "/", the root, the kernel
// filesystems, binds, tmpfs, pivot_root, masks and read-only paths.
func (s *Spec) MountSteps(uid, gid int, staging, mountLabel string) ([]mounts.Step, error) {
	return s.planMounts(ids{uid, gid}, staging, mountLabel)
}

// RootOverlay returns the overlay of the Spec's root and its environment for the
// caller uid, with the root assembled in staging: what the parent runs
// fuse-overlayfs with, for the fuse driver.
func (s *Spec) RootOverlay(uid int, staging, mountLabel string) (overlay.Spec, overlay.Env) {
	return s.rootfs(), s.overlayEnv(ids{uid: uid}, staging, mountLabel)
}

// RootOverlaySpec returns the overlay of the Spec's root: Rootfs, or the
// embedded default (the host's "/" as the only lower layer) when it has no
// layer, idmapped under an automatic range.
func (s *Spec) RootOverlaySpec() overlay.Spec { return s.rootfs() }

// CgroupOnly returns the Spec's cgroup limits without those that fall back to
// rlimits: what only a cgroup can enforce.
func (s *Spec) CgroupOnly() *cgroup.Resources { return s.cgroupOnly() }

// CPURlimit is the CPU time each process may use: the Spec's RLIMIT_CPU, or its
// CPU-time limit rounded up to whole seconds; 0 for none.
func (s *Spec) CPURlimit() time.Duration { return s.cpuRlimit() }

// RlimitResource returns the resource number of a limit named "nofile" or
// "RLIMIT_NOFILE".
func RlimitResource(name string) (int, bool) { return rlimitResource(name) }

// OptionError records that an option could not put what it was given in the
// Spec (a capability to drop that does not exist): Validate and Build then fail
// with the first such error, a *SpecError naming field.
func (s *Spec) OptionError(field string, err error) {
	s.optErrs = append(s.optErrs, &SpecError{Field: field, Err: err})
}
