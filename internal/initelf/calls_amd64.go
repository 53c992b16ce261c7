package initelf

import "golang.org/x/sys/unix"

const callArch = unix.AUDIT_ARCH_X86_64

// callList follows entry/entry_amd64.s; TestCallsMatchCode holds the two together.
var callList = []Call{
	{Name: "execveat", Nr: unix.SYS_EXECVEAT, Args: [6]uint64{4: unix.AT_EMPTY_PATH}, Required: true},
	{Name: "prctl", Nr: unix.SYS_PRCTL, Args: [6]uint64{unix.PR_SET_DUMPABLE, 0}, Required: true},
	{Name: "close_range", Nr: unix.SYS_CLOSE_RANGE, Args: [6]uint64{0, 0xffffffff, 0}},
	{Name: "rt_sigprocmask", Nr: unix.SYS_RT_SIGPROCMASK, Args: [6]uint64{unix.SIG_SETMASK, 0, 0, 8}, Required: true},
	{Name: "rt_sigtimedwait", Nr: unix.SYS_RT_SIGTIMEDWAIT, Args: [6]uint64{3: 8}, Required: true},
	{Name: "kill", Nr: unix.SYS_KILL, Required: true},
	{Name: "wait4", Nr: unix.SYS_WAIT4, Args: [6]uint64{^uint64(0), 0, unix.WNOHANG, 0}, Required: true},
	{Name: "exit_group", Nr: unix.SYS_EXIT_GROUP, Required: true},
}
