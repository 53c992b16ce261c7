package spec

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// namespaceFlags sorts the Spec's new namespaces between clone3 and the child's
// unshare. A joined user namespace must own the sandbox's new namespaces: they are
// unshared after the child entered it. Only the pid namespace, which the child
// itself never enters, is made by clone3, in the caller's (validate checked that
// the caller may).
func (s *Spec) namespaceFlags() (clone uint64, unshare uintptr) {
	ns := &s.Namespaces
	for _, k := range []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.User} {
		if ns.Mode(k) != namespace.New || (k == namespace.Net && s.SharedNetNS) {
			continue
		}
		if ns.Mode(namespace.User) == namespace.Join && k != namespace.PID {
			unshare |= uintptr(k.CloneFlag())
			continue
		}
		clone |= uint64(k.CloneFlag())
	}
	return clone, unshare
}

// deathSignal is the signal the sandbox gets when its parent thread dies:
// ParentDeathSignal, SIGKILL by default; none for a detached sandbox.
func (s *Spec) deathSignal() uintptr {
	if s.Detached {
		return 0
	}
	if s.ParentDeathSignal == 0 {
		return uintptr(unix.SIGKILL)
	}
	return uintptr(s.ParentDeathSignal)
}

// errParentVfork refuses vfork mode where the parent acts between the clone and
// the child's release.
var errParentVfork = errors.New("an automatic ID range and idmapped mounts need fork mode: the parent writes the maps " +
	"and idmaps the mounts with the child's user namespace while the child waits, which a vfork child cannot")

// spawnMode reports whether Build chooses vfork mode for caller c, and why: where
// forced, or where nothing needs the parent between clone and exec (no ID map for
// the parent to write, no copied mount to idmap, no init, no hold, no
// fuse-overlayfs daemon to start) and the child need not set supplementary groups
// in a user namespace (it denies setgroups when it writes its own map).
func (s *Spec) spawnMode(c ids) (vfork bool, reason string, err error) {
	userNS := s.Namespaces.Mode(namespace.User) == namespace.New
	fuse := s.fuseRoot(userNS)
	switch s.Spawn {
	case SpawnVfork:
		if fuse {
			return false, "", &SpecError{Field: "spawn", Err: errFuseVfork}
		}
		if s.Network.Enabled() {
			return false, "", &SpecError{Field: "spawn", Err: errNetworkVfork}
		}
		if s.Namespaces.Auto != nil || s.detachedMounts() {
			return false, "", &SpecError{Field: "spawn", Err: errParentVfork}
		}
		return true, "forced by the Spec", nil
	case SpawnFork:
		return false, "forced by the Spec", nil
	}
	switch {
	case !child.VforkSupported:
		return false, "vfork mode is not supported on this architecture", nil
	case s.Init:
		return false, "the init needs fork mode", nil
	case s.Handover():
		return false, "the handover into a joined pid namespace needs fork mode", nil
	case s.Hold:
		return false, "a held start needs fork mode: a vfork child would hold the calling thread", nil
	case fuse:
		return false, "the parent starts fuse-overlayfs for each start", nil
	case s.Network.Enabled():
		return false, "the parent starts the network helper for each start", nil
	case s.Mounts.CopiesUp():
		return false, "the parent fills the copy-up tmpfs while the child waits before pivot_root", nil
	case s.InCallerMountNS():
		return false, "the parent detaches the root from the caller's mount namespace while the child waits", nil
	case s.detachedMounts():
		return false, "the parent idmaps copied mounts for each start", nil
	case userNS && s.hasGroups():
		return false, "the target's supplementary groups need setgroups, which a child writing its own map must deny", nil
	case userNS && !s.singleOwnMap(c):
		return false, "the parent writes the ID maps", nil
	}
	return true, "nothing needs the parent between the clone and the exec", nil
}

// overlayEnv is the overlay environment of the Spec's root for caller c.
func (s *Spec) overlayEnv(c ids, staging, mountLabel string) overlay.Env {
	ns := &s.Namespaces
	return overlay.Env{Staging: staging, InUserNS: ns.Mode(namespace.User) != namespace.Host, Rootless: c.uid != 0,
		MountLabel: selinux.MountOption(mountLabel), DetachLayers: ns.Auto != nil && len(s.Rootfs.Lower) > 0}
}

