// Package netns makes the network namespace that every start of a Template
// joins (sandbox.WithSharedNetNS): an empty namespace with its loopback
// interface up, as podman's --net none gives, kept alive by a descriptor.
//
// A network namespace belongs to a thread, not a process: the calling goroutine's
// thread enters the new namespace and comes back, and a thread that cannot come
// back stays locked to its goroutine, which Go ends when the goroutine returns.
package netns

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// New creates an empty network namespace with its loopback interface up and
// returns a descriptor that keeps it alive. It needs CAP_SYS_ADMIN.
func New() (*os.File, error) {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("create a network namespace: %w", err)
	}
	ns, err := os.Open("/proc/thread-self/ns/net")
	if err == nil {
		err = loopbackUp()
	}
	if e := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); e != nil {
		if ns != nil {
			ns.Close()
		}
		return nil, fmt.Errorf("return from the new network namespace: %w", e) // the thread stays locked
	}
	runtime.UnlockOSThread()
	if err != nil {
		if ns != nil {
			ns.Close()
		}
		return nil, err
	}
	return ns, nil
}

// loopbackUp brings "lo" up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("read the flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}
