package exposure

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Audit architectures as seccomp_data.arch reports them (linux/audit.h).
const (
	// AuditArchX8664 is the native x86_64 ABI.
	AuditArchX8664 uint32 = 0xc000003e
	// AuditArchI386 is the i386 ABI an x86_64 process reaches with int 0x80.
	AuditArchI386 uint32 = 0x40000003
)

// i386SocketcallNr is socketcall(2) on i386: one entry point for every socket
// call, whose arguments sit in memory that a seccomp filter cannot read.
const i386SocketcallNr = 102

// sysnum holds the numbers of one system call in the x86_64 and i386 tables
// (arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl), and for socket
// calls the SYS_* sub-call number of i386 socketcall (linux/net.h).
type sysnum struct {
	amd64, i386 int32
	socketcall  uint64
}

// syscalls is the table of the system calls a flaw may name. Names outside it
// are rejected when a flaw is validated.
var syscalls = map[string]sysnum{
	"read":              {0, 3, 0},
	"write":             {1, 4, 0},
	"open":              {2, 5, 0},
	"mmap":              {9, 192, 0}, // i386 mmap2
	"munmap":            {11, 91, 0},
	"ioctl":             {16, 54, 0},
	"pipe":              {22, 42, 0},
	"mremap":            {25, 163, 0},
	"madvise":           {28, 219, 0},
	"socket":            {41, 359, 1},
	"connect":           {42, 362, 3},
	"sendto":            {44, 369, 11},
	"sendmsg":           {46, 370, 16},
	"recvmsg":           {47, 372, 17},
	"bind":              {49, 361, 2},
	"socketpair":        {53, 360, 8},
	"setsockopt":        {54, 366, 14},
	"clone":             {56, 120, 0},
	"execve":            {59, 11, 0},
	"mkdir":             {83, 39, 0},
	"ptrace":            {101, 26, 0},
	"mknod":             {133, 14, 0},
	"modify_ldt":        {154, 123, 0},
	"pivot_root":        {155, 217, 0},
	"chroot":            {161, 61, 0},
	"mount":             {165, 21, 0},
	"umount2":           {166, 52, 0},
	"setxattr":          {188, 226, 0},
	"futex":             {202, 240, 0},
	"waitid":            {247, 284, 0},
	"add_key":           {248, 286, 0},
	"keyctl":            {250, 288, 0},
	"openat":            {257, 295, 0},
	"mknodat":           {259, 297, 0},
	"unshare":           {272, 310, 0},
	"splice":            {275, 313, 0},
	"pipe2":             {293, 331, 0},
	"perf_event_open":   {298, 336, 0},
	"name_to_handle_at": {303, 341, 0},
	"open_by_handle_at": {304, 342, 0},
	"setns":             {308, 346, 0},
	"bpf":               {321, 357, 0},
	"renameat2":         {316, 353, 0},
	"userfaultfd":       {323, 374, 0},
	"io_uring_setup":    {425, 425, 0},
	"io_uring_enter":    {426, 426, 0},
	"io_uring_register": {427, 427, 0},
	"open_tree":         {428, 428, 0},
	"move_mount":        {429, 429, 0},
	"fsopen":            {430, 430, 0},
	"fsconfig":          {431, 431, 0},
	"fsmount":           {432, 432, 0},
	"fspick":            {433, 433, 0},
	"clone3":            {435, 435, 0},
}

// Syscalls returns the names of the system calls a flaw may name, sorted.
func Syscalls() []string {
	names := make([]string, 0, len(syscalls))
	for n := range syscalls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone flags for namespaces (linux/sched.h).
const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
	cloneNewTime   = 0x00000080
)

// constants are the symbolic values an argument may be written with in a flaw
// file, joined with "|" ("CLONE_NEWUSER|CLONE_NEWNET").
var constants = map[string]uint64{
	"AF_UNIX":                     1,
	"AF_INET":                     2,
	"AF_INET6":                    10,
	"AF_NETLINK":                  16,
	"AF_PACKET":                   17,
	"AF_VSOCK":                    40,
	"SOCK_STREAM":                 1,
	"SOCK_DGRAM":                  2,
	"SOCK_RAW":                    3,
	"NETLINK_ROUTE":               0,
	"NETLINK_NETFILTER":           12,
	"NETLINK_GENERIC":             16,
	"SOL_IP":                      0,
	"SOL_SOCKET":                  1,
	"SO_ATTACH_BPF":               50,
	"SO_VM_SOCKETS_BUFFER_SIZE":   0,
	"MSG_PEEK":                    2,
	"MSG_MORE":                    0x8000,
	"SO_NO_CHECK":                 11,
	"SOL_PACKET":                  263,
	"PACKET_RX_RING":              5,
	"PACKET_VERSION":              10,
	"PACKET_RESERVE":              12,
	"PACKET_VNET_HDR":             15,
	"PACKET_FANOUT":               18,
	"IPT_SO_SET_REPLACE":          64,
	"O_NOTIFICATION_PIPE":         0x80,
	"MADV_DONTNEED":               4,
	"PTRACE_TRACEME":              0,
	"PTRACE_POKEDATA":             5,
	"PTRACE_SETREGS":              13,
	"PTRACE_ATTACH":               16,
	"KEYCTL_JOIN_SESSION_KEYRING": 1,
	"IORING_REGISTER_PBUF_RING":   22,
	"RENAME_EXCHANGE":             2,
	"BPF_MAP_CREATE":              0,
	"BPF_PROG_LOAD":               5,
	"CLONE_NEWNS":                 cloneNewNS,
	"CLONE_NEWCGROUP":             cloneNewCgroup,
	"CLONE_NEWUTS":                cloneNewUTS,
	"CLONE_NEWIPC":                cloneNewIPC,
	"CLONE_NEWUSER":               cloneNewUser,
	"CLONE_NEWPID":                cloneNewPID,
	"CLONE_NEWNET":                cloneNewNet,
	"CLONE_NEWTIME":               cloneNewTime,
	"FSCONFIG_SET_STRING":         1,
	"FSCONFIG_SET_FD":             5,
	"MNT_DETACH":                  2,
}

// parseValue reads a number (decimal, 0x hex, 0 octal) or constant names joined
// with "|".
func parseValue(s string) (uint64, error) {
	var v uint64
	for _, part := range strings.Split(s, "|") {
		part = strings.TrimSpace(part)
		if c, ok := constants[part]; ok {
			v |= c
			continue
		}
		n, err := strconv.ParseUint(part, 0, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is neither a number nor a known constant", part)
		}
		v |= n
	}
	return v, nil
}