// planMounts resolves the mount steps of a new mount namespace, in the child's
// order: the propagation of "/", the overlay root assembled in staging, then the
// kernel filesystems, binds, tmpfs, pivot_root, masks and read-only paths.
func (s *Spec) planMounts(c ids, staging, mountLabel string) ([]mounts.Step, error) {
	ns := &s.Namespaces
	// A new or a joined user namespace: either way the mounts are made where the
	// kernel locks what was inherited and wants userxattr for overlayfs.
	inUserNS := ns.Mode(namespace.User) != namespace.Host
	prop, err := mounts.PlanPropagation(s.Mounts)
	if err != nil {
		return nil, &SpecError{Field: "mounts", Err: err}
	}
	var uidMap, gidMap []namespace.IDMap
	if ns.Mode(namespace.User) == namespace.New {
		uidMap, gidMap = s.IDMaps(c.uid, c.gid)
	}
	// A root caller's child in a user namespace whose root is another user of
	// the host binds what that user may reach: the parent copies the sources.
	rootElsewhere := c.uid == 0 && ns.Mode(namespace.User) == namespace.New && ns.Auto == nil && !mapsTo(uidMap, 0, 0)
	env := mounts.Env{
		InUserNS:         inUserNS,
		NewNetNS:         ns.Mode(namespace.Net) == namespace.New,
		NewPIDNS:         ns.Mode(namespace.PID) == namespace.New,
		NewIPCNS:         ns.Mode(namespace.IPC) == namespace.New,
		NewCgroupNS:      ns.Mode(namespace.Cgroup) == namespace.New,
		CgroupV2:         mounts.HostCgroupV2(),
		UnmappedTTYGroup: inUserNS && !idMapped(gidMap, 5),
		Privileged:       s.Privileged,
		MountLabel:       selinux.MountOption(mountLabel),
		DetachBinds:      ns.Auto != nil || rootElsewhere,
		AfterPivot:       s.sysctlSteps(),
		BeforePivot:      s.Hold && s.HoldBeforePivot,
	}
	steps := []mounts.Step{prop}
	if s.InCallerMountNS() {
		steps, env.ChrootInPlace = mounts.PlanStagingPrivate(staging), true
	}
	if !s.NoRootfs {
		root, mps, err := s.planRootSteps(c, staging, mountLabel)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s.rootInPlace(root, staging)...)
		env.NewRoot, env.RootMounts = overlay.NewRoot(staging), mps
		if s.RootDir != "" {
			env.NewRoot = staging
		}
	}
	ms := s.Mounts
	if s.onHostRoot() {
		// The host's secrets, temporary files and run-time state stay out of a
		// sandbox on the host's own "/" (Spec.HostRoot).
		h := s.hostRoot()
		ms.Tmpfs = append(append([]mounts.Tmpfs(nil), h.Empty...), ms.Tmpfs...)
		ms.Hidden = append(openTo(c, h.Resolve()), ms.Hidden...)
	}
	rest, err := mounts.Plan(ms, env)
	if err != nil {
		if errors.Is(err, mounts.ErrNotSupported) {
			return nil, &SpecError{NotSupported: true, Field: "mounts", Err: err}
		}
		return nil, &SpecError{Field: "mounts", Err: err}
	}
	return append(steps, rest...), nil
}

// planRootSteps resolves the steps that assemble the overlay root in staging, or
// bind the root directory on it, and, for a read-only root, its mount points:
// rootless on the host's "/", the root is one overlay per top-level directory,
// and each must become read-only.
func (s *Spec) planRootSteps(c ids, staging, mountLabel string) (steps []mounts.Step, mps []string, err error) {
	if s.RootDir != "" {
		// The directory is bound on the staging directory itself: "/" is its
		// one mount point (those beneath it keep their own flags, as runc's do).
		if steps, err = mounts.PlanRootDir(s.RootDir, staging); err != nil {
			return nil, nil, &SpecError{Field: "rootDir", Err: err}
		}
		return steps, nil, nil
	}
	r, oenv := s.rootfs(), s.overlayEnv(c, staging, mountLabel)
	steps, err = r.Plan(oenv)
	if err != nil {
		if errors.Is(err, overlay.ErrNotSupported) {
			return nil, nil, &SpecError{NotSupported: true, Field: "rootfs", Err: err}
		}
		return nil, nil, &SpecError{Field: "rootfs", Err: err}
	}
	if s.Mounts.ReadonlyRoot {
		if mps, err = r.Mountpoints(oenv); err != nil {
			return nil, nil, &SpecError{Field: "rootfs", Err: err}
		}
	}
	return steps, mps, nil
}

// openTo leaves out of hidden what caller c cannot reach anyway: where the caller
// is not root, root of the sandbox has the caller's access to the host's files
// (its capabilities count only for files whose owner its user namespace maps), so
// a directory the caller may not search or a file it may not read is closed to
// the sandbox already, and a mount on it would only add work.
func openTo(c ids, hidden []mounts.HiddenPath) []mounts.HiddenPath {
	if c.uid == 0 {
		return hidden
	}
	var out []mounts.HiddenPath
	for _, h := range hidden {
		mode := uint32(unix.R_OK)
		if h.Dir {
			mode = unix.X_OK
		}
		if unix.Access(h.Path, mode) == nil {
			out = append(out, h)
		}
	}
	return out
}

