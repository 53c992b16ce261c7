#include "textflag.h"

// func clone3Vfork(args *CloneArgs, size uintptr, p *Program, s *Start) (pid uintptr, errno uintptr)
//
// clone3 with CLONE_VM|CLONE_VFORK and a stack of the child's own. The parent sleeps
// in the kernel until the child has exec'd or exited; the child starts on its own
// stack, so nothing of the parent's frames is overwritten (the pitfall of
// go.dev/issue/71892), and calls vforkChild(p, s), which never returns.
TEXT ·clone3Vfork(SB),NOSPLIT|NOFRAME,$0-48
	MOVQ	args+0(FP), DI
	MOVQ	size+8(FP), SI
	MOVQ	p+16(FP), R12
	MOVQ	s+24(FP), R13
	MOVQ	$435, AX	// SYS_clone3
	SYSCALL
	CMPQ	AX, $0
	JEQ	child
	CMPQ	AX, $0xfffffffffffff001
	JLS	ok
	MOVQ	$-1, pid+32(FP)
	NEGQ	AX
	MOVQ	AX, errno+40(FP)
	RET
ok:
	MOVQ	AX, pid+32(FP)
	MOVQ	$0, errno+40(FP)
	RET
child:
	ANDQ	$~15, SP
	SUBQ	$16, SP
	MOVQ	R12, 0(SP)
	MOVQ	R13, 8(SP)
	CALL	·vforkChild(SB)
	MOVQ	$125, DI
	MOVQ	$231, AX	// SYS_exit_group
	SYSCALL
	INT	$3
