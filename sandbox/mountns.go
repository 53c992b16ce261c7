package sandbox

import (
	"golang.org/x/sys/unix"
)

// The last process of a mount namespace to exit tears it down on its way out: it
// unmounts the whole tree (the overlay root, /proc, /dev, the masks), waits for an
// RCU grace period and frees the superblocks, all before its parent can reap it. For
// a default sandbox that is several hundred microseconds of the time from exit to
// the end of Wait. The parent takes a reference to the namespace as soon as the
// child exists, so that the teardown happens when that reference is dropped; Wait
// drops it in a goroutine and returns without waiting.
//
// Only where nothing outside can see the difference: a new mount namespace whose
// overlay upper layer, if any, is an ephemeral tmpfs of the sandbox's own (a
// persistent upper directory stays in use, EBUSY to the next overlay, until the
// namespace is gone) and with no fuse-overlayfs daemon (which Wait stops). Binds of
// host directories stay referenced for those few hundred microseconds, as they do
// while any process of the sandbox lives; Template.Close waits for every pending
// teardown.

// lateMountNSOK reports whether the Template's sandboxes may have their mount
// namespace torn down after Wait returns.
func (t *Template) lateMountNSOK() bool {
	s := t.spec
	return t.cloneFlags&unix.CLONE_NEWNS != 0 && t.fuse == nil && (s.NoRootfs || s.Rootfs.Ephemeral())
}

// holdMountNS takes a reference to the new process's mount namespace through its
// pidfd (PIDFD_GET_MNT_NAMESPACE, Linux 6.11). In fork mode the child is still
// waiting for the parent; in vfork mode it has just executed the target, which could
// already have exited: the reference is then not taken and the teardown stays on the
// exit path, as without it.
func (p *Process) holdMountNS() {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(p.pidfd), unix.PIDFD_GET_MNT_NAMESPACE, 0)
	if e == 0 {
		p.mountNS = int(fd)
	}
}

// releaseMountNS drops the reference taken by holdMountNS, in a goroutine unless the
// Template is closed.
func (p *Process) releaseMountNS() {
	p.mu.Lock() // two Waits at once must not close it twice
	fd := p.mountNS
	p.mountNS = -1
	p.mu.Unlock()
	if fd < 0 {
		return
	}
	t := p.tmpl
	t.relMu.Lock()
	if t.closed.Load() {
		t.relMu.Unlock()
		unix.Close(fd)
		return
	}
	t.releases.Add(1)
	t.relMu.Unlock()
	go func() {
		unix.Close(fd)
		t.releases.Done()
	}()
}
