package child

import "golang.org/x/sys/unix"

// deadlineHandler is the handler of DeadlineSignal in the child (see armDeadline);
// it is never called from Go.
//
//lint:ignore U1000 installed by address (deadlineHandlerPC)
func deadlineHandler()

// deadlineHandlerPC returns the address of deadlineHandler's code.
func deadlineHandlerPC() uintptr

// SetDeadline makes the child of s kill itself at the CLOCK_MONOTONIC time at,
// unless it has executed the target by then (see armDeadline). Only a vfork child
// needs it: in fork mode the parent is free to kill the child itself.
func (s *Start) SetDeadline(at unix.Timespec) { s.setDeadline(deadlineHandlerPC(), at) }
