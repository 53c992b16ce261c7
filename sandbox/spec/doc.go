// Package spec holds the sandbox Spec: plain data that describes a sandbox, its
// validation (a list of small named checks, run in order) and its resolution
// into a Plan (package plan) on this host for the calling process.
//
// Package sandbox re-exports the Spec and its parts under the same names
// (sandbox.Spec is spec.Spec) and builds Templates from it: its Build checks the
// Spec (Check), resolves it in parts (Resolve, ResolvePrivileges, MountSteps,
// with the host objects a Template keeps) and emits the child's steps from the
// Plan. Spec.Plan does the whole resolution at once for a reader (Describe,
// package exposure, the examples' --dry-run); nothing else works the sandbox
// out from a Spec again.
package spec
