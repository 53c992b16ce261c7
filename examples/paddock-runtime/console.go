package main

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// A container's terminal. With process.terminal, the sandbox opens a
// pseudo-terminal in the container's own devpts (sandbox.Command.Terminal) and
// the runtime hands its master to the engine: one message on the unix socket
// that --console-socket names, carrying the master as its only descriptor
// (SCM_RIGHTS) and, as its payload, the master's name, as runc sends it. The
// runtime then closes its copy: the engine alone reads and writes the
// terminal.

// errNoConsoleSocket refuses a terminal without a socket to send it on, in
// runc's words.
var errNoConsoleSocket = errors.New("cannot allocate tty if paddock-runtime will detach without setting console socket")

// errConsoleSocketNoTerminal refuses a socket for a container without a
// terminal, as runc does.
var errConsoleSocketNoTerminal = errors.New("cannot use console socket if paddock-runtime will not detach or allocate tty")

// sendConsole sends master, the master side of a container's terminal, over
// the unix socket at socketPath: one message whose payload is the master's
// name and whose only descriptor is the master.
func sendConsole(socketPath string, master *os.File) error {
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("--console-socket: %w", err)
	}
	defer conn.Close()
	name := master.Name()
	if name == "" {
		name = "/dev/ptmx"
	}
	oob := unix.UnixRights(int(master.Fd()))
	n, oobn, err := conn.WriteMsgUnix([]byte(name), oob, nil)
	if err != nil {
		return fmt.Errorf("--console-socket %s: send the terminal: %w", socketPath, err)
	}
	if n != len(name) || oobn != len(oob) {
		return fmt.Errorf("--console-socket %s: send the terminal: short write", socketPath)
	}
	return nil
}

// checkConsole checks a terminal against the flags of create or run, as runc
// does: a container that runs detached (create, run --detach) has a terminal
// exactly when it has a console socket. A terminal in the foreground of run
// is not supported yet.
func checkConsole(f *createFlags, terminal bool) error {
	switch {
	case f.detach && terminal && f.consoleSocket == "":
		return errNoConsoleSocket
	case (!f.detach || !terminal) && f.consoleSocket != "":
		return errConsoleSocketNoTerminal
	case !f.detach && terminal:
		return errors.New("process.terminal: run in the foreground with a terminal is not supported yet: use --detach and --console-socket")
	}
	return nil
}

// handConsole sends the terminal of p on the console socket and closes the
// runtime's copy of it.
func handConsole(p *sandbox.Process, socketPath string) error {
	m := p.Terminal()
	if m == nil {
		return errors.New("the container has no terminal")
	}
	defer m.Close()
	return sendConsole(socketPath, m)
}
