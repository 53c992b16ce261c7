// Command flawcheck prints the matrix of known kernel and runtime flaws against
// sandbox configurations: each cell is "exposed" or "mitigated (layer, ...)",
// listing the layers that stop the flaw on their own.
//
// By default the columns are the five reference configurations of package
// exposure (Docker's and Podman's defaults, judged for any kernel unless --kernel
// is given). One of these gives a single column judged on the running kernel:
//
//	--preset NAME  Paddock's own preset (rootful, rootless, privileged,
//	               privileged-rootless, super-privileged), as Build would apply it
//	               on this host for the calling user
//	--spec FILE    a sandbox Spec as JSON, as `run --dry-run` prints it
//	--pid PID      a live process, through inspect.Process; a seccomp filter is
//	               taken to be Docker's default profile unless --seccomp-profile
//	               names the one loaded
//
//	flawcheck [--markdown | --json] [--flaws FILE] [--kernel RELEASE] [--why ID]
//	          [--preset NAME | --spec FILE | --pid PID [--seccomp-profile FILE]]
package main
