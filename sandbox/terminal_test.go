package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// onTerminal runs args with a terminal of size 33x101 in a sandbox of opts and
// returns what the caller read from its master, carriage returns removed.
func onTerminal(t *testing.T, opts []sandbox.Option, args ...string) (string, *sandbox.ExitStatus) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args:         args,
		Terminal:     true,
		TerminalSize: sandbox.WindowSize{Rows: 33, Cols: 101},
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	term := p.Terminal()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := term.Read(buf)
			out.Write(buf[:n])
			if err != nil { // EIO once the last holder of the peer closed it
				break
			}
		}
		close(done)
	}()
	st, err := p.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	<-done
	term.Close()
	return strings.ReplaceAll(out.String(), "\r", ""), st
}

// ttyScript prints what a program on the terminal sees of it: its name, whether
// that name is a terminal device in the sandbox's /dev, where descriptor 0 leads,
// the size, what a shell with job control says, and the process group, session
// and terminal foreground group of a process the shell started.
const ttyScript = `t=$(tty); echo "tty=$t"
test -c "$t" && echo "device=yes"
echo "fd0=$(readlink /proc/self/fd/0)"
echo "size=$(stty size)"
sh -c 'set -m; sleep 0 & wait $!; echo "jobs=$?"' 2>&1
echo "stat=$(cut -d' ' -f5,6,8 /proc/self/stat)"
`

var ttyName = regexp.MustCompile(`(?m)^tty=(/dev/pts/[0-9]+)$`)

// checkTTY checks the output of ttyScript: the terminal is a /dev/pts/N that
// exists in the sandbox, descriptor 0 is that device, the size is the one asked
// for, job control works, and the shell leads its session and the terminal's
// foreground group.
func checkTTY(t *testing.T, out string) {
	t.Helper()
	m := ttyName.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("tty did not print a /dev/pts/N:\n%s", out)
	}
	for _, want := range []string{"device=yes\n", "fd0=" + m[1] + "\n", "size=33 101\n", "jobs=0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal showed no %q:\n%s", strings.TrimSpace(want), out)
		}
	}
	if strings.Contains(out, "job control") {
		t.Errorf("the shell has no job control:\n%s", out)
	}
	var pgrp, session, tpgid int
	if i := strings.Index(out, "stat="); i < 0 {
		t.Errorf("no process group line:\n%s", out)
	} else if _, err := fmt.Sscanf(out[i:], "stat=%d %d %d", &pgrp, &session, &tpgid); err != nil || pgrp != tpgid || pgrp != session {
		t.Errorf("the shell's group %d (session %d) is not the terminal's foreground group %d: %v\n%s", pgrp, session, tpgid, err, out)
	}
}

// TestTerminalInside checks, from inside, that the terminal a sandbox is given
// is one of its own /dev/pts: the programs that look their terminal up by name
// (tty, ttyname(3), ssh, sudo, a shell's job control) find it.
func TestTerminalInside(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Run("host root", func(t *testing.T) {
			out, st := onTerminal(t, nil, "/bin/sh", "-c", ttyScript)
			if !st.Success() {
				t.Fatalf("exit %v:\n%s", st, out)
			}
			checkTTY(t, out)
		})
		t.Run("busybox root", func(t *testing.T) {
			root := testutil.BusyboxRoot(t)
			out, st := onTerminal(t, []sandbox.Option{sandbox.WithRootfs(root)}, "/bin/sh", "-c", ttyScript)
			if !st.Success() {
				t.Fatalf("exit %v:\n%s", st, out)
			}
			checkTTY(t, out)
		})
		t.Run("init", func(t *testing.T) {
			// PID 1 is the init: the target is its child, in its session.
			out, st := onTerminal(t, []sandbox.Option{sandbox.WithInit()}, "/bin/sh", "-c", "tty; test -c \"$(tty)\" && echo device=yes")
			if !st.Success() || !ttyLine.MatchString(out) || !strings.Contains(out, "device=yes") {
				t.Fatalf("exit %v:\n%s", st, out)
			}
		})
		t.Run("vfork", func(t *testing.T) {
			out, st := onTerminal(t, []sandbox.Option{sandbox.WithSpawnMode(sandbox.SpawnVfork)}, "/bin/sh", "-c", ttyScript)
			if !st.Success() {
				t.Fatalf("exit %v:\n%s", st, out)
			}
			checkTTY(t, out)
		})
		t.Run("without rootfs", func(t *testing.T) {
			// The sandbox sees the host's /dev/pts: the terminal is the host's.
			out, st := onTerminal(t, []sandbox.Option{sandbox.WithoutRootfs()}, "/bin/sh", "-c", ttyScript)
			if !st.Success() {
				t.Fatalf("exit %v:\n%s", st, out)
			}
			checkTTY(t, out)
		})
	})
}

