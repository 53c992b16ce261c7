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
// Every output starts with the host's settings that decide reachability
// (exposure.HostFacts): kernel release, IA32 emulation, the user namespace, bpf,
// io_uring and perf sysctls, the loaded LSMs.
//
// --probe starts each preset the caller can start (or --preset, or the Spec of
// --spec), runs flawcheck itself inside as the probe, and checks from inside each
// precondition the verdicts used (exposure.Checks), with harmless calls only,
// for two models of each sandbox: the Spec's (exposure.FromSpec) and the live
// probe's, inspected from outside while it waits (exposure.FromReportWith, told
// the seccomp profile the sandbox was started with, since the kernel does not
// show a filter's program). It prints every disagreement between a model and the sandbox and exits with 3 if
// there is one. --start-spec FILE starts that Spec instead while the model
// stays the other's, to show that a difference is found.
//
//	flawcheck [--markdown | --json] [--flaws FILE] [--kernel RELEASE] [--why ID]
//	          [--preset NAME | --spec FILE | --pid PID [--seccomp-profile FILE]]
//	flawcheck --probe [--markdown | --json] [--flaws FILE] [--preset NAME | --spec FILE] [--start-spec FILE]
package main
