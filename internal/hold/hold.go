// Package hold holds the host-side mechanics of a start held before its
// execve (package sandbox's WithHold) and of a detached sandbox (WithDetached):
// the host's procfs that the child reaches the FIFO through, the release of a
// held start from any process, and the kill of a detached sandbox by its pid
// and start time.
package hold

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// OpenProcfs opens the host's /proc, checked to be a procfs, at descriptor
// maxFDs or above, out of reach of the child's descriptor shuffle.
func OpenProcfs(maxFDs int) (*os.File, error) {
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return nil, fmt.Errorf("/proc is not a procfs (%v)", err)
	}
	high, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, maxFDs)
	if err != nil {
		return nil, fmt.Errorf("move /proc's descriptor: %w", err)
	}
	return os.NewFile(uintptr(high), "/proc"), nil
}

// ErrNotReleased says that the sandbox closed the FIFO without writing, or
// ended, before it could be released.
var ErrNotReleased = errors.New("the sandbox gave up its hold before it was released")

// ReleaseFIFO opens fifo for reading, without blocking, and waits until the
// sandbox writes its byte, ctx ends, or the process of pidfd (when not -1)
// ends; after the byte, until the sandbox's execve closes the FIFO, or fails
// (an *ExecError). A reader opened without O_NONBLOCK would wait in open, beyond ctx's
// reach; one opened with it sees no hang-up until a writer came and left.
func ReleaseFIFO(ctx context.Context, fifo string, pidfd int) error {
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: fifo, Err: err}
	}
	defer unix.Close(fd)
	wake, err := newWaker(ctx)
	if err != nil {
		return err
	}
	defer wake.close()
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake.fd), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err == unix.EINTR {
			continue
		} else if err != nil {
			return err
		}
		if pfd[0].Revents != 0 {
			var b [1]byte
			n, err := unix.Read(fd, b[:])
			switch {
			case n == 1:
				return execResult(fd, wake)
			case err == unix.EAGAIN || err == unix.EINTR:
				continue
			case err != nil:
				return err
			}
			return ErrNotReleased
		}
		if pfd[1].Revents != 0 {
			return ctx.Err()
		}
		if pfd[2].Revents != 0 {
			return ErrNotReleased
		}
	}
}

// An ExecError reports that a released sandbox could not execute its target:
// after the byte of the release, it wrote the errno of its execve on the FIFO.
type ExecError struct {
	Errno unix.Errno
}

// Error implements the error interface.
func (e *ExecError) Error() string { return "execute the target: " + e.Errno.Error() }

// Unwrap returns the errno.
func (e *ExecError) Unwrap() error { return e.Errno }

// execResult reads the FIFO fd of a sandbox that was just released until it
// ends: the sandbox keeps it open until its execve, which closes it, or writes
// the errno of a failed execve first (a native int32). It returns nil when the
// FIFO ends without one, an *ExecError when it brings one, and nil too when
// ctx ends first (the release happened; how the execve went is unknown).
func execResult(fd int, wake *waker) error {
	var b [4]byte
	got := 0
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(wake.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err == unix.EINTR {
			continue
		} else if err != nil {
			return nil
		}
		if pfd[0].Revents == 0 {
			return nil // ctx ended
		}
		n, err := unix.Read(fd, b[got:])
		switch {
		case n > 0:
			if got += n; got == len(b) {
				return &ExecError{Errno: unix.Errno(int32(binary.NativeEndian.Uint32(b[:])))}
			}
		case err == unix.EAGAIN || err == unix.EINTR:
		default:
			return nil // the end: executed (or gone without a word)
		}
	}
}

// A waker is an eventfd that becomes readable when a context ends, for poll.
type waker struct {
	fd   int
	stop func() bool
	mu   sync.Mutex
}

func newWaker(ctx context.Context) (*waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &waker{fd: fd}
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.fd >= 0 {
			unix.Write(w.fd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}
	})
	return w, nil
}

func (w *waker) close() {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	unix.Close(w.fd)
	w.fd = -1
}

// Kill kills process pid, if it still is the one that started at startTime, waits until it
// waits until it has exited (up to ten seconds) and reaps it if it is the
// caller's child.
func Kill(pid int, start uint64) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err == unix.ESRCH {
		return nil
	} else if err != nil {
		return fmt.Errorf("open pid %d: %w", pid, err)
	}
	defer unix.Close(fd)
	// Read after the pidfd was opened: a start time that matches names the
	// process of the pidfd, not a later one.
	if st, err := StartTime(pid); err != nil || st != start {
		return nil // gone, and its pid given to another process
	}
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill pid %d: %w", pid, err)
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, 10000); err != unix.EINTR {
			break
		}
	}
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, unix.WNOHANG, nil) // ECHILD where another process is its parent
	return nil
}

// StartTime reads the start time of process pid from /proc/PID/stat.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold anything: count from the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	// The fields after it start at field 3 (state); the start time is field 22.
	if i < 0 || len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