var ttyLine = regexp.MustCompile(`(?m)^/dev/pts/[0-9]+$`)

// TestTerminalOwner checks that the terminal belongs to the user the target runs
// as, as runc and crun make it, so that it can open its own terminal by name.
func TestTerminalOwner(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if testutil.Rootless() {
			t.Skip("a rootless sandbox maps only the caller's uid (root inside); the rootful half checks another user")
		}
		script := `t=$(tty); echo "owner=$(stat -c %u "$t")"; echo hi > "$t" && echo reopened`
		out, st := onTerminal(t, []sandbox.Option{sandbox.WithUser(1000, 1000)}, "/bin/sh", "-c", script)
		if !st.Success() || !strings.Contains(out, "owner=1000\n") || !strings.Contains(out, "reopened") {
			t.Fatalf("exit %v:\n%s", st, out)
		}
	})
}

// TestTerminalFailures checks that a terminal the sandbox cannot open fails the
// start with a ChildError naming the step, and that a failed start with a
// terminal, either kind, leaves nothing behind: no child, no descriptor.
func TestTerminalFailures(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name  string
			opts  []sandbox.Option
			args  []string
			stage string
			path  string        // ChildError.Path
			errno syscall.Errno // 0: any
		}{
			// No /dev/pts at all. (Privileged and the whole host root: masks need
			// the /dev/null that this /dev lacks.)
			{"tmpfs on /dev", []sandbox.Option{sandbox.Privileged(), sandbox.WithHostRoot(mounts.HostRoot{}), sandbox.WithTmpfs("/dev", "1m", 0o755)},
				[]string{"/bin/true"}, "terminal", "/dev/pts", syscall.ENOENT},
			// Not a devpts: its "ptmx" is never opened.
			{"tmpfs on /dev/pts", []sandbox.Option{sandbox.WithTmpfs("/dev/pts", "1m", 0o755)},
				[]string{"/bin/true"}, "terminal", "", syscall.ENOTTY},
			// The host's multiplexer bound over the sandbox's: also 5:2, but not
			// the sandbox's instance. The kernel looks for a "pts" beside it
			// (ENOENT here), and the child checks that the master is a devpts
			// file (ENOTTY): either way no terminal of the host's comes out.
			{"host ptmx on /dev/pts/ptmx", []sandbox.Option{sandbox.WithBind("/dev/ptmx", "/dev/pts/ptmx", false)},
				[]string{"/bin/true"}, "terminal", "", 0},
			// A terminal of the sandbox's own, sent before the target failed.
			{"exec after the terminal", nil, []string{"/no/such/program"}, "exec", "", syscall.ENOENT},
			// A terminal of the host's, opened by the caller.
			{"exec with the host's terminal", []sandbox.Option{sandbox.WithoutRootfs()}, []string{"/no/such/program"}, "exec", "", syscall.ENOENT},
		} {
			t.Run(c.name, func(t *testing.T) {
				tpl, err := sandbox.NewBuilder(c.opts...).Build()
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				defer tpl.Close()
				before, kids := testutil.OpenFDs(t), childPIDs()
				p, err := tpl.Start(context.Background(), sandbox.Command{Args: c.args, Terminal: true})
				if err == nil {
					p.Terminal().Close()
					st, _ := p.Wait()
					t.Fatalf("start succeeded (%v); want a failure at %s", st, c.stage)
				}
				var ce *sandbox.ChildError
				if !errors.As(err, &ce) || !errors.Is(err, sandbox.ErrSetup) || c.errno != 0 && !errors.Is(err, c.errno) {
					t.Fatalf("want a *ChildError matching ErrSetup and %v, got %T: %v", c.errno, err, err)
				}
				if ce.Stage != c.stage || ce.Path != c.path || c.stage == "terminal" && !strings.Contains(ce.Error(), "/dev/pts") {
					t.Errorf("failed at stage %q, path %q (%v); want %q, %q", ce.Stage, ce.Path, err, c.stage, c.path)
				}
				if after := testutil.OpenFDs(t); after != before {
					t.Errorf("descriptors: %d before the start, %d after", before, after)
				}
				for pid := range childPIDs() {
					if !kids[pid] {
						t.Errorf("a child was left behind: %s", pid)
					}
				}
			})
		}
	})
}

// childPIDs returns the pids of this process's children, zombies included. (A
// test that ran before may have left zombies that the subreaper adopted, which
// testutil.NoChildren would take for this test's.)
func childPIDs() map[string]bool {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	kids := map[string]bool{}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); len(f) > 1 && f[1] == self {
			kids[strings.Split(p, "/")[2]] = true
		}
	}
	return kids
}
