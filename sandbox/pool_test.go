package sandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// pooled builds a Template from opts with a pool of n and waits until it is
// full.
func pooled(t *testing.T, ctx context.Context, n int, opts ...sandbox.Option) *sandbox.Template {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	if err := tpl.Pool(ctx, n); err != nil {
		t.Fatalf("Pool: %v", err)
	}
	waitWarm(t, tpl, n)
	return tpl
}

// waitWarm waits until n sandboxes wait in tpl's pool.
func waitWarm(t *testing.T, tpl *sandbox.Template, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for tpl.Warm() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d warm sandboxes after 10s, want %d", tpl.Warm(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// servedWarm calls attempt, which starts a sandbox of tpl, checks it and
// returns its pid, until a warm sandbox served it, at most three times: a
// change of the host's mounts by a test running beside this one (rootless,
// the plan of the root reads them) rightly sends a start the unpooled way.
func servedWarm(t *testing.T, tpl *sandbox.Template, attempt func() int) {
	t.Helper()
	for i := 0; i < 3; i++ {
		waitWarm(t, tpl, 1)
		warm := childPids(t)
		if warm[attempt()] {
			return
		}
	}
	t.Errorf("no start of three was served by a warm sandbox")
}

// TestPoolCommand checks that a pooled start runs its own argv, environment,
// working directory, standard streams and extra files.
func TestPoolCommand(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1, sandbox.WithWorkdir("/usr"))
		servedWarm(t, tpl, func() int { return checkCommand(t, tpl) })
		waitWarm(t, tpl, 1) // refilled
	})
}

// checkCommand starts a command of its own in tpl and checks what it did.
func checkCommand(t *testing.T, tpl *sandbox.Template) int {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out, errOut bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args:       []string{"sh", "-c", `read line; echo "$line $GREETING $(pwd) $#" "$0"; echo oops >&2; echo extra >&3`, "zero"},
		Env:        []string{"GREETING=hi", "PATH=/usr/bin:/bin"},
		Stdin:      strings.NewReader("in\n"),
		Stdout:     &out,
		Stderr:     &errOut,
		ExtraFiles: []*os.File{w},
	})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("Run: %v %v\n%s%s", st, err, out.String(), errOut.String())
	}
	if got := strings.TrimSpace(out.String()); got != "in hi /usr 0 zero" {
		t.Errorf("stdout %q", got)
	}
	if got := strings.TrimSpace(errOut.String()); got != "oops" {
		t.Errorf("stderr %q", got)
	}
	var b [16]byte
	n, _ := r.Read(b[:])
	if got := string(b[:n]); got != "extra\n" {
		t.Errorf("descriptor 3 got %q", got)
	}
	return p.Pid()
}

// childPids returns the pids of this process's children.
func childPids(t testing.TB) map[int]bool {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	pids := map[int]bool{}
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			pids[n] = true
		}
	}
	return pids
}

// probeOut runs script in a pooled start of tpl and returns its output.
func probeOut(t *testing.T, tpl *sandbox.Template, script string) string {
	t.Helper()
	var out bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"sh", "-c", script}, Stdout: &out, Stderr: &out})
	if err != nil || !st.Success() {
		t.Fatalf("Run %q: %v %v\n%s", script, st, err, out.String())
	}
	return strings.TrimSpace(out.String())
}

