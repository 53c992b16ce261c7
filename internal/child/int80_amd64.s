#include "textflag.h"

// zeroSigaction is a struct sigaction of the kernel's layout (handler, flags,
// restorer, mask) that says SIG_DFL.
GLOBL ·zeroSigaction(SB), RODATA|NOPTR, $32

// func int80Fork(fault bool) (pid uintptr, errno uintptr)
//
// Forks a child (clone with SIGCHLD and no new stack: the child runs on a copy of
// the caller's) that makes an i386 system call, exit(42), through int 0x80. The
// child runs only the instructions below: it restores SIGSEGV to its default
// action (the Go runtime's handler would not let a fault kill it), makes itself
// non-dumpable (no core file), and enters the 32-bit gate. Where the kernel has
// IA32 emulation it exits with status 42; where it has not, the instruction
// faults and SIGSEGV kills it; where a seccomp filter on the caller kills
// foreign architectures, SIGSYS does. With fault set, the child loads from
// address 0 instead of entering the gate: the fault a kernel without IA32
// emulation raises, for tests on kernels that have it.
TEXT ·int80Fork(SB),NOSPLIT|NOFRAME,$0-24
	MOVBQZX	fault+0(FP), R12
	MOVQ	$56, AX	// SYS_clone
	MOVQ	$17, DI	// SIGCHLD
	XORQ	SI, SI
	XORQ	DX, DX
	XORQ	R10, R10
	XORQ	R8, R8
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, pid+8(FP)
	NEGQ	AX
	MOVQ	AX, errno+16(FP)
	RET
ok:
	MOVQ	AX, pid+8(FP)
	MOVQ	$0, errno+16(FP)
	RET
child:
	MOVQ	$13, AX	// SYS_rt_sigaction
	MOVQ	$11, DI	// SIGSEGV
	LEAQ	·zeroSigaction(SB), SI
	XORQ	DX, DX
	MOVQ	$8, R10
	SYSCALL
	MOVQ	$157, AX	// SYS_prctl
	MOVQ	$4, DI	// PR_SET_DUMPABLE
	XORQ	SI, SI
	SYSCALL
	CMPQ	R12, $0
	JEQ	gate
	MOVQ	$0, AX
	MOVQ	(AX), AX	// the fault
gate:
	MOVL	$1, AX	// i386 exit
	MOVL	$42, BX
	INT	$0x80
	MOVQ	$43, DI	// not reached: the gate returned
	MOVQ	$231, AX	// SYS_exit_group
	SYSCALL
	INT	$3
