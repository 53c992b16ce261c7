package sandbox

import (
	"io"
	"os"
	"time"
)

// A Command is what one start of a Template runs.
type Command struct {
	// Args is the program and its arguments. A program name without a slash is
	// looked up in the PATH of the environment, inside the sandbox.
	Args []string
	// Env replaces the Template's environment when not nil.
	Env []string
	// Stdin, Stdout and Stderr are the target's standard streams. An *os.File is
	// handed over as is; any other reader or writer is connected through a pipe
	// copied by a goroutine until Wait; nil is /dev/null.
	//
	// If Stdout and Stderr are the same writer (compared with ==, where their
	// type allows), the target gets one pipe as both descriptors 1 and 2 and one
	// goroutine writes to it: at most one Write at a time, in the order the
	// target wrote. Two different writers get a goroutine each, so writers that
	// share something (two wrappers of one buffer) must bear concurrent Writes.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// WaitDelay bounds how long Wait waits for those goroutines once the process
	// has exited, as os/exec's Cmd.WaitDelay: a process that leaves a descendant
	// holding its output open (one outside its pid namespace and cgroup, which
	// Wait does not kill) would keep Wait waiting as long as that one lives. When
	// the delay expires Wait closes the pipes and returns ErrWaitDelay. Zero waits
	// as long as it takes.
	WaitDelay time.Duration
	// ExtraFiles become descriptors 3, 4, ... of the target.
	ExtraFiles []*os.File
	// Terminal gives the target a new pseudo-terminal as its standard streams and
	// controlling terminal, in a session of its own; the caller reads and writes
	// the master through Process.Terminal. Stdin, Stdout and Stderr must be nil.
	//
	// Where the sandbox mounts a /dev/pts of its own (the default mounts, or a
	// devpts of the Spec's own mounts on /dev/pts, with a new mount namespace),
	// the sandbox opens the terminal there itself, as runc and crun do, and hands
	// the master out: the target's terminal is a /dev/pts/N of its own /dev,
	// which tty(1), ttyname(3) and /proc/self/fd/0 name and which it can open
	// again by name, owned by the target's user. Where /dev is the sandbox's own
	// too (the default mounts, or a tmpfs of the Spec's own), the terminal is
	// also bound onto /dev/console, as runc makes a container's console. A
	// sandbox that joins the mount namespace of a process whose /dev/pts is a
	// devpts (/proc/PID/ns/mnt) opens it there, as runc's exec does. Elsewhere
	// (WithoutRootfs, or a Spec without such a /dev/pts) the caller
	// opens it on the host's /dev/ptmx, and the target sees its name only where it
	// sees the host's /dev/pts. A terminal that cannot be opened in the sandbox
	// fails the start with a *ChildError of stage "terminal". With an init
	// (WithInit), the target, not the init, leads the terminal's session.
	Terminal bool
	// TerminalSize is the initial size of that terminal (rows, columns); zero keeps
	// the kernel's default.
	TerminalSize WindowSize
	// HoldFIFO is the FIFO (mkfifo(3)) on the host on which a start of a held
	// Template (WithHold) waits before execve: Start returns once the sandbox is
	// set up and waiting, and the target runs once a reader opens the FIFO and
	// reads the byte the sandbox writes there (Release, Process.Release). The
	// sandbox opens it for writing as the target's user, as the host sees it:
	// make it writable by that user (mode 0622, as runc makes its exec FIFO).
	// It must be empty for a Template that does not hold its starts.
	HoldFIFO string
	// BeforePivot, for a start of a held Template with a stop before pivot_root
	// (WithHold, WithHoldBeforePivot) and a root filesystem, is called during Start while the sandbox waits with its
	// namespaces, cgroup and mounts made, just before pivot_root, with the
	// sandbox's pid: runc's point for an OCI runtime's createRuntime and
	// createContainer hooks, which join the sandbox's namespaces there and still
	// see the host's files. An error fails the start (a *ChildError of stage
	// "mount" that wraps it), which leaves nothing behind. A start of such a
	// Template without one goes on at once. Start calls it again for an attempt that it makes
	// again (a start that a change of the host's mount table defeated).
	BeforePivot func(pid int) error
}

// WindowSize is a terminal size in characters.
type WindowSize struct{ Rows, Cols uint16 }
