// Package exposure answers, for a kernel or runtime flaw and a sandbox: is the
// flaw reachable from inside, and which isolation layer stops it?
//
// A Flaw (catalogue.json, embedded; users add their own with ParseJSON or
// LoadFile) says what the vulnerable code needs: capabilities and the user
// namespace they are checked in, system calls with the argument values the
// attack passes, namespaces to create, files and device nodes it opens, host
// namespaces or mounts it must share, whether it ends by executing a setuid or
// file-capability program, whether SELinux's container_t policy denies a step,
// the kernel options its code needs, what must happen outside the sandbox for a
// runtime flaw, and the affected kernel range, with public sources. Mechanisms
// is what a sandbox puts in force: FromSpec derives it from a sandbox.Spec as
// Build would apply it on this host, FromReport from the report on a live
// process (inspect.Process). Evaluate applies the kernel's rules below and
// returns a Verdict with the reasoning in plain words.
//
// The rules, and where the kernel documents them:
//
//   - Capabilities are held per user namespace. A check with capable() (scope
//     "initial") counts only capabilities in the initial user namespace; a
//     check with ns_capable() against the owner of a namespace (scope "any")
//     counts capabilities in that owner. A sandbox in its own user namespace
//     reaches only the namespaces it created, never the host's
//     (user_namespaces(7), "Capabilities"; capabilities(7)).
//   - A capability is held when it is effective or permitted, or in the
//     bounding set while no_new_privs is off (a setuid-root or file-capability
//     program raises it at execve; capabilities(7), "Transformation of
//     capabilities during execve"; prctl(2) PR_SET_NO_NEW_PRIVS).
//   - Creating a user namespace gives its creator every capability in it,
//     whatever its bounding set, and over every namespace created with it
//     (user_namespaces(7)). So a need of scope "any" is reachable whenever the
//     filter lets unshare or clone through with CLONE_NEWUSER and the flags of
//     the namespaces checked. Creating a user namespace needs no capability;
//     creating any other namespace needs CAP_SYS_ADMIN in the current user
//     namespace. clone3 passes its flags in memory that seccomp cannot read, so
//     a filter can only refuse it whole.
//   - Unprivileged, a process can map only its own ID into a user namespace it
//     creates. A larger map (Flaw.MapIDs) needs CAP_SETUID (CAP_SETGID for
//     groups) in the parent user namespace, held or raised by a setuid helper
//     such as newuidmap, and the parent must map those IDs itself: the initial
//     user namespace maps all, a sandbox's own one Mechanisms.MappedUIDs.
//   - Resources owned by the initial user namespace (host files, global
//     sysctls, device nodes that are not world-accessible) stay out of reach of
//     root of any other user namespace: its uid maps to an unprivileged host uid.
//     A user namespace that maps a uid to host uid 0 (a root caller's own-ID
//     map, Mechanisms.MapsHostRoot) keeps host root's owner permissions on them
//     (credentials(7): file access checks use the host's fsuid), though not its
//     capabilities.
//   - Seccomp is judged by running the compiled BPF program (seccomp.Filter
//     Evaluate) on struct seccomp_data for each way an x86_64 process can make
//     the call: the native table, the i386 table through int 0x80
//     (AUDIT_ARCH_I386), and for socket calls i386 socketcall(2), whose
//     arguments lie in memory the filter cannot see, so an argument rule on
//     socket() does not cover it (Documentation/userspace-api/seccomp_filter.rst;
//     seccomp(2), "Caveats"). Allow and log pass; a user notification is counted
//     as passing, since a supervisor decides. Where the kernel has no IA32
//     emulation (Mechanisms.I386, probed by seccomp.I386Gate), int 0x80 faults
//     before any system call is dispatched: no i386 call reaches the kernel,
//     filter or not, and the kernel-config layer stops a flaw that needs one.
//   - A masked path cannot be read or written, and a read-only path cannot be
//     written, unless the sandbox holds CAP_SYS_ADMIN over its own mount
//     namespace, may call umount2 or mount, and has no Landlock ruleset: then it
//     can remove the mask. Mounts copied into a mount namespace the attacker
//     creates later are locked together and cannot be unmounted one by one
//     (mount_namespaces(7), "Restrictions on mount namespaces").
//   - The device cgroup's rules apply in order, the last matching one deciding
//     (Documentation/admin-guide/cgroup-v1/devices.rst). A missing device node
//     can be created only with CAP_MKNOD in the initial user namespace.
//   - Landlock denies file access outside its rules and every mount topology
//     change (Documentation/userspace-api/landlock.rst).
//   - A flaw's kernel options (KernelNeed: the classifier, netfilter code,
//     socket family or filesystem it is in) are judged by what the kernel is
//     known to be built with (KernelCode, which ReadKernelCode reads from
//     /proc/config.gz or /boot/config-RELEASE, /sys/module, modules.builtin and
//     modules.dep; FromPlan and FromReport read it for the running kernel): an
//     option not set, or a module not loaded once kernel.modules_disabled is 1,
//     closes the flaw as the kernel-config layer.
//     A module is otherwise taken as loadable, since tc, nfnetlink and socket()
//     request their modules on first use. An unknown option is named, not
//     guessed.
//   - A runtime flaw's triggers (an exec or docker cp by the operator, an image
//     or a shared volume the attacker supplies, any start) happen outside the
//     sandbox: the verdict names them and credits no layer with stopping them.
//   - SELinux stops a flaw when the process runs in a confined type
//     (container_t; not spc_t or unconfined_t) and the flaw's entry says the
//     policy denies one of its steps: the confined type may write only
//     container_file_t files and may not mount or load modules, which is how it
//     stopped the runc /proc/self/exe overwrite and the release_agent escape
//     (Red Hat's and Unit 42's write-ups cited in the catalogue; the reference
//     on SELinux and containers is Dan Walsh's "Container security and
//     SELinux").
//   - The running kernel's settings (HostFacts, read by ReadHost) close some
//     paths whatever the sandbox: kernel.unprivileged_bpf_disabled refuses
//     program loading without CAP_BPF or CAP_SYS_ADMIN in the initial user
//     namespace, kernel.io_uring_disabled refuses io_uring_setup (2: to all; 1:
//     without CAP_SYS_ADMIN in the initial user namespace or the io_uring
//     group), user.max_user_namespaces=0 and Debian's
//     kernel.unprivileged_userns_clone=0 refuse new user namespaces, and
//     perf_event_paranoid 3 (a distribution's level) refuses perf events
//     (Documentation/admin-guide/sysctl/kernel.rst). They count as the
//     kernel-config layer. A host /dev seen from another user namespace opens
//     only the nodes the host leaves open to every user.
//   - A distribution's kernel (Debian, Ubuntu, Red Hat, ...) reports its
//     upstream base release and carries backported fixes: when that base lies
//     in a flaw's affected range, the verdict is "version-dependent" and taken
//     as affected, never guessed fixed.
//
// A layer blocks a flaw "on its own" when the flaw stays unreachable in a
// sandbox where that layer is kept as it is and every other layer is removed
// (root of the initial user namespace with every capability, host namespaces
// and filesystem, no filter, masks, read-only paths, device cgroup, SELinux,
// Landlock or no_new_privs, any kernel). Evaluate computes this by evaluating
// such a sandbox once per layer; when no layer suffices alone it lists the pairs
// that do. Runtime entries (runc, containerd) describe those programs, not
// Paddock's own spawner; their verdict assumes an affected version.
//
// The model can be checked against a live sandbox: Checks lists the
// preconditions a verdict rests on (capabilities, user namespace, namespace
// creation, each system call with the flaw's arguments, natively and through
// int 0x80, the seccomp mode and i386 gate, files and device nodes, host namespaces and root) as probes;
// RunProbes, in a process started inside the sandbox, answers them with harmless
// calls (arguments that fail once past the filter, opens that write nothing,
// faccessat2 for devices, namespaces made in a child that then fails to execute);
// Compare lists every disagreement. examples/flawcheck --probe does this for
// Paddock's presets.
package exposure
