package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"time"

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
// name and whose only descriptor is the master (exec's dialConsole and
// sendMaster).
func sendConsole(socketPath string, master *os.File) error {
	conn, err := dialConsole(socketPath)
	if err != nil {
		return err
	}
	defer conn.Close()
	return sendMaster(conn, master)
}

// checkConsole checks a terminal against the flags of create or run, as runc
// does: a container that runs detached (create, run --detach) has a terminal
// exactly when it has a console socket; run in the foreground keeps the
// terminal itself (proxyTerminal).
func checkConsole(f *createFlags, terminal bool) error {
	switch {
	case f.detach && terminal && f.consoleSocket == "":
		return errNoConsoleSocket
	case (!f.detach || !terminal) && f.consoleSocket != "":
		return errConsoleSocketNoTerminal
	}
	return nil
}

// takeConsole takes the terminal of p: sent on the console socket, and the
// runtime's copy closed; without a socket (run in the foreground), kept and
// returned.
func takeConsole(p *sandbox.Process, socketPath string) (*os.File, error) {
	m := p.Terminal()
	if m == nil {
		return nil, errors.New("the container has no terminal")
	}
	if socketPath == "" {
		return m, nil
	}
	defer m.Close()
	return nil, sendConsole(socketPath, m)
}

// proxyTerminal connects the master m of the terminal of a container that run
// waits for to the runtime's own standard streams, as runc does: what the
// container writes goes to standard output, standard input goes to the
// container. Where standard input is a terminal, it is made raw (the
// container's terminal does the line editing and the echo) and its size is
// given to the container's, at once and on each SIGWINCH. The returned
// function, called once the container's process has ended, waits a little for
// the rest of its output and undoes all that.
func proxyTerminal(m *os.File) func() {
	done := make(chan struct{})
	go func() {
		io.Copy(os.Stdout, m) // until EIO: every holder of the peer closed it
		close(done)
	}()
	go io.Copy(m, os.Stdin)
	in := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(in, unix.TCGETS)
	if err != nil { // not a terminal
		return func() { waitOutput(done); m.Close() }
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag = raw.Cflag&^(unix.CSIZE|unix.PARENB) | unix.CS8
	unix.IoctlSetTermios(in, unix.TCSETS, &raw)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	winch <- unix.SIGWINCH
	go func() {
		for range winch {
			if ws, err := unix.IoctlGetWinsize(in, unix.TIOCGWINSZ); err == nil {
				unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, ws)
			}
		}
	}()
	return func() {
		waitOutput(done)
		signal.Stop(winch)
		close(winch)
		unix.IoctlSetTermios(in, unix.TCSETS, old)
		m.Close()
	}
}

// waitOutput waits until done is closed, the container's output copied, or a
// short while: a process that left the container's terminal open elsewhere
// must not hold run.
func waitOutput(done <-chan struct{}) {
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}
