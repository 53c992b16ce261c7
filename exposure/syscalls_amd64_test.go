package exposure

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The native numbers of the table must be those of the running kernel's ABI.
func TestNativeNumbers(t *testing.T) {
	want := map[string]int{
		"read": unix.SYS_READ, "write": unix.SYS_WRITE, "open": unix.SYS_OPEN, "mmap": unix.SYS_MMAP, "munmap": unix.SYS_MUNMAP,
		"ioctl": unix.SYS_IOCTL, "pipe": unix.SYS_PIPE, "mremap": unix.SYS_MREMAP, "madvise": unix.SYS_MADVISE, "socket": unix.SYS_SOCKET,
		"connect": unix.SYS_CONNECT, "sendto": unix.SYS_SENDTO, "sendmsg": unix.SYS_SENDMSG, "bind": unix.SYS_BIND, "socketpair": unix.SYS_SOCKETPAIR,
		"setsockopt": unix.SYS_SETSOCKOPT, "clone": unix.SYS_CLONE, "execve": unix.SYS_EXECVE, "mkdir": unix.SYS_MKDIR, "ptrace": unix.SYS_PTRACE,
		"mknod": unix.SYS_MKNOD, "pivot_root": unix.SYS_PIVOT_ROOT, "chroot": unix.SYS_CHROOT, "mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2,
		"setxattr": unix.SYS_SETXATTR, "futex": unix.SYS_FUTEX, "add_key": unix.SYS_ADD_KEY, "keyctl": unix.SYS_KEYCTL, "openat": unix.SYS_OPENAT,
		"mknodat": unix.SYS_MKNODAT, "unshare": unix.SYS_UNSHARE, "splice": unix.SYS_SPLICE, "pipe2": unix.SYS_PIPE2,
		"perf_event_open": unix.SYS_PERF_EVENT_OPEN, "name_to_handle_at": unix.SYS_NAME_TO_HANDLE_AT, "open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT,
		"setns": unix.SYS_SETNS, "bpf": unix.SYS_BPF, "userfaultfd": unix.SYS_USERFAULTFD, "io_uring_setup": unix.SYS_IO_URING_SETUP,
		"io_uring_enter": unix.SYS_IO_URING_ENTER, "io_uring_register": unix.SYS_IO_URING_REGISTER, "open_tree": unix.SYS_OPEN_TREE,
		"move_mount": unix.SYS_MOVE_MOUNT, "fsopen": unix.SYS_FSOPEN, "fsconfig": unix.SYS_FSCONFIG, "fsmount": unix.SYS_FSMOUNT,
		"fspick": unix.SYS_FSPICK, "clone3": unix.SYS_CLONE3, "recvmsg": unix.SYS_RECVMSG, "modify_ldt": unix.SYS_MODIFY_LDT,
		"waitid": unix.SYS_WAITID, "renameat2": unix.SYS_RENAMEAT2,
	}
	if len(want) != len(syscalls) {
		t.Errorf("table has %d calls, test %d", len(syscalls), len(want))
	}
	for n, nr := range want {
		if got := syscalls[n].amd64; int(got) != nr {
			t.Errorf("%s: %d, want %d", n, got, nr)
		}
	}
}
