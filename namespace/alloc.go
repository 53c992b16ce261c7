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

// SuggestedAutoStart and SuggestedAutoCount are the range that a NoRangeError
// suggests granting to AutoUser ("containers:1879048192:134217728" in /etc/subuid
// and /etc/subgid): 0x70000000 and 2^27 IDs, 2048 blocks of AutoSize. It lies
// above the ranges that useradd hands out (SUB_UID_MAX 600100000) and those that
// systemd gives containers (524288..1879048191), below systemd's foreign range
// (from 0x7FFE0000) and below 2^31, above which IDs read as negative (MaxID).
// Podman's documentation suggests 2147483647 and up, which MaxID refuses.
const (
	SuggestedAutoStart = 1879048192
	SuggestedAutoCount = 134217728
)

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

// Release frees the blocks, and removes the lock directory once it is empty, so
// that nothing is left on the host when no sandbox runs (an Allocate at the same
// time makes it again).
func (a *Allocation) Release() {
	for _, f := range a.locks {
		os.Remove(f.Name())
		f.Close()
	}
	if len(a.locks) > 0 {
		os.Remove(filepath.Dir(a.locks[0].Name())) // fails while others hold blocks
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
	return fmt.Sprintf("no ID range for an automatic user namespace: %s: %s; add the line %q to %s and to %s, or give the ranges through the API",
		e.File, e.Reason, e.Line(), SubUIDFile, SubGIDFile)
}

// Line is the line that would grant the user a range: the suggested one
// (SuggestedAutoStart, SuggestedAutoCount), or a range of Size IDs where Size is
// larger.
func (e *NoRangeError) Line() string {
	count := uint32(SuggestedAutoCount)
	if e.Size > count {
		count = e.Size
	}
	return fmt.Sprintf("%s:%d:%d", e.User, SuggestedAutoStart, count)
}

// Is makes a NoRangeError match ErrNoSubIDs.
func (e *NoRangeError) Is(target error) bool { return target == ErrNoSubIDs }

// Resolve returns r with its defaults filled in (User, Size, LockDir) and, where
// UID or GID is nil, the ranges that /etc/subuid or /etc/subgid grants to User, as
// they are now: an Allocate of the result reads no file. It fails with a
// *NoRangeError (matching ErrNoSubIDs) where the ranges hold no usable block of
// Size IDs (see Allocate), and with an error matching ErrInvalid for a relative
// LockDir or a Size above MaxID+1.
func (r AutoRange) Resolve() (AutoRange, error) {
	if r.Size == 0 {
		r.Size = AutoSize
	}
	if r.User == "" {
		r.User = AutoUser
	}
	if r.LockDir == "" {
		r.LockDir = AutoLockDir
	}
	if !filepath.IsAbs(r.LockDir) {
		return r, fmt.Errorf("%w: automatic ID range: lock directory %q is not absolute", ErrInvalid, r.LockDir)
	}
	if uint64(r.Size) > MaxID+1 {
		return r, fmt.Errorf("%w: automatic ID range: size %d is above %d", ErrInvalid, r.Size, uint64(MaxID)+1)
	}
	for _, w := range []struct {
		file   string
		ranges *[]SubIDRange
	}{{SubUIDFile, &r.UID}, {SubGIDFile, &r.GID}} {
		if *w.ranges == nil {
			got, err := SubIDRanges(w.file, r.User, -1)
			if err != nil {
				return r, err
			}
			*w.ranges = append([]SubIDRange{}, got...) // non-nil: resolved
		}
		if blocks(*w.ranges, r.Size) == 0 {
			return r, &NoRangeError{File: w.file, User: r.User, Size: r.Size,
				Reason: fmt.Sprintf("grants %s no range of %d IDs within 1..%d", r.User, r.Size, MaxID)}
		}
	}
	return r, nil
}

// blocks counts the usable blocks of size IDs in ranges (see Allocate).
func blocks(ranges []SubIDRange, size uint32) int {
	n := 0
	for _, rg := range ranges {
		if rg.Start == 0 || uint64(rg.Start)+uint64(rg.Count)-1 > MaxID || size == 0 {
			continue
		}
		n += int(uint64(rg.Count) / uint64(size))
	}
	return n
}

// Allocate takes a free block of Size user IDs and one of Size group IDs from r's
// ranges, in blocks aligned on Size from each range's start so that two holders
// never overlap, and holds them until Release. A range may not include host ID 0
// nor reach above MaxID. It resolves r first (see Resolve); a resolved r costs only
// the lock files: about two opens and flocks per block tried.
func Allocate(r AutoRange) (*Allocation, error) {
	r, err := r.Resolve()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("namespace: allocation lock directory: %w", err)
	}
	a := &Allocation{}
	for _, w := range []struct {
		which, file string
		ranges      []SubIDRange
		dst         *[]IDMap
	}{{"uid", SubUIDFile, r.UID, &a.UIDMap}, {"gid", SubGIDFile, r.GID, &a.GIDMap}} {
		start, f, err := takeBlock(w.ranges, r.Size, r.LockDir, w.which)
		if err != nil {
			a.Release()
			var ne *NoRangeError
			if errors.As(err, &ne) {
				ne.File, ne.User = w.file, r.User
			}
			return nil, err
		}
		a.locks = append(a.locks, f)
		*w.dst = []IDMap{{ContainerID: 0, HostID: start, Size: r.Size}}
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
	reason := fmt.Sprintf("no range of %d IDs within 1..%d", size, MaxID)
	if usable > 0 {
		reason = fmt.Sprintf("all %d blocks of %d IDs are held", usable, size)
	}
	return 0, nil, &NoRangeError{Size: size, Reason: reason}
}

// lockBlock takes the lock file p, creating it, unless another holder has it.
func lockBlock(p string) (*os.File, bool) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, os.ErrNotExist) && os.MkdirAll(filepath.Dir(p), 0o700) == nil {
		// The last holder removed the directory (Release) since Allocate made it.
		f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	}
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
