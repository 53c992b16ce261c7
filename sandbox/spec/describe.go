package spec

import "github.com/paddock-sandbox/paddock/inspect"

// Describe reports what a sandbox started from s by the calling process would be
// isolated by, before anything starts: the same Report that inspect.Process gives
// for the live process, read off the Spec's Plan by inspect.FromPlan and
// classified.
//
// The capability sets are those the target holds after execve (Plan's
// Capabilities.Exec); seccomp counts the Spec's filter and any the caller has;
// no_new_privs, the resource limits and the namespaces shared with the caller
// are the caller's own. Describe validates s first and fails as Build would on a
// bad Spec.
func (s *Spec) Describe() (*inspect.Report, error) {
	p, err := s.Plan()
	if err != nil {
		return nil, err
	}
	return inspect.FromPlan(p), nil
}
