package sandbox

import (
	"errors"
	"time"
)

// ErrWaitDelay is returned by Wait when the Command's WaitDelay expired before
// the goroutines copying the target's streams were done: something that outlived
// the process still held a pipe open, and Wait closed it.
var ErrWaitDelay = errors.New("sandbox: the standard streams were still open when WaitDelay expired")

// A copier moves data between a pipe to the target and a reader or writer of the
// Command; input says it feeds the target's standard input.
type copier struct {
	run   func() error
	input bool
}

// copyResult is how a copier ended.
type copyResult struct {
	err   error
	input bool
}

// awaitCopiers waits for the copiers and returns the first error of one. With a
// WaitDelay, it waits that long; then it closes the pipes, which ends the copies
// of output, waits for those (their writers are the caller's: none may write
// after Wait returns) and returns ErrWaitDelay. A copy of input that blocks in
// the caller's own reader is left to return when that does.
func (p *Process) awaitCopiers() error {
	outputs := 0
	for _, c := range p.copiers {
		if !c.input {
			outputs++
		}
	}
	pending := len(p.copiers)
	var expired <-chan time.Time
	if p.waitDelay > 0 && pending > 0 {
		timer := time.NewTimer(p.waitDelay)
		defer timer.Stop()
		expired = timer.C
	}
	var first error
	for pending > 0 {
		select {
		case r := <-p.copyErrs:
			pending--
			if !r.input {
				outputs--
			}
			if r.err != nil && first == nil {
				first = r.err
			}
		case <-expired:
			p.closeParentEnds()
			for outputs > 0 {
				if r := <-p.copyErrs; !r.input {
					outputs--
				}
			}
			return ErrWaitDelay
		}
	}
	return first
}

// sameWriter reports whether a and b are the same writer, as os/exec compares
// Stdout and Stderr: with ==, and false where their dynamic type is not
// comparable (which == would panic on).
func sameWriter(a, b any) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
