// Package caps describes the Linux capabilities of a sandboxed process: which of root's
// privileges it keeps, and how they are set up in the child so that they survive execve.
//
// Each thread carries five capability sets:
//
//   - bounding: the ceiling. Capabilities outside it can never come back through execve, even
//     for root or a file with file capabilities. It can only shrink (PR_CAPBSET_DROP, which
//     needs CAP_SETPCAP).
//   - permitted: what the thread may turn on in its effective set.
//   - effective: what the kernel actually checks when the thread asks for a privileged operation.
//   - inheritable: what may pass through execve to a program whose file capabilities ask for it.
//   - ambient: what passes through execve to an ordinary (non-setuid, no file capabilities)
//     program; it must stay a subset of permitted ∩ inheritable.
//
// The bounding set limits what a process can ever get; the effective set is what it uses now.
// execve recomputes the other sets. For a non-root program the new permitted and effective sets
// are just the ambient set. For root (uid 0 in its user namespace) the kernel treats the program
// as if it had every file capability, so the new permitted set is bounding ∪ inheritable, and
// effective equals it. That is why, as root inside a namespace, capset alone is undone by
// execve: the child must first drop from the bounding set every capability it must not keep
// (while it still holds CAP_SETPCAP), then clear the ambient set, then capset its effective,
// permitted and inheritable sets, and only then raise the ambient capabilities, which the kernel
// accepts only once they are permitted and inheritable. A sandbox's child follows exactly that order.
//
// A Spec is the user-facing form (capability names, as in the OCI runtime spec's
// process.capabilities); Sets holds the same five sets as bit masks; Inspect reads them back
// from a live process.
package caps