// TestPoolIsolation checks that two pooled starts share nothing: a file
// written in the root or /tmp by one is absent in the next, and each has its
// own pid namespace, hostname and cgroup.
func TestPoolIsolation(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		// CAP_SYS_ADMIN in the sandbox's user namespace lets a start change its
		// hostname.
		tpl := pooled(t, context.Background(), 1, sandbox.WithCapAdd("CAP_SYS_ADMIN"))
		script := `ls /etc/mark /tmp/mark 2>/dev/null; echo mark > /etc/mark; echo mark > /tmp/mark; ` +
			`echo "$(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/uts) $(hostname) $(cat /proc/self/cgroup | md5sum)"; hostname changed && hostname`
		var a, b string
		servedWarm(t, tpl, func() int { return pooledOut(t, tpl, script, &a) })
		servedWarm(t, tpl, func() int { return pooledOut(t, tpl, script, &b) })
		for _, out := range []string{a, b} {
			if strings.Contains(out, "/etc/mark") || strings.Contains(out, "/tmp/mark") {
				t.Errorf("a file of the other start is there: %q", out)
			}
		}
		fa, fb := strings.Fields(a), strings.Fields(b)
		if len(fa) < 3 || len(fb) < 3 || fa[0] == fb[0] || fa[1] == fb[1] {
			t.Fatalf("the starts share their pid or uts namespace: %q, %q", a, b)
		}
		if fa[len(fa)-1] != "changed" {
			t.Errorf("the first start could not change its hostname: %q", a)
		}
		if fb[2] == "changed" {
			t.Errorf("the second start has the hostname the first one set")
		}
		var ha, ca, hb, cb string
		servedWarm(t, tpl, func() int { return outside(t, tpl, &ha, &ca) })
		servedWarm(t, tpl, func() int { return outside(t, tpl, &hb, &cb) })
		if ha == hb {
			t.Errorf("two starts have the same hostname %q", ha)
		}
		own, _ := os.ReadFile("/proc/self/cgroup")
		if ca != string(own) && ca == cb {
			t.Errorf("two starts share their cgroup:\n%s", ca)
		}
	})
}

// outside starts a sandbox of tpl, stores its hostname and its cgroups as the
// host sees them, and returns its pid.
func outside(t *testing.T, tpl *sandbox.Template, hostname, cgroup *string) int {
	t.Helper()
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "10"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wait()
	defer p.Kill()
	cg, err := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	*hostname, *cgroup = p.Hostname(), string(cg)
	return p.Pid()
}

// pooledOut runs script in a sandbox of tpl, stores its output in out and
// returns its pid.
func pooledOut(t *testing.T, tpl *sandbox.Template, script string, out *string) int {
	t.Helper()
	var b bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sh", "-c", script}, Stdout: &b, Stderr: &b})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		t.Fatalf("%q: %v %v\n%s", script, st, err, b.String())
	}
	*out = strings.TrimSpace(b.String())
	return p.Pid()
}

// TestPoolCloseWithWarm closes a Template whose warm sandboxes wait, and a
// pool whose context ends: the warm children are gone at once; Main checks
// that nothing (processes, mounts, cgroups, staging directories) is left.
func TestPoolCloseWithWarm(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 3)
		before := childPids(t)
		tpl.Close()
		if n := tpl.Warm(); n != 0 {
			t.Errorf("%d warm after Close", n)
		}
		for pid := range before {
			if _, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
				if b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(b), ") Z ") {
					t.Errorf("pid %d still runs after Close", pid)
				}
			}
		}
		if _, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"true"}}); !errors.Is(err, sandbox.ErrClosed) {
			t.Errorf("Start after Close: %v", err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		tpl = pooled(t, ctx, 2)
		cancel()
		deadline := time.Now().Add(5 * time.Second)
		for tpl.Warm() != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := tpl.Warm(); n != 0 {
			t.Errorf("%d warm after the pool's context ended", n)
		}
		// The Template itself still starts, without the pool.
		if out := probeOut(t, tpl, "echo ok"); out != "ok" {
			t.Errorf("got %q", out)
		}
		tpl.Close()
	})
}

