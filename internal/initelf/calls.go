package initelf

// A Call is a system call of the init as a seccomp filter sees it: the init runs
// under the target's filter, so a filter that refuses one of these breaks it.
type Call struct {
	Name string
	Nr   int32
	// Args are the arguments that do not vary between runs (pointers and pids are 0).
	Args [6]uint64
	// Required says that the init cannot do its work, or keep its promises, when
	// the call fails. The others may fail with an errno (the init goes on) but must
	// not kill it.
	Required bool
}

// Calls returns the system calls of the init, execveat (made by PID 1 to start it)
// first, and the AUDIT_ARCH_* value they are made with. It is empty where there is
// no init.
func Calls() (arch uint32, calls []Call) { return callArch, callList }
