package namespace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// AutoUser is the user whose subordinate IDs automatic allocations take, as
// Podman's --userns=auto takes those of "containers".
const AutoUser = "containers"

// AutoSize is how many IDs an automatic allocation maps by default: a whole
// distribution's range of users and groups.
const AutoSize = 65536

// AutoLockDir holds the lock files of automatic allocations.
const AutoLockDir = "/run/paddock/ids"

// An AutoRange says where automatic allocations of ID ranges come from, for a root
// caller that wants a sandbox whose root inside is an unprivileged user outside.
type AutoRange struct {
	// User's entries in /etc/subuid and /etc/subgid are the ranges; "" means
	// AutoUser. UID and GID, when given, are the ranges instead.
	User string       `json:"user,omitempty"`
	UID  []SubIDRange `json:"uid,omitempty"`
	GID  []SubIDRange `json:"gid,omitempty"`
	// Size is how many IDs one allocation maps; 0 means AutoSize.
	Size uint32 `json:"size,omitempty"`
	// LockDir holds the allocations' lock files; "" means AutoLockDir.
	LockDir string `json:"lockDir,omitempty"`
}

// An Allocation is a block of host user IDs and one of group IDs, held for one
// user namespace until Release. Each block is guarded by an exclusive flock(2) on
// a lock file named after its first ID: the kernel drops it when the holder dies,
// however it dies, so a block is never given twice at once and never lost.
type Allocation struct {
	// UIDMap and GIDMap map 0..Size-1 inside to the blocks.
	UIDMap, GIDMap []IDMap
	locks          []*os.File
}

// Release frees the blocks.
func (a *Allocation) Release() {
	for _, f := range a.locks {
		os.Remove(f.Name())
		f.Close()
	}
	a.locks = nil
}

// A NoRangeError says that no automatic allocation can be made: the files grant
// the user no range large enough, or every block is held.
type NoRangeError struct {
	File, User string
	Size       uint32
	Reason     string
}

// Error implements the error interface.
func (e *NoRangeError) Error() string {
	return fmt.Sprintf("no ID range for an automatic user namespace: %s: %s; add a line such as %q to %s (and to /etc/subgid), or give the ranges through the API",
		e.File, e.Reason, e.User+":1000000000:1000000000", e.File)
}

// Is makes a NoRangeError match ErrNoSubIDs.
func (e *NoRangeError) Is(target error) bool { return target == ErrNoSubIDs }

// Allocate takes a free block of Size user IDs and one of Size group IDs from r's
// ranges, in blocks aligned on Size from each range's start so that two holders
// never overlap, and holds them until Release. A range may not include host ID 0
// nor reach above MaxID.
func Allocate(r AutoRange) (*Allocation, error) {
	size := r.Size
	if size == 0 {
		size = AutoSize
	}
	user := r.User
	if user == "" {
		user = AutoUser
	}
	dir := r.LockDir
	if dir == "" {
		dir = AutoLockDir
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("namespace: allocation lock directory: %w", err)
	}
	a := &Allocation{}
	for _, w := range []struct {
		which, file string
		given       []SubIDRange
		dst         *[]IDMap
	}{{"uid", SubUIDFile, r.UID, &a.UIDMap}, {"gid", SubGIDFile, r.GID, &a.GIDMap}} {
		ranges := w.given
		if ranges == nil {
			var err error
			if ranges, err = SubIDRanges(w.file, user, -1); err != nil {
				a.Release()
				return nil, err
			}
		}
		start, f, err := takeBlock(ranges, size, dir, w.which)
		if err != nil {
			a.Release()
			var ne *NoRangeError
			if errors.As(err, &ne) {
				ne.File, ne.User = w.file, user
			}
			return nil, err
		}
		a.locks = append(a.locks, f)
		*w.dst = []IDMap{{ContainerID: 0, HostID: start, Size: size}}
	}
	return a, nil
}

// takeBlock holds the first free block of size IDs in ranges and returns its first
// ID with its held lock file.
func takeBlock(ranges []SubIDRange, size uint32, dir, which string) (uint32, *os.File, error) {
	usable := 0
	for _, rg := range ranges {
		if rg.Start == 0 || uint64(rg.Start)+uint64(rg.Count)-1 > MaxID {
			continue // host root, or IDs that set*id calls read as negative
		}
		for off := uint64(0); off+uint64(size) <= uint64(rg.Count); off += uint64(size) {
			usable++
			start := rg.Start + uint32(off)
			if f, ok := lockBlock(filepath.Join(dir, fmt.Sprintf("%s-%d.lock", which, start))); ok {
				return start, f, nil
			}
		}
	}
	reason := fmt.Sprintf("grants no range of %d IDs within 1..%d", size, MaxID)
	if usable > 0 {
		reason = fmt.Sprintf("all %d blocks of %d IDs are held", usable, size)
	}
	return 0, nil, &NoRangeError{Size: size, Reason: reason}
}

// lockBlock takes the lock file p, creating it, unless another holder has it.
func lockBlock(p string) (*os.File, bool) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		f.Close()
		return nil, false
	}
	// A holder that released between our open and flock unlinked this file: the
	// lock we hold is on a name nobody else can find. Take the block only if the
	// file is still the one at p.
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat(p, &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
		f.Close()
		return nil, false
	}
	return f, true
}
