#include "textflag.h"

// Paddock's init, for x86-64. PID 1 of a sandbox's pid namespace executes it from a
// sealed memfd once it has forked the target, as
//
//	paddock-init TARGET-PID
//
// with an empty environment and every descriptor closed on exec. It makes itself
// non-dumpable, holds no descriptor, blocks every signal, sends SIGCONT to the
// target (which waits for it before it executes) and then waits for signals:
// SIGCHLD reaps every child that has ended, any other signal is forwarded to the
// target, and when the target ends the init exits with its status (128+N when a
// signal N killed it). A bad argument makes it exit 125.
//
// The code must run wherever the kernel loads it: only system calls and branches
// relative to the instruction pointer, no data of its own (what it keeps lives on
// its stack), no call. The generator (../gen) copies these bytes into
// ../code_amd64.go; a test fails when the two drift apart.
//
// Registers: R12 holds the target's pid for the whole run. The kernel clobbers CX
// and R11 in SYSCALL and returns -errno in AX on failure.

#define SYS_rt_sigprocmask	14
#define SYS_wait4		61
#define SYS_kill		62
#define SYS_rt_sigtimedwait	128
#define SYS_prctl		157
#define SYS_exit_group		231
#define SYS_close_range		436

#define PR_SET_DUMPABLE	4
#define SIG_SETMASK	2
#define SIGCHLD		17
#define SIGCONT		18
#define WNOHANG		1
#define EINTR		4
#define PID_MAX_LIMIT	4194304

// The frame below the kernel's argument block: the signal set (all ones) at 0(SP),
// the wait status at 8(SP), a siginfo_t (128 bytes) at 16(SP).
#define FRAME	144

TEXT ·entry(SB),NOSPLIT|NOFRAME,$0-0
	// Not dumpable: /proc/1 then belongs to root and reading or tracing it takes
	// CAP_SYS_PTRACE.
	MOVL	$SYS_prctl, AX
	MOVL	$PR_SET_DUMPABLE, DI
	XORL	SI, SI
	SYSCALL
	// No descriptor at all (PID 1 marked them all close-on-exec already): the
	// caller's pipes see EOF once the target closes its ends.
	MOVL	$SYS_close_range, AX
	XORL	DI, DI
	MOVL	$-1, SI
	XORL	DX, DX
	SYSCALL

	// The kernel's argument block: argc at 0(SP), argv[0] at 8(SP), argv[1] at 16(SP).
	CMPQ	0(SP), $2
	JNE	usage
	MOVQ	16(SP), SI
	XORL	R12, R12
digit:
	MOVBLZX	(SI), AX
	TESTL	AX, AX
	JEQ	parsed
	SUBL	$48, AX			// '0'
	CMPL	AX, $9
	JHI	usage			// not a digit (unsigned: below '0' wraps around)
	LEAQ	(R12)(R12*4), R12
	ADDQ	R12, R12
	ADDQ	AX, R12			// R12 = 10*R12 + digit
	CMPQ	R12, $PID_MAX_LIMIT
	JHI	usage
	INCQ	SI
	JMP	digit
parsed:
	TESTQ	R12, R12
	JEQ	usage

	// Block every signal, so that each waits in the queue for sigtimedwait.
	SUBQ	$FRAME, SP
	MOVQ	$-1, 0(SP)
	MOVL	$SYS_rt_sigprocmask, AX
	MOVL	$SIG_SETMASK, DI
	MOVQ	SP, SI
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	// Release the target, which waits for SIGCONT before it executes: it runs
	// only once the init runs, non-dumpable and holding no descriptor.
	MOVL	$SYS_kill, AX
	MOVQ	R12, DI
	MOVL	$SIGCONT, SI
	SYSCALL

wait:
	// rt_sigtimedwait(&set, &info, NULL, 8): the next signal, or -errno.
	MOVL	$SYS_rt_sigtimedwait, AX
	MOVQ	SP, DI
	LEAQ	16(SP), SI
	XORL	DX, DX
	MOVL	$8, R10
	SYSCALL
	CMPQ	AX, $0
	JLE	wait			// EINTR, or nothing: wait again
	CMPQ	AX, $SIGCHLD
	JEQ	reap
	// Forward anything else to the target: kill(target, sig).
	MOVQ	AX, SI
	MOVQ	R12, DI
	MOVL	$SYS_kill, AX
	SYSCALL
	JMP	wait

reap:
	// wait4(-1, &status, WNOHANG, NULL) until no ended child is left.
	MOVL	$SYS_wait4, AX
	MOVQ	$-1, DI
	LEAQ	8(SP), SI
	MOVL	$WNOHANG, DX
	XORL	R10, R10
	SYSCALL
	CMPQ	AX, $-EINTR
	JEQ	reap
	CMPQ	AX, $0
	JLE	wait			// 0: the rest still run; -ECHILD: no child left
	CMPQ	AX, R12
	JNE	reap			// an orphan the init inherited: reaped, go on

	// The target ended. Killed by signal N (the low 7 bits): 128+N; exited:
	// its exit code (bits 8 to 15).
	MOVL	8(SP), DX
	MOVL	DX, DI
	ANDL	$0x7f, DI
	JEQ	exited
	ADDL	$128, DI
	JMP	exit
exited:
	MOVL	DX, DI
	SHRL	$8, DI
	ANDL	$0xff, DI
exit:
	MOVL	$SYS_exit_group, AX
	SYSCALL
	JMP	exit

usage:
	MOVL	$125, DI
	JMP	exit
