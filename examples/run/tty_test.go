package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestInteractiveTerminal runs `run -it -- /bin/sh` on a pseudo-terminal, as a user
// at a terminal would, types two commands and checks the shell's answers and exit
// code: podman run -it semantics.
func TestInteractiveTerminal(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Skipf("no pseudo-terminals: %v", err)
		}
		master := os.NewFile(uintptr(m), "ptmx")
		defer master.Close()
		if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
			t.Fatal(err)
		}
		sfd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
		if e != 0 {
			t.Fatal(e)
		}
		slave := os.NewFile(sfd, "pts")
		cmd := exec.Command(bin, "-it", "--", "/bin/sh")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		slave.Close()
		var out bytes.Buffer
		done := make(chan struct{})
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := master.Read(buf)
				out.Write(buf[:n])
				if err != nil {
					break
				}
			}
			close(done)
		}()
		time.Sleep(300 * time.Millisecond) // let the shell print its prompt
		master.Write([]byte("test -t 0 && echo tty-$((40+2))\n"))
		time.Sleep(100 * time.Millisecond)
		master.Write([]byte("exit 3\n"))
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err = <-waited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-waited
			t.Fatalf("the interactive shell did not exit; it printed:\n%s", out.String())
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		master.Close()
		<-done
		if code != 3 || !strings.Contains(out.String(), "tty-42") {
			t.Fatalf("exit %d, terminal showed:\n%s", code, out.String())
		}
	})
}
