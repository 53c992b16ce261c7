package namespace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// AutoUser is the user whose subordinate IDs automatic allocations take, as
// Podman's --userns=auto takes those of "containers".
const AutoUser = "containers"

// AutoSize is how many IDs an automatic allocation maps by default: a whole
// distribution's range of users and groups.
const AutoSize = 65536

// AutoLockDir holds the lock file of automatic allocations (LockFileName).
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
// user namespace until Release. Each block is held as a write lock on one byte of
// the lock directory's lock file (LockFileName), at the block's first ID (group
// IDs from 2^31 on), taken with fcntl(F_OFD_SETLK) on a descriptor this process
// keeps open while it holds blocks: the kernel drops it when the holder dies, however it dies, so a
// block is never given twice at once and never lost.
type Allocation struct {
	// UIDMap and GIDMap map 0..Size-1 inside to the blocks.
	UIDMap, GIDMap []IDMap
	file           *lockFile
	offsets        []int64
}

// Release frees the blocks.
func (a *Allocation) Release() {
	for _, off := range a.offsets {
		a.file.drop(off)
	}
	a.offsets = nil
}

// LockFileName is the lock file of automatic allocations in their lock
// directory: an empty file that stays, whose byte-range locks are the blocks
// held.
const LockFileName = "blocks.lock"

// gidOffset is where the group IDs' blocks lie in the lock file, past every user
// ID (MaxID).
const gidOffset = int64(MaxID) + 1

// lockFile is this process's lock file of one lock directory, open while the
// process holds blocks. The locks of one open file description do not conflict
// with each other, so it also notes which blocks this process holds.
type lockFile struct {
	mu   sync.Mutex
	path string
	f    *os.File
	held map[int64]bool
}

// lockFiles holds the lock file of each lock directory this process used.
var lockFiles sync.Map // directory -> *lockFile

func lockFileIn(dir string) *lockFile {
	if l, ok := lockFiles.Load(dir); ok {
		return l.(*lockFile) // each start: nothing to allocate
	}
	l, _ := lockFiles.LoadOrStore(dir, &lockFile{path: filepath.Join(dir, LockFileName), held: map[int64]bool{}})
	return l.(*lockFile)
}

// open opens the lock file unless it is open (this process holds blocks) and
// still linked: a file removed (by hand, or by a test's clean-up) is one that
// others no longer lock, and is opened again, which makes it anew.
func (l *lockFile) open() error {
	if l.f != nil {
		var st unix.Stat_t
		if unix.Fstat(int(l.f.Fd()), &st) == nil && st.Nlink > 0 {
			return nil
		}
		if len(l.held) > 0 {
			return fmt.Errorf("namespace: the lock file %s was removed while this process holds blocks", l.path)
		}
		l.f.Close()
		l.f = nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return fmt.Errorf("namespace: allocation lock directory: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("namespace: allocation lock file: %w", err)
	}
	l.f = f
	return nil
}

// take holds the byte at off unless this process or another holds it.
func (l *lockFile) take(off int64) bool {
	if l.held[off] {
		return false
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: off, Len: 1}
	if unix.FcntlFlock(l.f.Fd(), unix.F_OFD_SETLK, &lk) != nil {
		return false
	}
	l.held[off] = true
	return true
}

// drop releases the byte at off.
func (l *lockFile) drop(off int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release(off)
}

// release releases the byte at off, and closes the file once this process holds
// no block: an idle process keeps no descriptor of it. l.mu is held.
func (l *lockFile) release(off int64) {
	if !l.held[off] {
		return
	}
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart, Start: off, Len: 1}
	unix.FcntlFlock(l.f.Fd(), unix.F_OFD_SETLK, &lk)
	delete(l.held, off)
	if len(l.held) == 0 {
		l.f.Close()
		l.f = nil
	}
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

// Is makes a NoRangeError match ErrNotSupported.
func (e *NoRangeError) Is(target error) bool { return target == ErrNotSupported }

// Resolve returns r with its defaults filled in (User, Size, LockDir) and, where
// UID or GID is nil, the ranges that /etc/subuid or /etc/subgid grants to User, as
// they are now: an Allocate of the result reads no file. It fails with a
// *NoRangeError (matching ErrNotSupported) where the ranges hold no usable block of
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
		n += usableBlocks(rg, size)
	}
	return n
}

// usableBlocks is how many blocks of size IDs Allocate takes from rg: none from a
// range that holds host root or IDs above MaxID, which set*id calls read as
// negative.
func usableBlocks(rg SubIDRange, size uint32) int {
	if size == 0 || rg.Start == 0 || uint64(rg.Start)+uint64(rg.Count)-1 > MaxID {
		return 0
	}
	return int(uint64(rg.Count) / uint64(size))
}

// FirstBlock returns the first ID of the first block of size IDs that Allocate
// tries in ranges, and false where they hold none.
func FirstBlock(ranges []SubIDRange, size uint32) (uint32, bool) {
	for _, rg := range ranges {
		if usableBlocks(rg, size) > 0 {
			return rg.Start, true
		}
	}
	return 0, false
}

// Allocate takes a free block of Size user IDs and one of Size group IDs from r's
// ranges, in blocks aligned on Size from each range's start so that two holders
// never overlap, and holds them until Release. A range may not include host ID 0
// nor reach above MaxID. It resolves r first (see Resolve); a resolved r costs an
// open of the lock file where this process holds no block yet, and a lock (fcntl)
// per block tried.
func Allocate(r AutoRange) (*Allocation, error) {
	r, err := r.Resolve()
	if err != nil {
		return nil, err
	}
	l := lockFileIn(r.LockDir)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.open(); err != nil {
		return nil, err
	}
	a := &Allocation{file: l}
	defer func() {
		if len(l.held) == 0 && l.f != nil {
			l.f.Close() // nothing taken
			l.f = nil
		}
	}()
	for _, w := range []struct {
		file   string
		ranges []SubIDRange
		base   int64
		dst    *[]IDMap
	}{{SubUIDFile, r.UID, 0, &a.UIDMap}, {SubGIDFile, r.GID, gidOffset, &a.GIDMap}} {
		start, err := l.takeBlock(w.ranges, r.Size, w.base)
		if err != nil {
			for _, off := range a.offsets {
				l.release(off)
			}
			var ne *NoRangeError
			if errors.As(err, &ne) {
				ne.File, ne.User = w.file, r.User
			}
			return nil, err
		}
		a.offsets = append(a.offsets, w.base+int64(start))
		*w.dst = []IDMap{{ContainerID: 0, HostID: start, Size: r.Size}}
	}
	return a, nil
}

// takeBlock holds the first free block of size IDs in ranges, whose locks lie
// from base on, and returns its first ID.
func (l *lockFile) takeBlock(ranges []SubIDRange, size uint32, base int64) (uint32, error) {
	usable := 0
	for _, rg := range ranges {
		n := usableBlocks(rg, size)
		usable += n
		for i := range n {
			start := rg.Start + uint32(i)*size
			if l.take(base + int64(start)) {
				return start, nil
			}
		}
	}
	reason := fmt.Sprintf("no range of %d IDs within 1..%d", size, MaxID)
	if usable > 0 {
		reason = fmt.Sprintf("all %d blocks of %d IDs are held", usable, size)
	}
	return 0, &NoRangeError{Size: size, Reason: reason}
}
