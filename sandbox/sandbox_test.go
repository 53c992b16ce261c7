package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// run builds a sandbox from opts, runs args in it and returns its output.
func run(t *testing.T, opts []sandbox.Option, args ...string) (string, *sandbox.ExitStatus) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	return runTemplate(t, tpl, args...)
}

// runTemplate runs args in a sandbox of tpl and returns its output.
func runTemplate(t *testing.T, tpl *sandbox.Template, args ...string) (string, *sandbox.ExitStatus) {
	t.Helper()
	var out bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: args, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("Run %q: %v\n%s", args, err, out.String())
	}
	return out.String(), st
}

func TestPidOneAndRoot(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, nil, "/bin/sh", "-c", "echo $$; id -u; id -g")
		if !st.Success() {
			t.Fatalf("exit %v: %s", st, out)
		}
		if got := strings.Fields(out); len(got) != 3 || got[0] != "1" || got[1] != "0" || got[2] != "0" {
			t.Fatalf("want pid 1, uid 0 and gid 0 inside, got %q", out)
		}
	})
}

// nsInodes returns the inode of each namespace kind of the current process, read
// from inside a sandbox or from the test itself.
func selfNS(t *testing.T) map[namespace.Kind]string {
	t.Helper()
	m := map[namespace.Kind]string{}
	for _, k := range namespace.Kinds {
		l, err := os.Readlink("/proc/self/ns/" + string(k))
		if err != nil {
			t.Fatal(err)
		}
		m[k] = l
	}
	return m
}

func sandboxNS(t *testing.T, opts ...sandbox.Option) map[namespace.Kind]string {
	t.Helper()
	script := ""
	for _, k := range namespace.Kinds {
		script += "readlink /proc/self/ns/" + string(k) + "; "
	}
	out, st := run(t, opts, "/bin/sh", "-c", script)
	if !st.Success() {
		t.Fatalf("exit %v: %s", st, out)
	}
	lines := strings.Fields(out)
	if len(lines) != len(namespace.Kinds) {
		t.Fatalf("readlink printed %q", out)
	}
	m := map[namespace.Kind]string{}
	for i, k := range namespace.Kinds {
		m[k] = lines[i]
	}
	return m
}

func TestHostNamespaces(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		host := selfNS(t)
		newKinds := map[namespace.Kind]bool{namespace.Mount: true, namespace.PID: true, namespace.Net: true,
			namespace.IPC: true, namespace.UTS: true, namespace.Cgroup: true, namespace.User: testutil.Rootless()}
		check := func(t *testing.T, got map[namespace.Kind]string, shared namespace.Kind) {
			for _, k := range namespace.Kinds {
				want := !newKinds[k] || k == shared
				if (got[k] == host[k]) != want {
					t.Errorf("%s: inside %s, host %s; want shared=%v", k, got[k], host[k], want)
				}
			}
		}
		t.Run("none", func(t *testing.T) { check(t, sandboxNS(t), "") })
		for _, k := range []namespace.Kind{namespace.UTS, namespace.PID, namespace.Net, namespace.IPC} {
			t.Run(string(k), func(t *testing.T) {
				check(t, sandboxNS(t, sandbox.WithHostNamespaces(k)), k)
			})
		}
	})
}

func TestJoinNamespace(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		// A long-lived sandbox with its own uts namespace; a second one joins it.
		tpl, err := sandbox.NewBuilder(sandbox.WithHostname("joined")).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Wait()
		defer p.Kill()
		join := []sandbox.Option{sandbox.WithJoinNamespaceOf(namespace.UTS, p.Pid())}
		if testutil.Rootless() {
			// A uts namespace is owned by the first sandbox's user namespace: only
			// from inside that one may the second join it, and its own new
			// namespaces are then created in there too. A new pid namespace would
			// be made before the join, in the caller's user namespace, where uid
			// 65534 may not: the second sandbox shares the host's.
			join = append(join, sandbox.WithJoinNamespaceOf(namespace.User, p.Pid()), sandbox.WithHostNamespaces(namespace.PID))
		}
		out, _ := run(t, join, "/bin/hostname")
		if strings.TrimSpace(out) != "joined" {
			t.Fatalf("hostname in the joined uts namespace: %q", out)
		}
	})
}