// TestPoolBeyond starts more sandboxes at once than the pool holds: the
// others start without it, and every one works.
func TestPoolBeyond(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1)
		var ps []*sandbox.Process
		for i := 0; i < 3; i++ {
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "10"}})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			p.Kill()
			if st, _ := p.Wait(); st.Signal != syscall.SIGKILL {
				t.Errorf("pid %d: %v", p.Pid(), st)
			}
		}
		if out := probeOut(t, tpl, "echo ok"); out != "ok" {
			t.Errorf("got %q", out)
		}
		// A command too long for a warm sandbox's buffer starts without it.
		waitWarm(t, tpl, 1)
		warm := childPids(t)
		var out bytes.Buffer
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sh", "-c", "echo ${#1}", "sh", strings.Repeat("x", 40<<10)}, Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		if warm[p.Pid()] {
			t.Errorf("a command of 40 KiB was handed to a warm sandbox")
		}
		if st, err := p.Wait(); err != nil || !st.Success() || strings.TrimSpace(out.String()) != "40960" {
			t.Errorf("%v %v %q", st, err, out.String())
		}
	})
}

// TestPoolStepAfterPoint checks that a step after the pool point that fails (a
// missing working directory) fails the pooled start with that step's
// ChildError, and that a program that is not there fails as exec.
func TestPoolStepAfterPoint(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1, sandbox.WithWorkdir("/nonexistent"))
		_, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"true"}})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Stage != "workdir" || ce.Errno != syscall.ENOENT {
			t.Fatalf("got %v, want the workdir step's ENOENT", err)
		}
		waitWarm(t, tpl, 1)
		tpl2 := pooled(t, context.Background(), 1)
		_, err = tpl2.Start(context.Background(), sandbox.Command{Args: []string{"/no/such/program"}})
		if !errors.As(err, &ce) || ce.Stage != "exec" {
			t.Fatalf("got %v, want an exec error", err)
		}
	})
}

// TestPoolRefused checks that a Template whose starts need the parent after
// the pool point refuses a pool.
func TestPoolRefused(t *testing.T) {
	tpl, err := sandbox.NewBuilder(sandbox.WithInit()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	if err := tpl.Pool(context.Background(), 1); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Errorf("Pool with an init: %v", err)
	}
	held, err := sandbox.NewBuilder(sandbox.WithHold()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := held.Pool(context.Background(), 1); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Errorf("Pool with a hold: %v", err)
	}
	plain, err := sandbox.NewBuilder(sandbox.WithoutRootfs(), sandbox.WithoutCgroup()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.Pool(context.Background(), 0); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Errorf("Pool of 0: %v", err)
	}
	if err := plain.Pool(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if err := plain.Pool(context.Background(), 1); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Errorf("a second Pool: %v", err)
	}
}

// TestPoolVfork checks that a vfork Template pools fork-mode children, and
// that their starts work.
func TestPoolVfork(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1, sandbox.WithSpawnMode(sandbox.SpawnVfork))
		servedWarm(t, tpl, func() int {
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"true"}})
			if err != nil {
				t.Fatal(err)
			}
			if st, err := p.Wait(); err != nil || !st.Success() {
				t.Fatalf("%v %v", st, err)
			}
			return p.Pid()
		})
	})
}

// envPoolParent makes the test binary a parent with a full pool that prints
// its warm children's pids and waits to be killed.
const envPoolParent = "PADDOCK_TEST_POOL_PARENT"

