package inspect

import (
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/namespace"
)

// Classify sets Kind, Rootless and Reasons from the other fields of r:
//
//   - host: no namespace is new.
//   - super-privileged: a new mount namespace, but the pid, net and ipc namespaces
//     are shared (the host's / is usually visible at /host).
//   - privileged: new namespaces, but no capability dropped from the bounding set, no
//     seccomp filter and no masked or read-only path of /proc and /sys.
//   - rootless: otherwise, with a new user namespace in which root is an unprivileged
//     user outside.
//   - rootful: otherwise: root inside is root outside, held in by namespaces,
//     capabilities, seccomp and masks.
//
// Rootless is set for every kind whose user namespace maps root inside to an
// unprivileged uid outside.
func (r *Report) Classify() {
	state, newKinds, shared, unknown := r.namespaceStates()
	var reasons []string
	if len(unknown) > 0 {
		reasons = append(reasons, "could not judge the "+strings.Join(unknown, ", ")+" namespaces")
	}
	if len(newKinds) == 0 {
		r.Kind, r.Rootless = KindHost, false
		if len(shared) > 0 {
			reasons = append(reasons, "no namespace is new ("+strings.Join(shared, ", ")+" shared with "+r.Reference+"): not isolated, a host process")
		} else {
			reasons = append(reasons, "no namespace is known to be new: taken as a host process")
		}
		r.Reasons = reasons
		return
	}
	reasons = append(reasons, "new namespaces: "+strings.Join(newKinds, ", "))
	reasons = append(reasons, r.classifyUser(state[namespace.User]))
	reasons = append(reasons, r.capsReasons()...)
	reasons = append(reasons, r.seccompReason(), r.masksReason())
	if r.NoNewPrivs {
		reasons = append(reasons, "no_new_privs is set: execve grants no privileges")
	}
	reasons = append(reasons, r.classifyKind(state)...)
	if len(r.Mounts.HostRoot) > 0 && r.Kind != KindSuperPrivileged {
		reasons = append(reasons, "the host's / is visible at "+strings.Join(r.Mounts.HostRoot, ", "))
	}
	r.Reasons = reasons
}

// namespaceStates returns the state of each kind of namespace, and the kinds that
// are new, shared and of unknown state, in the order of r.Namespaces.
func (r *Report) namespaceStates() (state map[namespace.Kind]NSState, newKinds, shared, unknown []string) {
	state = map[namespace.Kind]NSState{}
	for _, n := range r.Namespaces {
		state[n.Kind] = n.State
		switch n.State {
		case NSNew:
			newKinds = append(newKinds, string(n.Kind))
		case NSShared:
			shared = append(shared, string(n.Kind))
		default:
			unknown = append(unknown, string(n.Kind))
		}
	}
	return state, newKinds, shared, unknown
}

// classifyUser sets Rootless where the user namespace, in state st, maps root
// inside to an unprivileged user outside, and says who root inside is outside.
func (r *Report) classifyUser(st NSState) string {
	r.Rootless = false
	switch st {
	case NSNew:
		switch root, ok := namespace.MapToHost(r.UIDMap, 0); {
		case mapsHostRoot(r.UIDMap):
			if ok && root == 0 {
				return "new user namespace, but root inside is root (uid 0) outside: rootful"
			}
			return "new user namespace, but its uid map reaches root (uid 0) outside: rootful"
		case ok:
			r.Rootless = true
			return fmt.Sprintf("new user namespace: root inside is uid %d outside", root)
		default:
			r.Rootless = true
			return "new user namespace: root inside is not mapped, and no uid inside is root outside"
		}
	case NSShared:
		return "no new user namespace: root inside is root outside"
	default:
		return "the user namespace is unknown: taken as rootful"
	}
}

// capsFull reports whether the bounding set is known and lacks nothing.
func (r *Report) capsFull() bool {
	return r.Capabilities.Err == "" && len(r.Capabilities.Dropped) == 0
}

// noSeccomp reports whether the process is known to have no seccomp filter.
func (r *Report) noSeccomp() bool { return r.Seccomp.Err == "" && r.Seccomp.Mode == "disabled" }

// noMasks reports whether /proc and /sys are known to have no masked or read-only path.
func (r *Report) noMasks() bool {
	return r.Mounts.Err == "" && len(r.Mounts.Masked) == 0 && len(r.Mounts.ReadOnly) == 0
}

// capsReasons says what the bounding set lacks.
func (r *Report) capsReasons() []string {
	c := &r.Capabilities
	switch {
	case c.Err != "":
		return []string{"capabilities unknown: " + c.Err}
	case r.capsFull():
		return []string{"no capability dropped from the bounding set (compared with " + c.Baseline + ")"}
	}
	reasons := []string{fmt.Sprintf("%s dropped from the bounding set (compared with %s)", plural(len(c.Dropped), "capability"), c.Baseline)}
	if c.Baseline == fullBaseline && len(c.Dropped) <= 3 {
		reasons = append(reasons, "without a process outside to compare with, a capability that the host itself lacks ("+
			strings.Join(c.Dropped, ", ")+") also counts as dropped")
	}
	return reasons
}

// seccompReason says which seccomp mode and filters the process has.
func (r *Report) seccompReason() string {
	switch {
	case r.Seccomp.Err != "":
		return "seccomp unknown: " + r.Seccomp.Err
	case r.noSeccomp():
		return "no seccomp filter"
	case r.Seccomp.Mode == "filter":
		return "seccomp filter mode with " + plural(r.Seccomp.Filters, "filter")
	default:
		return "seccomp mode " + r.Seccomp.Mode
	}
}

// masksReason says how many paths of /proc and /sys are masked and read-only.
func (r *Report) masksReason() string {
	switch {
	case r.Mounts.Err != "":
		return "mounts unknown: " + r.Mounts.Err
	case r.noMasks():
		return "no masked or read-only path in /proc and /sys"
	default:
		return fmt.Sprintf("%s masked and %d read-only in /proc and /sys", plural(len(r.Mounts.Masked), "path"), len(r.Mounts.ReadOnly))
	}
}

// classifyKind sets Kind from the namespaces' states, the mechanisms and Rootless,
// and says why.
func (r *Report) classifyKind(state map[namespace.Kind]NSState) []string {
	hostWide := state[namespace.PID] == NSShared && state[namespace.Net] == NSShared && state[namespace.IPC] == NSShared
	switch {
	case state[namespace.Mount] == NSNew && hostWide:
		r.Kind = KindSuperPrivileged
		host := "super-privileged, although the host's / is not visible at /host"
		if hasString(r.Mounts.HostRoot, "/host") {
			host = "the host's / is visible at /host: super-privileged"
		}
		return []string{"the mount namespace is new but the host's pid, net and ipc namespaces are shared", host}
	case r.capsFull() && r.noSeccomp() && r.noMasks():
		r.Kind = KindPrivileged
		return []string{"all capabilities, no seccomp and no masks, held in by namespaces only: privileged"}
	case r.Rootless:
		r.Kind = KindRootless
		return []string{"root inside is unprivileged outside: rootless"}
	default:
		r.Kind = KindRootful
		return []string{"started by root without a user namespace of an unprivileged user: rootful"}
	}
}

// mapsHostRoot reports whether some ID inside maps to uid 0 outside.
func mapsHostRoot(m []namespace.IDMap) bool {
	for _, e := range m {
		if e.HostID == 0 && e.Size > 0 {
			return true
		}
	}
	return false
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
