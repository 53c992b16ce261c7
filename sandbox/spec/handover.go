package spec

import "github.com/paddock-sandbox/paddock/namespace"

// Handover reports whether each start hands over to a target cloned into the
// joined pid namespace: setns(2) of a pid namespace moves only the joiner's
// later children into it, never the joiner. Without an init (Init), which forks
// the target there and stays outside as its parent, the child that joined the
// namespace clones the target with CLONE_PARENT and exits, as runc and crun do:
// the target, inside the namespace but not its PID 1, is then the start's
// process, its pid the one the caller waits for and signals.
func (s *Spec) Handover() bool {
	return s.Namespaces.Mode(namespace.PID) == namespace.Join && !s.Init
}
