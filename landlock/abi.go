package landlock

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// MaxKnownABI is the highest Landlock ABI whose filesystem access kinds this package
// handles. A newer kernel is used at this level: access kinds added later stay
// unhandled, hence allowed.
const MaxKnownABI = 7

var probe = sync.OnceValues(func() (int, error) {
	v, _, e := syscall.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 {
		if e == syscall.ENOSYS || e == syscall.EOPNOTSUPP {
			return 0, unsupported(e)
		}
		return 0, e
	}
	return int(v), nil
})

// ABI returns the Landlock ABI version of the running kernel, probed once with
// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION). Without Landlock
// it returns an error matching ErrNotSupported and the errno of the probe.
func ABI() (int, error) { return probe() }

// The filesystem access rights of Landlock, by the ABI that introduced them.
const (
	fsABI1 = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR |
		unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
		unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM
	fsABI2 = fsABI1 | unix.LANDLOCK_ACCESS_FS_REFER
	fsABI3 = fsABI2 | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	fsABI5 = fsABI3 | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV

	// fileRights are the rights that apply to a file (not a directory); a rule on a
	// file may grant only these.
	fileRights = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE |
		unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// HandledAccessFS returns the filesystem rights a ruleset handles at ABI abi: all
// those the ABI knows, up to MaxKnownABI. It is 0 for abi < 1.
func HandledAccessFS(abi int) uint64 {
	switch {
	case abi < 1:
		return 0
	case abi == 1:
		return fsABI1
	case abi == 2:
		return fsABI2
	case abi < 5:
		return fsABI3
	}
	return fsABI5
}

// Rights returns the Landlock filesystem rights that a grants, before they are limited
// to what an ABI handles: Read is READ_FILE|READ_DIR; Write is WRITE_FILE, TRUNCATE,
// IOCTL_DEV, REFER, REMOVE_* and MAKE_*; Execute is EXECUTE.
func (a Access) Rights() uint64 {
	var r uint64
	if a&Read != 0 {
		r |= unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	}
	if a&Write != 0 {
		r |= fsABI5 &^ (unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR)
	}
	if a&Execute != 0 {
		r |= unix.LANDLOCK_ACCESS_FS_EXECUTE
	}
	return r
}
