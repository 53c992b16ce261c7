package sandbox

import (
	"io"
	"os"
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
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ExtraFiles become descriptors 3, 4, ... of the target.
	ExtraFiles []*os.File
	// Terminal gives the target a new pseudo-terminal as its standard streams and
	// controlling terminal; the caller reads and writes the master through
	// Process.Terminal. Stdin, Stdout and Stderr must be nil.
	Terminal bool
	// TerminalSize is the initial size of that terminal (rows, columns); zero keeps
	// the kernel's default.
	TerminalSize WindowSize
}

// WindowSize is a terminal size in characters.
type WindowSize struct{ Rows, Cols uint16 }
