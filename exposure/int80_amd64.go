package exposure

// int80 makes the i386 system call nr through int 0x80 and returns EAX: the
// result, or a negated errno. It faults where the kernel has no IA32 emulation.
//
//go:noescape
func int80(nr uint32, args *[6]uint32) int32

// i386Call makes the i386 call nr with args (truncated to 32 bits) and returns
// its result and errno (0 on success); ok is false where there is no int 0x80.
func i386Call(nr int32, args [6]uint64) (ret, errno int, ok bool) {
	var a [6]uint32
	for i, v := range args {
		a[i] = uint32(v)
	}
	r := int80(uint32(nr), &a)
	if r < 0 && r > -4096 {
		return -1, int(-r), true
	}
	return int(r), 0, true
}
