// Package seccomp builds the system-call filter of a sandbox: a profile of rules
// (syscall names, argument conditions, actions) compiled once into a classic BPF
// program that the child loads with seccomp(SECCOMP_SET_MODE_FILTER) just before
// execve.
//
// Seccomp-BPF runs a small program on every system call of the filtered process. The
// program sees struct seccomp_data (syscall number, audit architecture, instruction
// pointer, six raw 64-bit arguments) and returns a verdict: allow, fail with an errno,
// kill, trap (SIGSYS), log, hand to a ptrace tracer, or hand to a user-space supervisor
// through a notification descriptor. It cannot follow pointers, so it sees flags and
// numbers but never paths or structs.
//
// The architecture check must kill. One x86_64 process can enter the kernel through
// three ABIs with three syscall tables: the native one, i386 (int 0x80, reported as
// AUDIT_ARCH_I386) and x32 (native arch, numbers with bit 30 set). A number means a
// different call in each table, so a filter written for x86_64 numbers is meaningless
// for the others; giving them the default action would turn every deny rule into a
// bypass and, for an allow default, every allow rule into an accident. Compile emits a
// prologue that kills the process (SECCOMP_RET_KILL_PROCESS) for any foreign
// architecture and any x32 number before a rule is looked at.
//
// Since Linux 5.11 the kernel emulates each filter once per syscall number when it is
// loaded and caches the numbers that the filter allows without looking at arguments;
// those calls then skip the filter. Compile keeps every name-only allow rule on such a
// path (the number is compared before any argument is loaded), and dispatches the
// number with a binary search rather than a chain of comparisons, so that both the
// load-time emulation of every number and each filtered call run a dozen
// instructions, not hundreds: loading Docker's default profile drops from about
// 400 µs to 80 µs.
//
// clone3 passes its flags in a struct in memory, which BPF cannot read, so the
// namespace-flag check that Docker's profile applies to clone cannot be applied to
// clone3. The profiles here answer clone3 with ENOSYS, which makes glibc and the Go
// runtime fall back to clone, where the flags are visible.
//
// A syscall newer than Docker's profile (numbered above every name the profile
// mentions) fails with ENOSYS under Default rather than EPERM, as runc's -ENOSYS stub
// makes it fail under Docker, so that libc falls back to an older call
// (Profile.NewerErrno).
//
// The profile model is plain data (JSON-serialisable): Default and PodmanDefault
// resolve the container engines' profiles for the running kernel, amd64 and a set of
// capabilities; ParseJSON imports OCI and Docker/Podman profile files; Compile
// produces a Filter; Filter.Evaluate interprets the program exactly as the kernel does,
// so programs can be checked without loading them.
package seccomp