func TestExitStatus(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		_, st := run(t, nil, "/bin/sh", "-c", "exit 7")
		if st.Code != 7 || st.Signal != 0 {
			t.Fatalf("exit 7: got %v", st)
		}
		_, st = run(t, nil, "/bin/sh", "-c", "kill -TERM $$; sleep 1")
		// PID 1 ignores signals it has no handler for, even its own: the shell is
		// PID 1 here, so it survives and exits normally.
		if st.Signal != 0 {
			t.Fatalf("PID 1 was killed by its own SIGTERM: %v", st)
		}
		_, st = run(t, []sandbox.Option{sandbox.WithHostNamespaces(namespace.PID)}, "/bin/sh", "-c", "kill -TERM $$; sleep 1")
		if st.Signal != syscall.SIGTERM || st.ExitCode() != 128+15 {
			t.Fatalf("kill -TERM: got %v", st)
		}
	})
}

func TestEnvWorkdirHostname(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, _ := run(t, []sandbox.Option{sandbox.WithEnv("GREETING=hi"), sandbox.WithWorkdir("/usr"), sandbox.WithHostname("box")},
			"sh", "-c", `echo "$GREETING $(pwd) $(hostname)"`)
		if strings.TrimSpace(out) != "hi /usr box" {
			t.Fatalf("got %q", out)
		}
	})
}

func TestUser(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		var opts []sandbox.Option
		if testutil.Rootless() {
			// Only the caller's own id is mapped: 0 is all there is.
			opts = append(opts, sandbox.WithUser(0, 0))
		} else {
			opts = append(opts, sandbox.WithUser(1000, 1001, 1002))
		}
		out, _ := run(t, opts, "/bin/sh", "-c", "id -u; id -g; id -G")
		want := "1000\n1001\n1001 1002\n"
		if testutil.Rootless() {
			want = "0\n0\n0\n"
		}
		if out != want {
			t.Fatalf("got %q, want %q", out, want)
		}
	})
}

func TestRlimitNofile(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, _ := run(t, nil, "/bin/sh", "-c", "ulimit -Sn")
		if strings.TrimSpace(out) != "1024" {
			t.Fatalf("default soft RLIMIT_NOFILE: got %q, want 1024 (not the Go runtime's raised limit)", out)
		}
		out, _ = run(t, []sandbox.Option{sandbox.WithRlimit("RLIMIT_NOFILE", 64, 128)}, "/bin/sh", "-c", "ulimit -Sn; ulimit -Hn")
		if out != "64\n128\n" {
			t.Fatalf("got %q", out)
		}
	})
}

func TestNoDescriptorLeak(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		// A descriptor without close-on-exec in the parent must not reach the target.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), syscall.F_SETFD, 0)
		extra, err := os.Open("/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		var out bytes.Buffer
		_, err = tpl.Run(context.Background(), sandbox.Command{
			Args:       []string{"/bin/sh", "-c", "ls /proc/self/fd"},
			Stdout:     &out,
			ExtraFiles: []*os.File{extra},
		})
		if err != nil {
			t.Fatal(err)
		}
		// 0, 1, 2, the extra file as 3, and the directory ls reads.
		if got := strings.Fields(out.String()); len(got) != 5 || got[3] != "3" {
			t.Fatalf("descriptors inside: %q", got)
		}
	})
}

