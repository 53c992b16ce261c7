package cgroup

import (
	"os"

	"golang.org/x/sys/unix"
)

// readFile reads a cgroup file whole, as os.ReadFile does, with plain system
// calls: os.ReadFile registers every file that can be polled, as cgroupfs
// files can, with the runtime's poller (a flag change and two epoll_ctl calls
// each), which a Wait that reads a sandbox's final figures from a dozen files
// would pay for nothing. Errors are *os.PathError, as os.ReadFile's.
func readFile(name string) ([]byte, error) {
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &os.PathError{Op: "read", Path: name, Err: err}
		case n == 0:
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
