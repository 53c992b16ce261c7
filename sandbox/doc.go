// Package sandbox starts isolated Linux processes from the caller's own program.
//
// A Spec describes a sandbox as plain data: which namespaces are new, shared or
// joined; the ID maps of a user namespace; the root filesystem (an overlay) and the
// mounts in it; the capabilities, the seccomp filter, no_new_privs, Landlock and
// SELinux; the cgroup and its limits. Presets (Rootful, Rootless, Privileged,
// SuperPrivileged) and options (WithUserNS, WithMask, WithCaps, WithSeccompProfile,
// ...) are functions that edit a Spec. A Builder validates it and compiles it, once,
// into a Template: the seccomp program, the mount table, the capability masks, the
// ID maps and every C string the child needs. Template.Start clones the calling
// process; the child, which must not allocate or grow its stack, executes that
// precompiled program with raw system calls and then executes the target. No
// daemon, no cgo, no re-execution of the Go binary.
//
// Paddock supports only linux/amd64: the child's vfork trampoline and deadline
// timer and the sandbox's init are amd64 code, and no other platform is tested.
// On any other platform the package does not build, and the compiler names the
// reason (undefined: paddock_supports_only_linux_amd64).
//
// # Presets and options
//
// A Builder's Spec is a base and the options on top of it. The base is the
// last preset (Rootful, Rootless, SuperPrivileged) or WithSpec it is given,
// DefaultSpec when there is none; every other option applies to it in the
// order written, whether it stands before the preset or after it. An option is
// thus never lost to a preset given later: WithHostname("box") before Rootful()
// still names the host box, and WithCaps("CHOWN") before or after Rootful()
// still leaves the sandbox only CAP_CHOWN. Between the other options, the later
// one wins. Privileged is such an ordinary option: it turns the hardening off
// where it stands, so WithCaps or WithSeccompProfile must come after it to
// override it. Builder.Spec shows the composed Spec, and With, also after Build,
// composes the same way.
//
// # The four kinds
//
// The kinds of container set themselves apart by the mechanisms in force. A rootful
// sandbox is started by root without a user namespace: root inside is root outside,
// held in by new namespaces, 14 capabilities, Docker's seccomp profile,
// no_new_privs, masked and read-only kernel filesystems and a device cgroup. A
// rootless sandbox adds a user namespace in which root is the caller's own user
// outside: whatever it does, it can do no more than the caller. Started by root,
// a rootless sandbox is root of a block of unprivileged host IDs instead, drawn
// for each start from an automatic range (WithAutoUserNS). Privileged removes
// the hardening (all capabilities, no seccomp, no masks, /sys writable, all
// devices) but keeps the namespaces new; a rootless privileged sandbox is still
// bounded by the caller's user. Super-privileged keeps only a new mount namespace and
// shows the host's "/" at /host. Package inspect tells which kind a live process
// amounts to, and why; Spec.Describe tells it of a Spec before it starts, read
// off the Spec's Plan (Spec.Plan: what the Spec resolves to on this host, which
// Build emits the child's steps from).
//
// Mechanism by mechanism, the presets set the following (TestKindsTable generates
// this list from the presets, between the kinds-table markers, and keeps README.md's
// table the same):
//
// kinds-table
//
//	namespaces
//	  rootful                new mnt, pid, net, ipc, uts, cgroup; host user, time
//	  rootless               new user, mnt, pid, net, ipc, uts, cgroup; host time
//	  privileged (rootful)   new mnt, pid, net, ipc, uts, cgroup; host user, time
//	  privileged (rootless)  new user, mnt, pid, net, ipc, uts, cgroup; host time
//	  super-privileged       new mnt; host user, pid, net, ipc, uts, cgroup, time (a rootless caller: new user, mnt; host pid, net, ipc, uts, cgroup, time)
//
//	ID maps
//	  rootful                none: root is root
//	  rootless               root is the caller's uid and gid (one ID)
//	  privileged (rootful)   none: root is root
//	  privileged (rootless)  root is the caller's uid and gid (one ID)
//	  super-privileged       none: root is root (a rootless caller: root is the caller's uid and gid (one ID))
//
//	capabilities
//	  rootful                Docker's 14
//	  rootless               Docker's 14, over the user namespace only
//	  privileged (rootful)   all of the caller's bounding set
//	  privileged (rootless)  all of the caller's bounding set, over the user namespace only
//	  super-privileged       all of the caller's bounding set (a rootless caller: all of the caller's bounding set, over the user namespace only)
//
//	seccomp
//	  rootful                Docker's profile (EPERM)
//	  rootless               Docker's profile (EPERM)
//	  privileged (rootful)   none
//	  privileged (rootless)  none
//	  super-privileged       none
//
//	masks
//	  rootful                Docker's 13 paths of /proc and /sys
//	  rootless               Docker's 13 paths of /proc and /sys
//	  privileged (rootful)   none
//	  privileged (rootless)  none
//	  super-privileged       none
//
//	read-only kernel filesystems
//	  rootful                Docker's 5 paths of /proc, /sys and /sys/fs/cgroup
//	  rootless               Docker's 5 paths of /proc, /sys and /sys/fs/cgroup
//	  privileged (rootful)   none: /sys and /sys/fs/cgroup writable
//	  privileged (rootless)  none: /sys and /sys/fs/cgroup writable
//	  super-privileged       none: /sys and /sys/fs/cgroup writable
//
//	SELinux label (where enabled)
//	  rootful                container_t, a unique MCS pair
//	  rootless               container_t, a unique MCS pair
//	  privileged (rootful)   spc_t, s0
//	  privileged (rootless)  spc_t, s0
//	  super-privileged       spc_t, s0
//
//	no_new_privs
//	  rootful                set
//	  rootless               set
//	  privileged (rootful)   not set
//	  privileged (rootless)  not set
//	  super-privileged       not set
//
//	cgroup
//	  rootful                one per start; Docker's device rules
//	  rootless               one per start where delegated (cgroup v2), else the caller's; Docker's device rules
//	  privileged (rootful)   one per start; all devices
//	  privileged (rootless)  one per start where delegated (cgroup v2), else the caller's; all devices
//	  super-privileged       one per start; all devices (a rootless caller: one per start where delegated (cgroup v2), else the caller's; all devices)
//
//	processes
//	  rootful                at most 2048 (pids cgroup)
//	  rootless               at most 2048 (pids cgroup where delegated, else RLIMIT_NPROC in the user namespace)
//	  privileged (rootful)   at most 2048 (pids cgroup)
//	  privileged (rootless)  at most 2048 (pids cgroup where delegated, else RLIMIT_NPROC in the user namespace)
//	  super-privileged       at most 2048 (pids cgroup) (a rootless caller: at most 2048 (pids cgroup where delegated, else RLIMIT_NPROC in the user namespace))
//
// /kinds-table
//
// # The init
//
// A sandbox with a new pid namespace runs its target as PID 1, which the kernel
// spares from every signal it has no handler for and to which it re-parents every
// orphan. WithInit puts an init there instead, as podman run --init does: PID 1
// forks the target, then executes an init of Paddock's own (package
// internal/initelf: a few hundred bytes of x86-64 machine code, no libc, no Go
// runtime) from a sealed memfd that Build made, with an empty environment and no
// descriptor. The init makes itself non-dumpable, reaps every child, forwards
// every signal but SIGCHLD to the target and exits with the target's status, 128+N
// when signal N killed it. Before that exec PID 1 holds the target's user,
// capabilities, no_new_privs, SELinux label and seccomp filter; after it, it holds
// nothing of the caller: no memory, environment or descriptor. Without
// CAP_SYS_PTRACE (which only the privileged kinds have) the target can neither read
// /proc/1/environ, maps or mem nor trace PID 1. PID 1 does not take the target's
// Landlock ruleset, which would forbid executing a memfd; the target, inside its
// Landlock domain, can then neither trace PID 1 nor read its memory.
//
// Build refuses an init, with a not-supported *SpecError, where it cannot run: on an
// architecture other than amd64, where vm.memfd_noexec forbids executable memfds,
// and under a seccomp filter that refuses or kills one of the init's system calls.
//
// # A joined pid namespace
//
// setns(2) of a pid namespace moves only the joiner's later children into it. With
// an init, PID 1 forks the target there and stays outside, its parent. Without
// one, each start hands over, as runc and crun fork twice: once it has joined its
// namespaces, the child clones the target into the pid namespace as a child of the
// caller (CLONE_PARENT), reports it and exits, and the parent reaps it. The
// Process is then the target, where an OCI engine expects the container's
// process: Pid, PidFD, Signal, Wait, Release and Detach are the target's, and a
// step of the target that fails is its ChildError, the target killed and reaped.
//
// # A tmpfs filled from the root
//
// A tmpfs with CopyUp (WithTmpfsCopyUp, mounts.Tmpfs.CopyUp, mounts.Mount.CopyUp;
// Podman's tmpcopyup) starts with what the root filesystem holds at its mount
// point. The child copies nothing and stays allocation-free: each start stops
// once the child's mounts are made, before pivot_root, and the parent copies in
// Go while it waits. It reaches the tmpfs through the child's mount namespace
// (/proc/<pid>/root, the staging root, the mount point, each with openat2
// RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), checks that it is the root of a tmpfs
// holding only the mount points of the Spec's mounts below it, and reads the
// same path of the root as the host sees it, resolved inside the root directory
// or inside the one overlay layer that holds it (a path held by several layers
// fails with EOPNOTSUPP rather than be merged). The walk goes by descriptor, 64
// directory levels at most, and never follows a symbolic link of the root:
// directories, regular files (copy_file_range, or read and write), symbolic
// links as links, FIFOs, and device nodes where the caller may make them (a root
// caller); sockets are skipped, hard links become separate files, extended
// attributes are not copied. The copies get their sources' modes and times. A
// root caller copies as the sandbox's root (where that is another host user, on
// a thread of its own whose filesystem IDs it sets, and back, with setfsuid and
// setfsgid: the kernel makes files in the sandbox's tmpfs only under IDs its
// user namespace maps) and gives each copy its source's owner where the
// namespace maps it (on idmapped layers, the host ID the owner stands for); a
// source owned by an unmapped ID is copied as the sandbox root's. A rootless
// caller's copies are its own, which Build makes sure is the sandbox's root. The
// tmpfs's own root keeps its mode. The mounts of the Spec below it are left to
// cover what they cover. A full tmpfs fails the start with a *ChildError of errno
// ENOSPC naming the mount and the file, and the tmpfs dies with the child. Build
// refuses copy-up, by the tmpfs's field, without a root to copy from (the host's
// "/"), on "/", in vfork mode, and for a rootless caller in a user namespace
// whose root is not the caller. The stop costs a start ~0.15 ms; each copied
// file ~30 µs.
//
// # Limits and how a run ended
//
// The presets bound a sandbox's processes and threads to DefaultPidsLimit (2048,
// Podman's default): the pids controller of its cgroup where it has one, else
// RLIMIT_NPROC (Spec.RlimitFallback). WithMemoryLimit, WithPidsLimit and WithCPUs
// set cgroup limits; Build refuses them with ErrNotSupported where no cgroup can
// enforce them (an unprivileged caller on cgroup v1), unless WithRlimitFallback
// lets RLIMIT_AS and RLIMIT_NPROC stand in, as nsjail's rlimits do. Limits bound
// one run: WithTimeLimit (wall time), WithCPUTimeLimit (RLIMIT_CPU, and the
// cgroup's CPU time where there is one) and WithOutputLimit (the bytes the
// copiers pass to Stdout and Stderr). ExitStatus.Limit names the limit that ended
// a run, as the verdicts of a code runner do: LimitWallTime, LimitCPUTime,
// LimitMemory (an OOM kill), LimitPids (a refused fork, then a failure) or
// LimitOutput; ExitStatus.PidsLimitHit says whether the pids limit refused a fork
// at all. Rlimits other than RLIMIT_CPU make a call fail rather than kill: nothing
// tells from outside that they ended a run.
//
// # Errors
//
// Build fails before anything is cloned, with a *SpecError that names the field
// and wraps the domain package's error: it matches ErrInvalidSpec, or
// ErrNotSupported (its NotSupported set) for what this host or caller lacks. A step that fails inside the
// child comes back from Start as a *ChildError naming its stage, what it did and
// the errno; the child is reaped and its cgroup removed, so nothing is left behind.
// A child that dies before it executes the target without saying why (killed, or
// a seccomp filter refused its report) fails the start as well.
//
// A seccomp filter is loaded before the child's last steps: Build runs it, with
// the interpreter of package seccomp, on every system call the child makes from
// there to execve (the signal mask, execve, the report and exit_group of a failed
// step, and without no_new_privs the user switch and capset), and refuses with a
// *SpecError naming them a filter that refuses one the child needs, kills or traps
// one, or holds one for a notification, which nobody can answer before Start
// returns. The calls are checked with the arguments the child passes, its
// descriptors and per-start pointers as 0; a filter that decides on those escapes
// the check, and the start's context bounds what follows.
//
// A Template follows the host's mount table, which its plan of the root filesystem
// was read from: Start plans that filesystem again where the table changed since
// (see Template.Start), and returns an error matching ErrStale where the new
// plan fails; the Template then no longer fits the host, and a new one must be
// built.
//
// # Contexts
//
// The end of the context given to Start kills the sandbox. Before the target
// runs, Start then returns, within the context's deadline in either spawn mode,
// an error that matches the context's (errors.Is(err, context.DeadlineExceeded)
// or context.Canceled): a *ChildError once the child was cloned, the context's
// own error before. After, Wait and Run return the context's error along with
// the status of the killed process, as os/exec's Cmd.Wait does. In vfork mode the
// cloning thread sleeps in clone3 until the child has executed the target or
// died; it does so as in a system call, so the Go runtime's other goroutines, and
// its garbage collector, go on. The child carries the deadline itself, a timer
// that execve deletes; a context without a deadline reaches a vfork child through
// the pidfd that clone3 made.
//
// # Standard streams
//
// An *os.File in a Command is the target's descriptor itself; any other reader
// or writer is served through a pipe by a goroutine until Wait. One writer given
// as both Stdout and Stderr (the same value under ==) gets one pipe and one
// goroutine: it sees one Write at a time, in the order the target wrote. Two
// different writers get one goroutine each and may see concurrent Writes.
// Command.WaitDelay bounds how long Wait waits for these goroutines once the
// process has exited (a descendant that outlived it may hold a pipe open); then
// Wait closes the pipes and returns ErrWaitDelay. Template.Output and
// CombinedOutput run a Command and collect what it writes.
//
// # A warm pool
//
// Template.Pool keeps up to n sandboxes set up to the last step that does not
// depend on the command (after pivot_root), each waiting for one; Start hands a
// waiting one its command and refills the pool in the background, and starts
// without the pool when none waits. Template.Warm says how many wait. A pooled
// start is isolated as an unpooled one is; the end of the pool's context,
// Template.Close and the caller's death kill and remove the waiting ones.
//
// # Create, then start
//
// WithHold holds every start of a Template just before execve, after every other
// step (namespaces, cgroup, root and mounts, the user, capabilities, the seccomp
// filter): Start returns once the sandbox waits there, Process.Pid its future
// target's pid, in the target's namespaces and cgroup. The target runs once a
// reader opens the FIFO that the Command names (Command.HoldFIFO) and takes the
// byte the sandbox writes there: Process.Release in this process, which also
// reports a target that could not be executed, or Release in any other. Before
// it holds, the sandbox checks that one of the target's candidate paths can be
// executed (stat, then faccessat2 with X_OK as the target's user), so that a
// program that is not there fails Start as execve would, as runc's create finds
// it; one that goes before the release fails the release. This is
// runc's exec FIFO, the base of an OCI runtime's create and start. The sandbox
// reaches the FIFO, on the host and outside its root, by a descriptor the parent
// opened, through the host's procfs, never through a path of its own root. A held
// start needs fork mode (Build chooses it and refuses vfork mode) and no Landlock
// ruleset, which forbids opening a file outside it; a seccomp filter must allow
// the hold's openat and write, which Build checks as it checks the other calls
// (a filter that refuses the check's newfstatat or faccessat2 leaves the
// judgement to execve).
// While held, the sandbox is a sandbox like any other: the end of the start's
// context kills it, and Wait waits for it.
//
// WithDetached lets a sandbox outlive the process that started it, as a
// container outlives the runtime that created it: no parent-death signal, and
// Process.Detach gives the Process up without Wait. What identifies the sandbox
// afterwards (Detached: its pid, the pid's start time, its cgroup's directories)
// is plain data; Remove, from any process, kills the sandbox and removes its
// cgroup. Build refuses a detached Spec with what the starting process would have
// to keep doing: run-time limits, an automatic ID range, a fuse-overlayfs root.
//
// WithCgroupPath puts a sandbox in exactly the cgroup named, as an OCI runtime
// reads cgroupsPath, instead of one per start: made where missing (and then
// removed with the sandbox, or by Remove), joined and left where an engine made it
// first. A sandbox that joins every namespace of a running one
// (WithJoinNamespaceOf for each kind) and its cgroup, its target handed over
// into the joined pid namespace (see WithJoinNamespace), is an OCI runtime's
// exec.
//
// # What a killed caller leaves
//
// Staging directories and cgroups carry the caller's owner ID (16 random hex
// digits), whose liveness lock the process holds while anything of it lives. A
// caller killed with SIGKILL runs no cleanup; Reclaim, which Build also runs at
// most once every ten seconds per process, removes the empty cgroups and staging
// directories of every owner whose lock it can take, and only those.
package sandbox