// CapabilitySets returns the capability sets the Spec gives its target, as Build
// resolves them. "All capabilities" ("ALL" in a set, or a privileged Spec) means all
// that the caller can pass on: such sets are cut down to the caller's bounding set
// (a container host may already lack some; this one lacks CAP_SYS_RESOURCE), as
// podman's --cap-add ALL is. A capability named on its own that the caller's
// bounding set lacks is an error: the child could not grant it.
func (s *Spec) CapabilitySets() (caps.Sets, error) {
	sets, _, err := s.capabilitySets()
	return sets, err
}

// capabilitySets is CapabilitySets, which also returns the caller's own
// bounding set.
func (s *Spec) capabilitySets() (caps.Sets, caps.Set, error) {
	sets, err := s.Caps.Sets()
	if err != nil {
		return sets, 0, err
	}
	own, err := caps.Inspect(0)
	if err != nil {
		return sets, 0, err
	}
	b := own.Bounding
	for _, f := range []struct {
		names []string
		set   *caps.Set
	}{{s.Caps.Bounding, &sets.Bounding}, {s.Caps.Effective, &sets.Effective}, {s.Caps.Permitted, &sets.Permitted},
		{s.Caps.Inheritable, &sets.Inheritable}, {s.Caps.Ambient, &sets.Ambient}} {
		if s.Privileged || hasAll(f.names) {
			*f.set &= b
		}
	}
	if lack := (sets.Bounding | sets.Permitted | sets.Inheritable | sets.Ambient) &^ b; lack != 0 {
		return sets, b, &SpecError{NotSupported: true, Field: "capabilities", Err: fmt.Errorf(
			"the caller's own bounding set lacks %s: the sandbox cannot be given it (\"ALL\" means all the caller has)",
			strings.Join(lack.Names(), ", "))}
	}
	return sets, b, nil
}

// hasAll reports whether names holds "ALL".
func hasAll(names []string) bool {
	for _, n := range names {
		if strings.EqualFold(n, "ALL") {
			return true
		}
	}
	return false
}

// SeccompProfile returns the system call filter the Spec loads, resolved as Build
// resolves it (Docker's and Podman's defaults against the Spec's bounding set); ok
// is false for a sandbox without a filter.
func (s *Spec) SeccompProfile() (prof seccomp.Profile, ok bool, err error) {
	sets, err := s.CapabilitySets()
	if err != nil {
		return prof, false, err
	}
	return s.seccompProfileFor(sets.Bounding)
}

func (s *Spec) seccompProfileFor(bounding caps.Set) (prof seccomp.Profile, ok bool, err error) {
	names := bounding.Names()
	switch s.Seccomp.Mode {
	case SeccompUnconfined:
		return prof, false, nil
	case SeccompPodman:
		return seccomp.PodmanDefault(names), true, nil
	case SeccompCustom:
		if s.Seccomp.Profile == nil {
			return prof, false, errors.New("mode custom needs a profile")
		}
		return *s.Seccomp.Profile, true, nil
	case "", SeccompDefault:
	default:
		return prof, false, fmt.Errorf("unknown seccomp mode %q", s.Seccomp.Mode)
	}
	if s.Privileged && s.Seccomp.Mode == "" {
		return prof, false, nil
	}
	return seccomp.Default(names), true, nil
}

// idMapped reports whether m maps id.
func idMapped(m []namespace.IDMap, id uint32) bool {
	_, ok := namespace.MapToHost(m, id)
	return ok
}

// errNetworkVfork refuses vfork mode for a sandbox with a network.
var errNetworkVfork = errors.New("a network needs fork mode: the parent starts its helper while the child waits, which a vfork child cannot")

var errFuseVfork = errors.New("the fuse overlay driver needs fork mode: the parent runs fuse-overlayfs while the child waits, which a vfork child cannot")

// fuseRoot reports whether the Spec's root filesystem resolves to the fuse driver.
func (s *Spec) fuseRoot(userNS bool) bool {
	if s.NoRootfs || s.RootDir != "" || s.Namespaces.Mode(namespace.Mount) != namespace.New {
		return false
	}
	r := s.rootfs()
	d, err := r.Resolve(overlay.Env{InUserNS: userNS})
	return err == nil && d == overlay.Fuse
}

// cpuRlimit is the soft RLIMIT_CPU the sandbox's processes get: Spec.Rlimits's, or
// the one of Limits.CPUTime (see LimitPlan.Rlimits); 0 for none.
func (s *Spec) cpuRlimit() time.Duration {
	for _, r := range s.Rlimits {
		if n, _ := rlimitResource(r.Type); n == unix.RLIMIT_CPU {
			if r.Soft >= uint64(1<<63-1)/uint64(time.Second) {
				return 0 // unlimited, or near enough
			}
			return time.Duration(r.Soft) * time.Second
		}
	}
	if d := s.Limits.CPUTime; d > 0 {
		return (d + time.Second - 1) / time.Second * time.Second
	}
	return 0
}

// mapsTo reports whether m maps id inside to host outside.
func mapsTo(m []namespace.IDMap, id, host uint32) bool {
	h, ok := namespace.MapToHost(m, id)
	return ok && h == host
}