func init() {
	if os.Getenv(envPoolParent) != "1" {
		return
	}
	// No root filesystem and no cgroup: the parent is killed, so it never
	// removes a staging directory or a cgroup.
	tpl, err := sandbox.NewBuilder(sandbox.WithoutRootfs(), sandbox.WithoutCgroup()).Build()
	if err == nil {
		err = tpl.Pool(context.Background(), 2)
	}
	for err == nil && tpl.Warm() != 2 {
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	var pids []string
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		pids = append(pids, strings.Fields(string(b))...)
	}
	os.Stdout.WriteString(strings.Join(pids, " ") + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestPoolParentDeath kills a process whose pool holds warm children: they
// exit (the end of their socket, and the parent-death signal).
func TestPoolParentDeath(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envPoolParent+"=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		cmd.Process.Kill()
		cmd.Wait()
		pids := strings.Fields(line)
		if len(pids) != 2 {
			t.Fatalf("the parent said %q", line)
		}
		for _, s := range pids {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("the parent said %q", line)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				data, err := os.ReadFile("/proc/" + s + "/stat")
				if err != nil || strings.Contains(string(data), ") Z ") {
					var ws syscall.WaitStatus
					syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
					break
				}
				if time.Now().After(deadline) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Fatalf("the warm child %d outlived its parent: %s", pid, data)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
}

// TestPoolFollowsHostMounts checks that a pooled start sees the host's mounts
// as an unpooled one would (splitRootFollows): rootless on the host's "/", the
// root is one overlay per top-level directory, planned against the mount
// table, and a mount below /opt makes /opt a mount of its own, empty here. A
// sandbox warm before that mount has the old /opt, and does not serve.
func TestPoolFollowsHostMounts(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		if _, err := os.Stat("/opt"); err != nil {
			t.Skipf("no /opt on this host to mount on: %v", err)
		}
		var opts []sandbox.Option
		if !testutil.Rootless() {
			opts = []sandbox.Option{sandbox.Rootless()}
		}
		m.Mount(t, "/opt")
		defer m.Unmount(t, "/opt")
		if err := os.WriteFile("/opt/paddock-marker", []byte("here\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir("/opt/sub", 0o755); err != nil {
			t.Fatal(err)
		}
		tpl := pooled(t, context.Background(), 1, opts...)
		if got := probeOut(t, tpl, "ls -A /opt | tr '\\n' ' '"); got != "paddock-marker sub" {
			t.Fatalf("with /opt a layer: %q", got)
		}
		waitWarm(t, tpl, 1)
		warm := childPids(t)
		m.Mount(t, "/opt/sub")
		defer m.Unmount(t, "/opt/sub")
		var out bytes.Buffer
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", "ls -A /opt"}, Stdout: &out, Stderr: &out})
		if err != nil {
			t.Fatal(err)
		}
		if warm[p.Pid()] {
			t.Errorf("the sandbox warm before the mount served")
		}
		if st, err := p.Wait(); err != nil || !st.Success() || out.String() != "" {
			t.Errorf("with a mount below /opt: %v %v %q", st, err, out.String())
		}
	})
}

// TestPoolServesAfterOtherMounts checks that a change of the host's mounts
// that the plan does not read leaves the warm sandboxes serving: a mount
// below /tmp, for a rootful root. (Rootless, the plan of the host's "/" reads
// it, and the start is only checked to work.)
func TestPoolServesAfterOtherMounts(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		tpl := pooled(t, context.Background(), 1)
		dir := t.TempDir()
		warm := childPids(t)
		m.Mount(t, dir)
		defer m.Unmount(t, dir)
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"true"}})
		if err != nil {
			t.Fatal(err)
		}
		if !testutil.Rootless() && !warm[p.Pid()] {
			t.Errorf("pid %d was not a warm child", p.Pid())
		}
		if st, err := p.Wait(); err != nil || !st.Success() {
			t.Errorf("%v %v", st, err)
		}
	})
}

// TestPoolNoDescriptorLeak checks that a pooled target gets its own
// descriptors and nothing else: not one the parent left without
// close-on-exec, not the warm sandbox's socket or pipes.
func TestPoolNoDescriptorLeak(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		syscall.Syscall(syscall.SYS_FCNTL, r.Fd(), syscall.F_SETFD, 0)
		tpl := pooled(t, context.Background(), 1)
		extra, err := os.Open("/dev/zero")
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
		servedWarm(t, tpl, func() int { return checkDescriptors(t, tpl, extra) })
	})
}

