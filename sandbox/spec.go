package sandbox

import "github.com/paddock-sandbox/paddock/sandbox/spec"

// The Spec and its parts are package spec's, where a Spec is validated and
// resolved into its Plan; these names keep them at hand for a program that
// imports only package sandbox.
type (
	// Spec describes a sandbox as plain data (spec.Spec).
	Spec = spec.Spec
	// User is who the target runs as inside the sandbox (spec.User).
	User = spec.User
	// Rlimit is a resource limit set in the child (spec.Rlimit).
	Rlimit = spec.Rlimit
	// Seccomp is the system call filter of a Spec (spec.Seccomp).
	Seccomp = spec.Seccomp
	// SpawnMode says how the child is cloned (spec.SpawnMode).
	SpawnMode = spec.SpawnMode
	// Limit names a limit that can end a sandbox (spec.Limit).
	Limit = spec.Limit
	// Limits bound a sandbox's time, CPU time and output (spec.Limits).
	Limits = spec.Limits
	// LimitPlan is how Build enforces a Spec's limits for the calling user
	// (spec.LimitPlan).
	LimitPlan = spec.LimitPlan
)

// The seccomp modes of a Spec (Seccomp.Mode).
const (
	SeccompDefault    = spec.SeccompDefault
	SeccompPodman     = spec.SeccompPodman
	SeccompCustom     = spec.SeccompCustom
	SeccompUnconfined = spec.SeccompUnconfined
)

// The spawn modes of a Spec.
const (
	SpawnAuto  = spec.SpawnAuto
	SpawnFork  = spec.SpawnFork
	SpawnVfork = spec.SpawnVfork
)

// The limits that can end a sandbox (ExitStatus.Limit).
const (
	LimitWallTime = spec.LimitWallTime
	LimitCPUTime  = spec.LimitCPUTime
	LimitMemory   = spec.LimitMemory
	LimitPids     = spec.LimitPids
	LimitOutput   = spec.LimitOutput
)

// DefaultPidsLimit is the presets' bound on the sandbox's processes
// (spec.DefaultPidsLimit).
const DefaultPidsLimit = spec.DefaultPidsLimit

// MaxGroups is the most supplementary groups a User may have (spec.MaxGroups).
const MaxGroups = spec.MaxGroups

// ParseSpec reads a Spec from JSON (spec.ParseSpec).
func ParseSpec(data []byte) (*Spec, error) { return spec.ParseSpec(data) }
