#include "textflag.h"

// func int80(nr uint32, args *[6]uint32) int32
//
// The i386 system call nr through int 0x80, with its six arguments in EBX, ECX,
// EDX, ESI, EDI and EBP; returns EAX (the result, or a negated errno). BP is
// Go's frame pointer: it is saved around the call.
TEXT ·int80(SB), NOSPLIT, $0-20
	MOVL	nr+0(FP), AX
	MOVQ	args+8(FP), R8
	MOVL	0(R8), BX
	MOVL	4(R8), CX
	MOVL	8(R8), DX
	MOVL	12(R8), SI
	MOVL	16(R8), DI
	MOVL	20(R8), R9
	PUSHQ	BP
	MOVL	R9, BP
	INT	$0x80
	POPQ	BP
	MOVL	AX, ret+16(FP)
	RET
