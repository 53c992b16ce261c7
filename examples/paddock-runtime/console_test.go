package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// receiveConsole listens on a unix socket in a directory of t's and returns
// its path and a channel that gets the one descriptor received there.
func receiveConsole(t *testing.T) (string, <-chan *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan *os.File, 1)
	go func() {
		defer close(ch)
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4*4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			t.Errorf("receive the terminal: %v", err)
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			t.Errorf("receive the terminal: %d messages, %v", len(msgs), err)
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			t.Errorf("receive the terminal: descriptors %v, %v", fds, err)
			return
		}
		ch <- os.NewFile(uintptr(fds[0]), string(buf[:n]))
	}()
	return path, ch
}

// TestConsoleSocket: with process.terminal, create sends the master of the
// container's terminal to --console-socket; the container's process prints to
// it and reads from it, names its terminal /dev/pts/N, finds it bound on
// /dev/console, and has the configured size; as root and as uid 65534.
func TestConsoleSocket(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sh", "-c", "tty; stty size; stat -c '%t:%T %i' /dev/console $(tty) | uniq | wc -l; read line; echo got:$line"}, t.TempDir(), func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = true
			p["consoleSize"] = map[string]any{"height": 31, "width": 101}
		})
		sock, ch := receiveConsole(t)
		r.must(t, "create", "--bundle", b, "--console-socket", sock, "box")
		var m *os.File
		select {
		case m = <-ch:
		case <-time.After(10 * time.Second):
		}
		if m == nil {
			t.Fatal("no terminal came on the console socket")
		}
		defer m.Close()
		r.must(t, "start", "box")
		m.SetReadDeadline(time.Now().Add(10 * time.Second))
		rd := bufio.NewReader(m)
		line := func() string {
			s, err := rd.ReadString('\n')
			if err != nil {
				t.Fatalf("read the terminal: %q, %v", s, err)
			}
			return strings.TrimRight(s, "\r\n")
		}
		if tty := line(); !regexp.MustCompile(`^/dev/(pts/[0-9]+|console)$`).MatchString(tty) {
			t.Errorf("tty: %q", tty)
		}
		if size := line(); size != "31 101" {
			t.Errorf("stty size: %q, want 31 101", size)
		}
		if n := line(); n != "1" {
			t.Errorf("/dev/console and the terminal: %s distinct files, want one", n)
		}
		if _, err := m.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		if echo := line(); echo != "hello" { // the terminal echoes
			t.Errorf("echo: %q", echo)
		}
		if got := line(); got != "got:hello" {
			t.Errorf("the process read %q", got)
		}
		r.waitStatus(t, "box", "stopped")
		r.must(t, "delete", "box")
		r.gone(t, "box")
	})
}

// TestConsoleRefused: a terminal without a console socket, and a console
// socket without a terminal, are refused as runc refuses them, leaving nothing.
func TestConsoleRefused(t *testing.T) {
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	term := r.bundle(t, []string{"true"}, t.TempDir(), func(cfg map[string]any) { cfg["process"].(map[string]any)["terminal"] = true })
	plain := r.bundle(t, []string{"true"}, t.TempDir(), nil)
	sock := filepath.Join(t.TempDir(), "sock")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--bundle", term, "box"}, "cannot allocate tty if paddock-runtime will detach without setting console socket"},
		{[]string{"run", "-d", "--bundle", term, "box"}, "cannot allocate tty"},
		{[]string{"create", "--bundle", plain, "--console-socket", sock, "box"}, "cannot use console socket if paddock-runtime will not detach or allocate tty"},
	} {
		if o, code := r.run(t, tc.args...); code != 1 || !strings.Contains(o, tc.want) {
			t.Errorf("%q: exit %d: %s", tc.args, code, o)
		}
		r.gone(t, "box")
	}
}

// TestRunTerminal: run in the foreground with a terminal connects it to its
// own standard streams: the process names its terminal /dev/pts/N, reads what
// came on run's standard input, its output comes out of run's, and run exits
// with its status. As root and as uid 65534.
func TestRunTerminal(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sh", "-c", "tty; read line; echo got:$line; exit 4"}, t.TempDir(), func(cfg map[string]any) {
			cfg["process"].(map[string]any)["terminal"] = true
		})
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		cmd := exec.Command(r.bin, "--root", r.root, "run", "--bundle", b, "box")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader("hello\n"), out, out
		err = cmd.Run()
		got, _ := os.ReadFile(out.Name())
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 4 {
			t.Errorf("run: %v, want exit 4:\n%s", err, got)
		}
		text := strings.ReplaceAll(string(got), "\r", "")
		if !regexp.MustCompile(`(?m)^/dev/pts/[0-9]+$`).MatchString(text) || !strings.Contains(text, "got:hello\n") {
			t.Errorf("run's output:\n%s", text)
		}
		r.gone(t, "box")
	})
}
