package child

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The parent's half of the detached mounts (see Detached): copies opened before
// the clone, changed once the child's user namespace has its maps, closed once the
// child holds its own descriptors.

// A DetachedError reports a detached mount that the parent could not copy or
// change, naming the mount, the system call and its errno.
type DetachedError struct {
	What, Path string
	Call       string // "open_tree", "mount_setattr", "open the user namespace"
	Err        syscall.Errno
}

// Error implements the error interface.
func (e *DetachedError) Error() string {
	return fmt.Sprintf("%s (%s): %s: %v", e.What, e.Path, e.Call, e.Err)
}

// Unwrap returns the errno.
func (e *DetachedError) Unwrap() error { return e.Err }

// OpenDetached copies each detached mount of p for one start (open_tree with
// OPEN_TREE_CLONE, close-on-exec) into s.Detached, where the child finds them after
// the clone. On failure it closes what it opened.
func OpenDetached(p *Program, s *Start) error {
	if len(p.Detached) > MaxDetached {
		return &DetachedError{What: "detached mounts", Path: strconv.Itoa(len(p.Detached)), Call: "open_tree", Err: syscall.E2BIG}
	}
	s.NDetached = 0
	for i, d := range p.Detached {
		flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
		if d.Recursive {
			flags |= unix.AT_RECURSIVE
		}
		fd, err := unix.OpenTree(unix.AT_FDCWD, d.Path, flags)
		if err != nil {
			CloseDetached(s)
			return &DetachedError{What: d.What, Path: d.Path, Call: "open_tree", Err: ErrnoOf(err)}
		}
		s.Detached[i] = int32(fd)
		s.NDetached = int32(i + 1)
	}
	return nil
}

// SetDetached sets the attributes of s's copies of p's detached mounts, idmapping
// those that ask for it with the user namespace of process pid, the child, whose
// maps must be written. The child has the same mounts (it holds descriptors of
// them from the clone): it must not attach them before this returns.
func SetDetached(p *Program, s *Start, pid int) error {
	userns := -1
	defer func() {
		if userns >= 0 {
			unix.Close(userns)
		}
	}()
	for i, d := range p.Detached {
		if i >= int(s.NDetached) {
			break
		}
		attr := unix.MountAttr{Attr_set: d.AttrSet, Attr_clr: d.AttrClr}
		if d.IDMap {
			if userns < 0 {
				fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					return &DetachedError{What: d.What, Path: d.Path, Call: "open the user namespace", Err: ErrnoOf(err)}
				}
				userns = fd
			}
			attr.Attr_set |= unix.MOUNT_ATTR_IDMAP
			attr.Userns_fd = uint64(userns)
		}
		if attr.Attr_set == 0 && attr.Attr_clr == 0 {
			continue
		}
		var flags uint
		if d.Recursive {
			flags = unix.AT_RECURSIVE
		}
		if err := unix.MountSetattr(int(s.Detached[i]), "", flags|unix.AT_EMPTY_PATH, &attr); err != nil {
			return &DetachedError{What: d.What, Path: d.Path, Call: "mount_setattr", Err: ErrnoOf(err)}
		}
	}
	return nil
}

// CloseDetached closes the parent's descriptors of s's detached mounts: a child
// cloned with them holds its own.
func CloseDetached(s *Start) {
	for i := 0; i < int(s.NDetached) && i < MaxDetached; i++ {
		if s.Detached[i] >= 0 {
			unix.Close(int(s.Detached[i]))
			s.Detached[i] = -1
		}
	}
	s.NDetached = 0
}

// ErrnoOf returns the errno that err wraps, or EIO where it wraps none.
func ErrnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// NewUserNS returns a descriptor of a new user namespace that maps 0 inside to
// 65534 (nobody) outside, made by a child that is killed once it is open. Root
// can idmap mounts with it (mount_setattr with MOUNT_ATTR_IDMAP), for example to
// probe whether a filesystem supports idmapped mounts: neither the initial user
// namespace (EPERM) nor one without maps (EINVAL, measured on Linux 6.18) can
// serve.
func NewUserNS() (int, error) {
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return -1, err
	}
	p := &Program{}
	p.Append(Op{Kind: KindWaitParent}, "probe", "wait for the parent")
	s := &Start{SyncFD: int32(pipe[0]), ErrFD: -1, NotifyFD: -1, TerminalFD: -1, Ctty: -1}
	s.Clone.Flags = unix.CLONE_NEWUSER
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	pid, errno := Spawn(p, s)
	unix.Close(pipe[0])
	if errno != 0 {
		unix.Close(pipe[1])
		return -1, fmt.Errorf("clone a child in a new user namespace: %w", errno)
	}
	// The child waits on the pipe, whose write end it holds too (a fork copies
	// the descriptor table), so it would never see the end of it: it is killed
	// once its namespace is open.
	var err error
	for _, f := range []string{"uid_map", "gid_map"} {
		if err == nil {
			err = os.WriteFile("/proc/"+strconv.Itoa(pid)+"/"+f, []byte("0 65534 1\n"), 0)
		}
	}
	fd := -1
	if err == nil {
		fd, err = unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	unix.Kill(pid, unix.SIGKILL)
	unix.Close(pipe[1])
	var ws unix.WaitStatus
	for {
		if _, werr := unix.Wait4(pid, &ws, 0, nil); werr != unix.EINTR {
			break
		}
	}
	if err != nil {
		return -1, fmt.Errorf("open the user namespace of the probe: %w", err)
	}
	return fd, nil
}
