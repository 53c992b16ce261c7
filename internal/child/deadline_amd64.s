#include "textflag.h"

// func deadlineHandler()
//
// The child's handler of the deadline signal: exit_group(125), then exit(125)
// if a seccomp filter refused that, then a fault, which no filter sees and
// which the kernel delivers even to a pid namespace's init.
TEXT ·deadlineHandler(SB),NOSPLIT|NOFRAME,$0-0
	MOVQ	$125, DI
	MOVQ	$231, AX	// SYS_exit_group
	SYSCALL
	MOVQ	$125, DI
	MOVQ	$60, AX	// SYS_exit
	SYSCALL
	MOVQ	$0, AX
	MOVQ	AX, (AX)
	INT	$3

// func deadlineHandlerPC() uintptr
TEXT ·deadlineHandlerPC(SB),NOSPLIT,$0-8
	MOVQ	$·deadlineHandler(SB), AX
	MOVQ	AX, ret+0(FP)
	RET
