// Command sysprobe performs raw system calls and reports what the kernel answered,
// so that tests can check a sandbox's seccomp filter from inside it against the
// filter's own interpreter. It uses only calls that the Go runtime needs anyway,
// plus the ones it is asked to make; the pid1 mode reads /proc/1 and tries ptrace
// on PID 1, to show what a sandbox can learn of its init.
//
// Usage:
//
//	sysprobe call NR[/A0[/A1...]]...  one line per call: the errno (0 on success)
//	sysprobe loop N NR[/A0...]        makes the call N times; prints ns per call
//	sysprobe int80 NR                 i386 system call NR through int 0x80; prints EAX
//	sysprobe pid1 [SECRET...]         what /proc/1 and ptrace reveal of PID 1 (see pid1)
//	sysprobe escape                   leaves a chroot as root can; lists "/" where it ends
//
// Numbers are decimal or 0x-prefixed hexadecimal; a leading '-' negates (as an
// unsigned 64-bit value, so -1 is 0xffffffffffffffff).
//
// The int80 mode makes the process non-dumpable and sets RLIMIT_CORE to 0 first,
// so that a seccomp kill leaves no core file behind.
package main
