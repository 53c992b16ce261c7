package handshake

import (
	"fmt"
	"os"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// FDs are the descriptors of one start's handshake, -1 once closed: the error
// pipe, the sync pipe and the socket pairs of the seccomp listener and of the
// terminal, each a parent and a child end.
type FDs struct{ ErrR, ErrW, SyncR, SyncW, NotifyP, NotifyC, TermP, TermC int }

// NoFDs returns FDs of which none is open.
func NoFDs() FDs { return FDs{-1, -1, -1, -1, -1, -1, -1, -1} }

// Open opens the error pipe, with sync the sync pipe (fork mode), and the socket
// pairs of the seccomp listener and of a terminal where asked, and gives the
// child its ends in s. What it opened before a failure stays in f for CloseAll.
func (f *FDs) Open(s *child.Start, sync, listener, terminal bool) error {
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("sandbox: error pipe: %w", err)
	}
	f.ErrR, f.ErrW = pipe[0], pipe[1]
	s.ErrFD = int32(f.ErrW)
	if sync {
		if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
			return fmt.Errorf("sandbox: sync pipe: %w", err)
		}
		f.SyncR, f.SyncW = pipe[0], pipe[1]
		s.SyncFD = int32(f.SyncR)
	}
	var err error
	if listener {
		if f.NotifyP, f.NotifyC, err = socketPair("seccomp listener socket"); err != nil {
			return err
		}
		s.NotifyFD = int32(f.NotifyC)
	}
	if terminal {
		if f.TermP, f.TermC, err = socketPair("terminal socket"); err != nil {
			return err
		}
		s.TerminalFD = int32(f.TermC)
	}
	return nil
}

// socketPair opens the parent's and the child's ends of a socket pair over which
// the child sends a descriptor; what names it in an error.
func socketPair(what string) (parent, child int, err error) {
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, fmt.Errorf("sandbox: %s: %w", what, err)
	}
	return sp[0], sp[1], nil
}

func closeFD(fd *int) {
	if *fd >= 0 {
		unix.Close(*fd)
		*fd = -1
	}
}

// CloseChild closes the child's ends, which the parent holds only until the clone.
func (f *FDs) CloseChild() {
	closeFD(&f.ErrW)
	closeFD(&f.SyncR)
	closeFD(&f.NotifyC)
	closeFD(&f.TermC)
}

// CloseAll closes every descriptor still open.
func (f *FDs) CloseAll() {
	f.CloseChild()
	closeFD(&f.ErrR)
	closeFD(&f.SyncW)
	closeFD(&f.NotifyP)
	closeFD(&f.TermP)
}

// Release lets a child that waits on the sync pipe whose write end is fd go on.
func Release(fd int) error {
	_, err := unix.Write(fd, []byte{0})
	return err
}

// Receive receives the master of the child's terminal into *terminal and its
// seccomp listener into *listener, where their sockets are open, and leaves
// them as they are elsewhere. The child sent them before it executed the target:
// they wait in the sockets, and a child that failed took them with it.
func (f *FDs) Receive(terminal, listener **os.File) (err error) {
	if f.TermP >= 0 {
		if *terminal, err = ReceiveFD(f.TermP, "terminal"); err != nil {
			return err
		}
	}
	if f.NotifyP >= 0 {
		*listener, err = ReceiveFD(f.NotifyP, "seccomp-listener")
	}
	return err
}

// ReceiveFD takes the descriptor that the child sent on sock before it executed
// the target (the master of the terminal, the seccomp user-notification
// listener) as a file called name. It does not wait: by then the descriptor is
// there, or never will be.
func ReceiveFD(sock int, name string) (*os.File, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
	if err != nil {
		return nil, fmt.Errorf("sandbox: receive the %s: %w", name, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("sandbox: receive the %s: no descriptor (%v)", name, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("sandbox: receive the %s: %v", name, err)
	}
	return os.NewFile(uintptr(fds[0]), name), nil
}
