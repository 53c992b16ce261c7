// Package mountwatch tells whether the caller's mount table changed since a mark:
// a plan made from the table (the host's "/" split per top-level directory inside
// a user namespace, hidden paths looked up, a read-only root's mounts listed) may
// no longer fit it.
//
// The question costs one system call. Where the kernel has listmount(2) (Linux 6.8),
// the answer is exact: the table's mount IDs, which the kernel never reuses, against
// those of the mark (about 2 µs for 20 mounts). Elsewhere it is a poll of
// /proc/self/mountinfo, where the kernel reports POLLPRI once per change of the
// namespace; that report can miss an unmount (the kernel does not move the
// namespace's event count when nothing else moved the global one since its last
// change), so a caller must also treat a failure on a mount of its plan as a
// change.
package mountwatch

import (
	"bytes"
	"os"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/bootcache"
)

// A Table follows the caller's mount table from Start on. It is not safe for
// concurrent use.
type Table struct {
	ids  []uint64 // with listmount: the mount IDs of the mark
	buf  []uint64 // with listmount: room for the next read
	file *os.File // without listmount: /proc/self/mountinfo
}

// Start marks the mount table as it is now, and reports false where neither
// listmount nor a poll of mountinfo can tell a change.
func (t *Table) Start() bool {
	if Listmount() {
		t.Mark()
		return true
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	t.file = f
	return true // the open recorded the table's generation
}

// File returns the open /proc/self/mountinfo that a Table without listmount
// polls, or nil. Its owner closes it when done with the Table.
func (t *Table) File() *os.File { return t.file }

// Mark records the mount table as it is now as the one Changed compares with.
func (t *Table) Mark() {
	if t.file != nil {
		t.polled()
		return
	}
	ids, err := listMounts(t.buf)
	t.buf = ids[:cap(ids)]
	t.ids = append(t.ids[:0], ids...)
	if err != nil {
		t.ids = nil // compares unequal to any table
	}
}

// Changed reports whether the mount table differs from the one of the mark.
func (t *Table) Changed() bool {
	if t.file != nil {
		return t.polled()
	}
	ids, err := listMounts(t.buf)
	t.buf = ids[:cap(ids)]
	return err != nil || !slices.Equal(ids, t.ids)
}

// polled reports whether a poll of mountinfo says the table changed since the last.
func (t *Table) polled() bool {
	fds := []unix.PollFd{{Fd: int32(t.file.Fd()), Events: unix.POLLPRI}}
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

// Listmount reports whether listmount(2) lists every mount of the namespace:
// the system call exists (Linux 6.8) and counts as many mounts as mountinfo shows
// (the first kernels that had it listed only the root's children). A pass is kept
// in the boot cache (package internal/bootcache): the kernel's own answer, which
// the processes that follow believe once listmount works for them too.
func Listmount() bool { return listmountProbe() }

// listmountCacheName names Listmount's pass in the boot cache.
const listmountCacheName = "mountwatch-listmount"

func probeListmount() bool {
	if v, ok := bootcache.Load(listmountCacheName); ok && v == "complete" {
		if _, err := listMounts(nil); err == nil {
			return true
		}
	}
	if !compareListmount() {
		return false
	}
	bootcache.Store(listmountCacheName, "complete")
	return true
}

// compareListmount reports whether listmount counts as many mounts as mountinfo.
func compareListmount() bool {
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
