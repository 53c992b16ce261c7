#include "textflag.h"

// func clone3Vfork(args *CloneArgs, size uintptr, p *Program, s *Start, entry uintptr) (pid uintptr, errno uintptr)
//
// clone3 with CLONE_VM and a stack of the child's own. With CLONE_VFORK the parent
// sleeps in the kernel until the child has exec'd or exited; a shared child's
// parent (no CLONE_VFORK) returns at once. The child starts on its own stack, so
// nothing of the parent's frames is overwritten (the pitfall of
// go.dev/issue/71892), and calls entry(p, s), which never returns: entry is
// vforkChild's own code (see childEntry), called with the internal register ABI,
// not through the ABI0 wrapper that a CALL from assembly would take, since a race
// build instruments that wrapper with a call into the race runtime, which would run
// on the parent's g0 stack.
TEXT ·clone3Vfork(SB),NOSPLIT|NOFRAME,$0-56
	MOVQ	args+0(FP), DI
	MOVQ	size+8(FP), SI
	MOVQ	p+16(FP), R12
	MOVQ	s+24(FP), R13
	MOVQ	entry+32(FP), R8
	MOVQ	$435, AX	// SYS_clone3
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, pid+40(FP)
	NEGQ	AX
	MOVQ	AX, errno+48(FP)
	RET
ok:
	MOVQ	AX, pid+40(FP)
	MOVQ	$0, errno+48(FP)
	RET
child:
	ANDQ	$~15, SP
	SUBQ	$16, SP	// the spill slots of entry's two register arguments
	MOVQ	(TLS), R14	// g, as the register ABI has it (the child never uses it)
	XORPS	X15, X15	// zero, as the register ABI has it
	MOVQ	R12, AX
	MOVQ	R13, BX
	CALL	R8
	MOVQ	$125, DI
	MOVQ	$231, AX	// SYS_exit_group
	SYSCALL
	INT	$3