func TestTerminal(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{
			Args:         []string{"/bin/sh", "-c", "test -t 0 && echo tty; stty size; ps -o pid,sid,tty= -p $$ >/dev/null; read line; echo got $line"},
			Terminal:     true,
			TerminalSize: sandbox.WindowSize{Rows: 33, Cols: 101},
		})
		if err != nil {
			t.Fatal(err)
		}
		term := p.Terminal()
		if _, err := term.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		done := make(chan struct{})
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := term.Read(buf)
				out.Write(buf[:n])
				if err != nil {
					break
				}
			}
			close(done)
		}()
		st, err := p.Wait()
		if err != nil || !st.Success() {
			t.Fatalf("wait: %v %v", st, err)
		}
		term.Close()
		<-done
		text := strings.ReplaceAll(out.String(), "\r", "")
		for _, want := range []string{"tty\n", "33 101\n", "got hello\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("terminal output lacks %q:\n%s", want, text)
			}
		}
	})
}

func TestContextCancelKills(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		ctx, cancel := context.WithCancel(context.Background())
		p, err := tpl.Start(ctx, sandbox.Command{Args: []string{"/bin/sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		st, err := p.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait after cancel: %v, want context.Canceled", err)
		}
		if st.Signal != syscall.SIGKILL {
			t.Fatalf("after cancel: %v", st)
		}
		if err := p.Kill(); !errors.Is(err, sandbox.ErrFinished) {
			t.Fatalf("Kill after Wait: %v", err)
		}
	})
}

func TestInit(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		// Without an init the shell is PID 1; with one, the shell is PID 2 and
		// orphans are reaped.
		out, st := run(t, []sandbox.Option{sandbox.WithInit()}, "/bin/sh", "-c",
			"echo $$; (sleep 0.1 &) ; sleep 0.3; ps -o stat= -A 2>/dev/null | grep -c Z; exit 3")
		if st.Code != 3 {
			t.Fatalf("exit status through the init: %v (%s)", st, out)
		}
		if f := strings.Fields(out); len(f) < 1 || f[0] != "2" {
			t.Fatalf("the target should be PID 2 under an init: %q", out)
		}
		if f := strings.Fields(out); len(f) == 2 && f[1] != "0" {
			t.Fatalf("zombies left unreaped: %q", out)
		}
		// The init forwards signals: SIGTERM to the sandbox reaches the shell, which
		// is not PID 1 and so dies of it.
		tpl, err := sandbox.NewBuilder(sandbox.WithInit()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		st, err = p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if st.Code != 128+int(syscall.SIGTERM) {
			t.Fatalf("init should exit 128+SIGTERM after forwarding it: %v", st)
		}
	})
}

func TestSpawnModes(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, m := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
			t.Run(string(m), func(t *testing.T) {
				out, st := run(t, []sandbox.Option{sandbox.WithSpawnMode(m), sandbox.WithHostname("m")}, "/bin/sh", "-c", "echo $$ $(id -u) $(hostname)")
				if !st.Success() || strings.TrimSpace(out) != "1 0 m" {
					t.Fatalf("%s: %v %q", m, st, out)
				}
			})
		}
	})
}

// TestOwnHostname: where the uts namespace is new and the Spec names no host, each
// start gets a hostname of its own (12 hexadecimal digits, as podman names a
// container's host after its short ID), which Process.Hostname reports; where the
// Spec names one, that one; where the uts namespace is the host's, the host's.
func TestOwnHostname(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := sandbox.NewBuilder().Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		seen := map[string]bool{}
		for range 2 {
			var out bytes.Buffer
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/hostname"}, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			if st, err := p.Wait(); err != nil || !st.Success() {
				t.Fatal(st, err)
			}
			name := strings.TrimSpace(out.String())
			if len(name) != 12 || strings.Trim(name, "0123456789abcdef") != "" || name == host || seen[name] || p.Hostname() != name {
				t.Errorf("hostname %q (Process says %q; host %q, seen %v)", name, p.Hostname(), host, seen)
			}
			seen[name] = true
		}
		if out, _ := run(t, []sandbox.Option{sandbox.WithHostname("box")}, "/bin/hostname"); out != "box\n" {
			t.Errorf("WithHostname: %q", out)
		}
		if out, _ := run(t, []sandbox.Option{sandbox.WithHostNamespaces(namespace.UTS)}, "/bin/hostname"); strings.TrimSpace(out) != host {
			t.Errorf("the host's uts namespace: %q, want %q", out, host)
		}
	})
}
