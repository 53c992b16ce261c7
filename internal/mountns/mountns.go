// Package mountns moves the teardown of a finished sandbox's mount namespace off
// the path of Wait.
//
// The last process of a mount namespace to exit tears it down on its way out: it
// unmounts the whole tree (the overlay root, /proc, /dev, the masks), waits for an
// RCU grace period and frees the superblocks, all before its parent can reap it. For
// a default sandbox that is several hundred microseconds of the time from exit to
// the end of Wait. The parent takes a reference to the namespace as soon as the
// child exists (Hold), so that the teardown happens when that reference is
// dropped, which Releases does in a goroutine.
package mountns

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Hold returns a reference to the mount namespace of the process of pidfd
// (PIDFD_GET_MNT_NAMESPACE, Linux 6.11), or -1 where none can be had: a kernel
// without it, or a process that has exited already, whose teardown then stays on
// its exit path.
func Hold(pidfd int) int {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(pidfd), unix.PIDFD_GET_MNT_NAMESPACE, 0)
	if e != 0 {
		return -1
	}
	return int(fd)
}

// Releases drops the references that Hold took, in goroutines, and waits for
// them when closed. The zero value is ready for use.
type Releases struct {
	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup
}

// Release drops the reference fd, in a goroutine unless r is closed.
func (r *Releases) Release(fd int) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		unix.Close(fd)
		return
	}
	r.pending.Add(1)
	r.mu.Unlock()
	go func() {
		unix.Close(fd)
		r.pending.Done()
	}()
}

// Close waits until every reference released so far is dropped; later ones are
// dropped at once.
func (r *Releases) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.pending.Wait()
}
