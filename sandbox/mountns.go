package sandbox

import (
	"github.com/paddock-sandbox/paddock/internal/mountns"
	"golang.org/x/sys/unix"
)

// Wait leaves the teardown of a finished sandbox's mount namespace to a
// goroutine (package mountns) only where nothing outside can see the difference:
// a new mount namespace whose overlay upper layer, if any, is an ephemeral tmpfs
// of the sandbox's own (a persistent upper directory stays in use, EBUSY to the
// next overlay, until the namespace is gone), whose root is no directory of the
// host (often an overlay that an engine mounted, and unmounts and mounts again
// once the sandbox is gone: its upper directory too would still be in use) and
// with no fuse-overlayfs daemon (which Wait stops). Binds of host directories stay referenced for those few
// hundred microseconds, as they do while any process of the sandbox lives;
// Template.Close waits for every pending teardown.

// lateMountNSOK reports whether the Template's sandboxes may have their mount
// namespace torn down after Wait returns.
func (t *Template) lateMountNSOK() bool {
	s := t.spec
	return t.cloneFlags&unix.CLONE_NEWNS != 0 && t.fuse == nil && s.RootDir == "" && (s.NoRootfs || s.Rootfs.Ephemeral())
}

// holdMountNS takes a reference to the new process's mount namespace through its
// pidfd. In fork mode the child is still waiting for the parent; in vfork mode it
// has just executed the target, which could already have exited.
func (p *Process) holdMountNS() { p.mountNS = mountns.Hold(p.pidfd) }

// releaseMountNS drops the reference taken by holdMountNS, in a goroutine unless the
// Template is closed.
func (p *Process) releaseMountNS() {
	p.mu.Lock() // two Waits at once must not close it twice
	fd := p.mountNS
	p.mountNS = -1
	p.mu.Unlock()
	if fd >= 0 {
		p.tmpl.mountNS.Release(fd)
	}
}
