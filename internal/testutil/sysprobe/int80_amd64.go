package main

// int80 makes the i386 system call nr through int 0x80 and returns EAX (the
// result, or a negated errno).
func int80(nr uint32) (int32, bool) { return int80asm(nr), true }

func int80asm(nr uint32) int32