// checkDescriptors starts a listing of the descriptors in tpl, with extra
// as descriptor 4, and checks it.
func checkDescriptors(t *testing.T, tpl *sandbox.Template, extra *os.File) int {
	t.Helper()
	var out bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args:       []string{"/bin/sh", "-c", "exec ls -l /proc/self/fd"},
		Stdout:     &out,
		ExtraFiles: []*os.File{nil, extra},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	// 0, 1, 2, the directory ls reads as 3 (closed for the target) and the
	// extra file as 4.
	var got []string
	for _, line := range strings.Split(out.String(), "\n") {
		if i := strings.Index(line, " -> "); i > 0 {
			f := strings.Fields(line[:i])
			got = append(got, f[len(f)-1]+" "+line[i+4:])
		}
	}
	if len(got) != 5 || !strings.HasPrefix(got[3], "3 /proc/") || got[4] != "4 /dev/zero" {
		t.Fatalf("descriptors inside: %q", got)
	}
	return p.Pid()
}

// TestPoolConcurrent starts from several goroutines at once on a small
// pool: pooled and unpooled starts mix, and each runs its own command.
func TestPoolConcurrent(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 2)
		errs := make(chan error, 6)
		for g := 0; g < 6; g++ {
			go func() {
				for i := 0; i < 3; i++ {
					want := strconv.Itoa(g*10 + i)
					var out bytes.Buffer
					st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"echo", want}, Stdout: &out})
					if err == nil && (!st.Success() || strings.TrimSpace(out.String()) != want) {
						err = errors.New("got " + out.String() + ", want " + want)
					}
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for g := 0; g < 6; g++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	})
}

// TestPoolStartContext checks that the end of a pooled start's own context
// kills the sandbox, as it does an unpooled one's.
func TestPoolStartContext(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 1)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		st, err := tpl.Run(ctx, sandbox.Command{Args: []string{"sleep", "10"}})
		if !errors.Is(err, context.DeadlineExceeded) || st == nil || st.Signal != syscall.SIGKILL {
			t.Fatalf("got %v, %v", st, err)
		}
	})
}

// TestPoolWarmKilled kills a warm sandbox while it waits: the next start,
// which finds it gone, starts without it and works.
func TestPoolWarmKilled(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		before := childPids(t)
		tpl := pooled(t, context.Background(), 1)
		var warm int
		for pid := range childPids(t) {
			if !before[pid] {
				warm = pid
			}
		}
		if warm == 0 {
			t.Fatal("no warm child found")
		}
		if err := syscall.Kill(warm, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		var out bytes.Buffer
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"echo", "ok"}, Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		if p.Pid() == warm {
			t.Errorf("the killed warm child served")
		}
		if st, err := p.Wait(); err != nil || !st.Success() || out.String() != "ok\n" {
			t.Errorf("%v %v %q", st, err, out.String())
		}
	})
}

// TestPoolSeccompNotify checks that a pooled start hands its seccomp listener
// over as an unpooled one does (TestSeccompNotify).
func TestPoolSeccompNotify(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		prof := seccomp.Default(caps.DockerDefault.Names())
		prof.Syscalls = append([]seccomp.Rule{{Names: []string{"mkdir", "mkdirat"}, Action: seccomp.ActNotify}}, prof.Syscalls...)
		tpl := pooled(t, context.Background(), 1, sandbox.WithSeccompProfile(prof))
		servedWarm(t, tpl, func() int { return superviseMkdirIn(t, tpl) })
	})
}

// TestPoolCopyUp checks that a Template with a tmpfs filled from its root
// pools: the warm-up serves the copy's stop before pivot_root, and each pooled
// start gets a tmpfs of its own with the root's files, which a write of the
// first does not change for the next.
func TestPoolCopyUp(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		must(t, os.MkdirAll(filepath.Join(dir, "data/sub"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "data/sub/file"), []byte("from the root\n"), 0o644))
		tpl := pooled(t, context.Background(), 1, sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755))
		script := "cat /data/sub/file; ls /data; touch /data/new"
		var a, b string
		servedWarm(t, tpl, func() int { return pooledOut(t, tpl, script, &a) })
		servedWarm(t, tpl, func() int { return pooledOut(t, tpl, script, &b) })
		if want := "from the root\nsub"; a != want || b != want {
			t.Errorf("pooled starts saw %q and %q, want %q each", a, b, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "data/new")); err == nil {
			t.Error("a write to the tmpfs reached the root")
		}
	})
}
