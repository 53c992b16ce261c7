package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// ErrStale reports a Template whose plan of the root filesystem no longer fits the
// host: the host's mount table changed since Build and the Template could not plan
// its filesystem again. Build a new Template (and Close this one).
var ErrStale = errors.New("sandbox: the template no longer fits the host's mounts")

// ErrMountsChanging says that the host's mount table changed under every attempt
// of a Start (see Template.Start): the Template still fits the host, and the start
// can be tried again once the host's mounts settle.
var ErrMountsChanging = errors.New("sandbox: the host's mount table changed under each attempt to start")

// A StaleError says why a Template could not follow a change of the host's mount
// table. It matches ErrStale.
type StaleError struct {
	Err error
}

// Error implements the error interface.
func (e *StaleError) Error() string {
	return fmt.Sprintf("sandbox: the host's mount table changed since Build and the root cannot be planned again (until it changes again, or build a new Template): %v", e.Err)
}

// Unwrap returns the cause.
func (e *StaleError) Unwrap() error { return e.Err }

// Is makes every StaleError match ErrStale.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// A mountWatch keeps a Template's filesystem plan in step with the host's mount
// table, which the plan reads at Build: the host's "/" is split per top-level
// directory inside a user namespace, hidden paths are looked up, a read-only root
// lists its mounts. A mount made on the host later (under /tmp, say) would make the
// plan's overlay of that directory fail, so each Start first asks whether the table
// changed since the plan was made, and plans the filesystem segment of the child's
// program again if so.
//
// The question costs one system call. Where the kernel has listmount(2) (Linux 6.8),
// the answer is exact: the table's mount IDs, which the kernel never reuses, against
// those the plan was made from (about 2 µs for 20 mounts). Elsewhere it is a poll of
// /proc/self/mountinfo, where the kernel reports POLLPRI once per change of the
// namespace; that report can miss an unmount (the kernel does not move the
// namespace's event count when nothing else moved the global one since its last
// change). Either way a start that fails on a mount of the plan is planned and
// tried again (see replanAfter).
type mountWatch struct {
	mu   sync.Mutex
	ids  []uint64 // with listmount: the mount IDs the current plan was made from
	buf  []uint64 // with listmount: room for the next read
	file *os.File // without listmount: /proc/self/mountinfo, opened at Build
	// base is the program made at Build, whose ops [from, baseTo) are its
	// filesystem segment; prog is the current one, base with that segment planned
	// again, and to is where the current segment ends in it.
	base, prog   *child.Program
	from, baseTo int
	to           int
	replans      int   // how many times the plan was made again, for tests
	err          error // why the last new plan failed, until the table changes again
}

