package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onTerminal starts bin with args on a new pseudo-terminal of rows x cols, as a
// user at a terminal would, and returns its master and what reading it gathers
// (complete once done is closed).
func onTerminal(t *testing.T, bin string, rows, cols uint16, args ...string) (cmd *exec.Cmd, master *os.File, out *bytes.Buffer, done chan struct{}) {
	t.Helper()
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	master = os.NewFile(uintptr(m), "ptmx")
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(m, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	sfd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if e != 0 {
		t.Fatal(e)
	}
	slave := os.NewFile(sfd, "pts")
	cmd = exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out = new(bytes.Buffer)
	done = make(chan struct{})
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
	return cmd, master, out, done
}

// waitExit waits up to 20 seconds for cmd and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer) int {
	t.Helper()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("run did not exit")
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

// TestInteractiveTerminal runs `run -it -- /bin/sh` on a pseudo-terminal, as a user
// at a terminal would, types two commands and checks the shell's answers and exit
// code: podman run -it semantics.
func TestInteractiveTerminal(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		cmd, master, out, done := onTerminal(t, bin, 24, 80, "-it", "--", "/bin/sh")
		time.Sleep(300 * time.Millisecond) // let the shell print its prompt
		master.Write([]byte("test -t 0 && echo tty-$((40+2))\n"))
		time.Sleep(100 * time.Millisecond)
		master.Write([]byte("exit 3\n"))
		code := waitExit(t, cmd, out)
		master.Close()
		<-done
		if code != 3 || !strings.Contains(out.String(), "tty-42") {
			t.Fatalf("exit %d, terminal showed:\n%s", code, out.String())
		}
	})
}

// TestTerminalName checks that `run -it` gives the target a terminal of the
// sandbox's own: tty(1) names a /dev/pts/N that exists inside, descriptor 0 leads
// there, and it has the size of the caller's terminal.
func TestTerminalName(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		script := `t=$(tty); echo "tty=$t"; test -c "$t" && echo device=yes; echo "fd0=$(readlink /proc/self/fd/0)"; echo "size=$(stty size)"`
		cmd, master, out, done := onTerminal(t, bin, 40, 120, "-it", "--", "/bin/sh", "-c", script)
		code := waitExit(t, cmd, out)
		master.Close()
		<-done
		text := strings.ReplaceAll(out.String(), "\r", "")
		m := regexp.MustCompile(`(?m)^tty=(/dev/pts/[0-9]+)$`).FindStringSubmatch(text)
		if code != 0 || m == nil {
			t.Fatalf("exit %d; tty named no /dev/pts/N:\n%s", code, text)
		}
		for _, want := range []string{"device=yes\n", "fd0=" + m[1] + "\n", "size=40 120\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("the terminal showed no %q:\n%s", strings.TrimSpace(want), text)
			}
		}
	})
}
