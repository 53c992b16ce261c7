// Package stdio connects the standard streams of a sandbox's Command to the
// descriptors its target gets: an *os.File is handed over as is, nil is
// /dev/null, and any other reader or writer is joined to the target by a pipe
// and a goroutine that copies until the target is gone, as os/exec does. A
// terminal instead gives the target a new pseudo-terminal as all three.
//
// The parent holds the child's ends of the pipes only until the clone, and its
// own ends until the copies are done (or their wait delay expired).
package stdio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Streams are the pipes and copies of one start's standard streams. The zero
// value has none.
type Streams struct {
	childEnds  []*os.File
	parentEnds []*os.File
	copiers    []copier
	results    chan result
}

// A copier moves data between a pipe to the target and a reader or writer of the
// Command; input says it feeds the target's standard input.
type copier struct {
	run   func() error
	input bool
}

// result is how a copier ended.
type result struct {
	err   error
	input bool
}

// Input returns the target's descriptor for standard input r: devNull for nil,
// a file's own, or the read end of a pipe that a copy from r will feed.
func (s *Streams) Input(r io.Reader, devNull *os.File) (int32, error) {
	switch r := r.(type) {
	case nil:
		return int32(devNull.Fd()), nil
	case *os.File:
		return int32(r.Fd()), nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	s.childEnds = append(s.childEnds, pr)
	s.parentEnds = append(s.parentEnds, pw)
	s.copiers = append(s.copiers, copier{input: true, run: func() error {
		_, err := io.Copy(pw, r)
		pw.Close()
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
			err = nil
		}
		return err
	}})
	return int32(pr.Fd()), nil
}

// Output returns the target's descriptor for output w: devNull for nil, a file's
// own, or the write end of a pipe that a copy to w will drain.
func (s *Streams) Output(w io.Writer, devNull *os.File) (int32, error) {
	switch f := w.(type) {
	case nil:
		return int32(devNull.Fd()), nil
	case *os.File:
		return int32(f.Fd()), nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	s.childEnds = append(s.childEnds, pw)
	s.parentEnds = append(s.parentEnds, pr)
	s.copiers = append(s.copiers, copier{run: func() error {
		_, err := io.Copy(w, pr)
		return err
	}})
	return int32(pw.Fd()), nil
}

// Terminal opens a new pseudo-terminal of rows and columns (zero keeps the
// kernel's default), keeps its slave as the child's end and returns the master
// and the slave's descriptor.
func (s *Streams) Terminal(rows, cols uint16) (master *os.File, fd int32, err error) {
	master, slave, err := openPTY(rows, cols)
	if err != nil {
		return nil, -1, err
	}
	s.childEnds = append(s.childEnds, slave)
	return master, int32(slave.Fd()), nil
}

// Start starts the copies, once the target runs.
func (s *Streams) Start() {
	if len(s.copiers) == 0 {
		return
	}
	s.results = make(chan result, len(s.copiers))
	for _, c := range s.copiers {
		go func() { s.results <- result{c.run(), c.input} }()
	}
}

// CloseChildEnds closes the child's ends, which the parent holds only until the
// clone.
func (s *Streams) CloseChildEnds() {
	for _, f := range s.childEnds {
		f.Close()
	}
	s.childEnds = nil
}

// Close closes every end still open.
func (s *Streams) Close() {
	s.CloseChildEnds()
	for _, f := range s.parentEnds {
		f.Close()
	}
	s.parentEnds = nil
}

// Wait waits for the copies and returns the first error of one. With a delay,
// it waits that long; then it closes the pipes, which ends the copies of output,
// waits for those (their writers are the caller's: none may write after Wait
// returns) and reports that the delay expired. A copy of input that blocks in
// the caller's own reader is left to return when that does.
func (s *Streams) Wait(delay time.Duration) (expired bool, err error) {
	outputs := 0
	for _, c := range s.copiers {
		if !c.input {
			outputs++
		}
	}
	pending := len(s.copiers)
	var timeout <-chan time.Time
	if delay > 0 && pending > 0 {
		timer := time.NewTimer(delay)
		defer timer.Stop()
		timeout = timer.C
	}
	for pending > 0 {
		select {
		case r := <-s.results:
			pending--
			if !r.input {
				outputs--
			}
			if r.err != nil && err == nil {
				err = r.err
			}
		case <-timeout:
			s.Close()
			for outputs > 0 {
				if r := <-s.results; !r.input {
					outputs--
				}
			}
			return true, nil
		}
	}
	return false, err
}

// SameWriter reports whether a and b are the same writer, as os/exec compares
// Stdout and Stderr: with ==, and false where their dynamic type is not
// comparable (which == would panic on).
func SameWriter(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

// openPTY opens a new pseudo-terminal pair; the slave comes from the master with
// TIOCGPTPEER so that no path lookup can swap it.
func openPTY(rows, cols uint16) (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: open /dev/ptmx: %w", err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("sandbox: unlock pty: %w", err)
	}
	s, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if e != 0 {
		err = e
		unix.Close(m)
		return nil, nil, fmt.Errorf("sandbox: open pty peer: %w", err)
	}
	if rows != 0 || cols != 0 {
		unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}
	return os.NewFile(uintptr(m), "/dev/ptmx"), os.NewFile(s, "pty"), nil
}
