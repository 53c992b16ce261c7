package mounts

import "golang.org/x/sys/unix"

// PlanStagingPrivate returns the steps that make the empty host directory
// staging a private mount of the child's own, for a root set up in the
// caller's own mount namespace rather than a new one: a bind of staging on
// itself, made private, so that the mounts made beneath it propagate nowhere
// and no mount of the caller's changes its propagation. The bind itself
// propagates, empty, to the peers of the mount that holds staging, and its
// unmount follows it there. After them the root is bound on staging
// (PlanRootDir) and made private with all its mounts (PrivateTree): a bind of
// a shared mount would otherwise stay a peer of its source.
func PlanStagingPrivate(staging string) []Step {
	return []Step{
		{Action: ActBind, Stage: rootStage, Path: staging, Source: staging, Flags: unix.MS_BIND, FlagText: FlagString(unix.MS_BIND),
			What: "bind the staging directory " + staging + " on itself, in the caller's mount namespace"},
		propagation(staging, unix.MS_PRIVATE, false),
	}
}

// PrivateTree returns the step that makes the mount at path and every mount
// beneath it private: the root bound on a private staging directory
// (PlanStagingPrivate), whose copies of shared mounts would otherwise receive
// and send mounts.
func PrivateTree(path string) Step {
	st := propagation(path, unix.MS_REC|unix.MS_PRIVATE, false)
	st.Stage = rootStage
	return st
}