// newMountWatch returns a watch of the caller's mount table as it is now, or nil
// where neither listmount nor a poll of mountinfo can tell a change.
func newMountWatch() *mountWatch {
	w := &mountWatch{}
	if listmountWorks() {
		w.mark()
		return w
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	w.file = f
	return w // the open recorded the table's generation
}

// mark records the mount table as it is now as the one the plan is made from. The
// caller holds w.mu (or is the only user).
func (w *mountWatch) mark() {
	if w.file != nil {
		w.polled()
		return
	}
	ids, err := listMounts(w.buf)
	w.buf = ids[:cap(ids)]
	w.ids = append(w.ids[:0], ids...)
	if err != nil {
		w.ids = nil // compares unequal to any table
	}
}

// stale reports whether the mount table differs from the one the plan was made
// from. The caller holds w.mu.
func (w *mountWatch) stale() bool {
	if w.file != nil {
		return w.polled()
	}
	ids, err := listMounts(w.buf)
	w.buf = ids[:cap(ids)]
	return err != nil || !slices.Equal(ids, w.ids)
}

// polled reports whether a poll of mountinfo says the table changed since the last.
func (w *mountWatch) polled() bool {
	fds := []unix.PollFd{{Fd: int32(w.file.Fd()), Events: unix.POLLPRI}}
	for {
		n, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0 && fds[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0
	}
}

// mntIDReq is struct mnt_id_req, version 0.
type mntIDReq struct {
	size, spare uint32
	mntID       uint64
	param       uint64
}

// lsmtRoot asks listmount for every mount of the caller's namespace.
const lsmtRoot = ^uint64(0)

// listMounts returns the IDs of every mount in the caller's mount namespace, in
// buf if it is large enough.
func listMounts(buf []uint64) ([]uint64, error) {
	if len(buf) < 64 {
		buf = make([]uint64, 64)
	}
	for {
		req := mntIDReq{size: uint32(unsafe.Sizeof(mntIDReq{})), mntID: lsmtRoot}
		n, _, errno := unix.Syscall6(unix.SYS_LISTMOUNT, uintptr(unsafe.Pointer(&req)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0, 0)
		if errno != 0 {
			return buf[:0], errno
		}
		if int(n) < len(buf) {
			return buf[:n], nil
		}
		buf = make([]uint64, 2*len(buf)) // full: there may be more
	}
}

var listmountProbe = sync.OnceValue(probeListmount)

// listmountWorks reports whether listmount(2) lists every mount of the namespace:
// the system call exists (Linux 6.8) and counts as many mounts as mountinfo shows
// (the first kernels that had it listed only the root's children).
func listmountWorks() bool { return listmountProbe() }

func probeListmount() bool {
	for range 3 { // a mount made between the two reads makes them differ
		ids, err := listMounts(nil)
		if err != nil {
			return false
		}
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return false
		}
		if bytes.Count(mi, []byte{'\n'}) == len(ids) {
			return true
		}
	}
	return false
}

// watchMounts starts watching the mount table for t's program, whose filesystem
// segment is ops [from, to).
func (t *Template) watchMounts(w *mountWatch, from, to int) {
	if w == nil {
		return
	}
	w.base, w.prog, w.from, w.baseTo, w.to = t.prog, t.prog, from, to, to
	if w.file != nil {
		t.files = append(t.files, w.file)
	}
	t.mounts = w
}

// program returns the child's program for the next start: t.prog, planned again
// first if the host's mount table changed since it was made.
func (t *Template) program() (*child.Program, error) {
	w := t.mounts
	if w == nil {
		return t.prog, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stale() {
		t.replan()
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.prog, nil
}

// replanAfter reports whether a start of prog that failed with err should be
// tried again with a new plan, and makes it: the start failed in the filesystem
// segment on a mount of the plan rather than on a path inside the root (which a new
// plan would not change). The host's table may look as it did at the plan (a mount
// made and gone again while the child worked: mount IDs cannot show that, and the
// poll can miss the unmount), so the failure alone is the reason; Start bounds the
// attempts.
func (t *Template) replanAfter(err error, prog *child.Program) bool {
	w := t.mounts
	var ce *ChildError
	if w == nil || !errors.As(err, &ce) || ce.Path != "" {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if prog != w.prog {
		return true // planned again already, by another start
	}
	if ce.Op < w.from || ce.Op >= w.to {
		return false
	}
	return t.replan() == nil
}

// replan compiles the filesystem segment again and splices it into a copy of the
// program made at Build (so that plans do not pile up); starts under way keep the
// program they began with. Where the new plan fails, every start fails with that
// StaleError until the table changes again and a plan succeeds. The caller holds
// t.mounts.mu.
func (t *Template) replan() error {
	w := t.mounts
	w.mark() // before reading the table: a change while planning shows next time
	seg := &child.Program{}
	if _, err := t.compileFilesystem(seg, t.caller); err != nil {
		w.err = &StaleError{Err: err}
		return w.err
	}
	w.prog, w.to, w.err = w.base.Splice(w.from, w.baseTo, seg), w.from+len(seg.Ops), nil
	w.replans++
	return nil
}
