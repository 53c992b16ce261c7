package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// containerd is a private containerd daemon: its own root, state, sockets and
// configuration below a temporary directory, never the system's.
type containerd struct {
	dir, address string
	daemon       *exec.Cmd
	done         chan error
	log          *bytes.Buffer
}

// containerdConf is the daemon's configuration: every path below the test's
// directory, and without the CRI plugin (no kubelet talks to it; it would
// want CNI).
const containerdConf = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = %[4]q

[debug]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = %[5]q
`

// startContainerd starts a private containerd and waits until it answers;
// the cleanup stops it and checks that it and its shims are gone.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	testutil.Require(t, "containerd", "containerd")
	testutil.Require(t, "ctr", "containerd")
	testutil.Require(t, "containerd-shim-runc-v2", "containerd")
	dir := t.TempDir()
	c := &containerd{dir: dir, address: filepath.Join(dir, "c.sock"), done: make(chan error, 1), log: &bytes.Buffer{}}
	conf := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf(containerdConf, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.address,
		c.address+".ttrpc", filepath.Join(dir, "opt"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c.daemon = exec.Command("containerd", "--config", conf)
	c.daemon.Stdout, c.daemon.Stderr = c.log, c.log
	if err := c.daemon.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.daemon.Wait() }()
	t.Cleanup(func() { c.stop(t) })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, code := c.ctr(t, "version"); code == 0 {
			return c
		}
		select {
		case err := <-c.done:
			c.done <- err
			t.Fatalf("containerd ended: %v\n%s", err, c.log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd does not answer on %s\n%s", c.address, c.log)
		}
	}
}

// ctr runs ctr against the private daemon, in the tests' namespace, and
// returns its output and exit code.
func (c *containerd) ctr(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("ctr", append([]string{"--address", c.address, "--namespace", ctrNamespace}, args...)...)
	out, err := os.CreateTemp(c.dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	return outputAndCode(t, "ctr", out.Name(), err)
}

// must runs ctr with args and fails t unless it exits 0.
func (c *containerd) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := c.ctr(t, args...)
	if code != 0 {
		t.Fatalf("ctr %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// stop stops the daemon, then checks that no shim or container process is
// left and that nothing is mounted below its directory.
func (c *containerd) stop(t *testing.T) {
	c.daemon.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.daemon.Process.Kill()
		<-c.done
		t.Errorf("containerd did not stop on SIGINT\n%s", c.log)
	}
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if left = processesNaming(c.dir); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left: %q", left)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(mounts, []byte(c.dir)) {
		t.Errorf("mounts are left below %s", c.dir)
	}
}

// ctrNamespace is the containerd namespace of the tests; ctr names each
// container's cgroup /<namespace>/<id> in linux.cgroupsPath.
const ctrNamespace = "paddock-test"

// TestContainerd drives paddock-runtime through a private containerd 1.6 and
// its runc v2 shim (ctr run --runc-binary), as root, on an image that the
// test builds as an OCI layout tarball from busybox and imports: run --rm and
// its exit status; run -d, task exec, task kill, task delete; a refused
// flag, whose message ctr prints; each in the cgroup that containerd names.
// After each no task, runtime state, cgroup, mount or process is left.
func TestContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd runs as root here: rootless containerd needs RootlessKit, which is not installed")
	}
	bin := build(t)
	// The shims' sockets, which containerd 1.6 puts below /run/containerd
	// whatever its configuration says.
	removeMade(t, "/run/containerd", "s", "fifo")
	removeCgroupsMade(t, ctrNamespace) // the parent of the containers' cgroups
	c := startContainerd(t)
	const ref = "docker.io/paddock/busybox:test"
	img := filepath.Join(c.dir, "busybox.tar")
	imageTar(t, testutil.BusyboxRoot(t), ref, img)
	c.must(t, "image", "import", img)
	run := func(args ...string) []string {
		a := []string{"run", "--runc-binary", bin, "--runc-root", filepath.Join(c.dir, "runc"), "--fifo-dir", filepath.Join(c.dir, "fifo")}
		return append(a, args...)
	}
	t.Run("run", func(t *testing.T) {
		out, code := c.ctr(t, run("--rm", ref, "r1", "sh", "-c", "echo hello as $(id -u); exit 3")...)
		if code != 3 || out != "hello as 0\n" {
			t.Errorf("ctr run: exit %d: %q", code, out)
		}
		c.empty(t)
	})
	t.Run("task", func(t *testing.T) {
		ctrTask(t, c, run("-d", ref, "t1", "sh", "-c", "echo started; exec sleep 1000"))
	})
	t.Run("terminal", func(t *testing.T) {
		cmd := exec.Command("ctr", append([]string{"--address", c.address, "--namespace", ctrNamespace},
			run("--rm", "--tty", ref, "y1", "sh", "-c", "test -t 0 && test -t 1 && echo IS-A-TTY; exit 4")...)...)
		out, code := onTerminal(t, cmd)
		c.ctr(t, "container", "delete", "y1")
		if code != 4 || !strings.Contains(out, "IS-A-TTY") {
			t.Errorf("ctr run --tty: exit %d: %q", code, out)
		}
		c.empty(t)
	})
	t.Run("refused", func(t *testing.T) {
		out, code := c.ctr(t, run("--rm", "--cgroup", "system.slice:paddock:f1", "--runc-systemd-cgroup", ref, "f1", "true")...)
		if code == 0 || !strings.Contains(out, "--systemd-cgroup is not supported") {
			t.Errorf("ctr run --runc-systemd-cgroup: exit %d: %q", code, out)
		}
		c.ctr(t, "container", "delete", "f1")
		c.empty(t)
	})
	t.Run("cgroup", func(t *testing.T) {
		out := c.must(t, run("--rm", ref, "c1", "cat", "/proc/self/cgroup")...)
		if !strings.Contains(out, "/"+ctrNamespace+"/c1\n") {
			t.Errorf("ctr run in the cgroup it names: %q", out)
		}
		c.empty(t)
	})
}

// ctrTask runs a detached task with the ctr command line run, then exec in
// it, kill it, delete it and its container.
func ctrTask(t *testing.T, c *containerd, run []string) {
	c.must(t, run...)
	if out := c.must(t, "task", "ls"); !regexp.MustCompile(`t1\s+\d+\s+RUNNING`).MatchString(out) {
		t.Errorf("task ls: %q", out)
	}
	t.Run("exec", func(t *testing.T) {
		out, code := c.ctr(t, "task", "exec", "--exec-id", "e1", "t1", "sh", "-c", "echo exec ran; cat /proc/1/cmdline")
		if code != 0 || !strings.Contains(out, "exec ran\nsleep\x001000") {
			t.Errorf("task exec: exit %d: %q", code, out)
		}
	})
	c.must(t, "task", "kill", "--signal", "SIGKILL", "t1")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out := c.must(t, "task", "ls")
		if regexp.MustCompile(`t1\s+\d+\s+STOPPED`).MatchString(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task ls after kill: %q", out)
		}
	}
	c.must(t, "task", "delete", "t1")
	c.must(t, "container", "delete", "t1")
	c.empty(t)
}

// empty fails t if containerd still has a task or container, or the runtime
// a container's state or cgroup.
func (c *containerd) empty(t *testing.T) {
	t.Helper()
	for _, what := range []string{"task", "container"} {
		if out := c.must(t, what, "ls", "--quiet"); strings.TrimSpace(out) != "" {
			t.Errorf("%ss left: %q", what, out)
		}
	}
	ents, _ := os.ReadDir(filepath.Join(c.dir, "runc", ctrNamespace))
	for _, e := range ents {
		t.Errorf("paddock-runtime's state of %s is left", e.Name())
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/*/" + ctrNamespace + "/*/cgroup.procs"); len(left) > 0 {
		t.Errorf("cgroups left: %q", left)
	}
}

// removeCgroupsMade is removeMade for the cgroup name (and the cgroups
// below it) in every hierarchy: the parent cgroups an engine makes for its
// containers and leaves.
func removeCgroupsMade(t *testing.T, name string, below ...string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, r := range append(roots, "/sys/fs/cgroup") {
		if st, err := os.Stat(r); err == nil && st.IsDir() {
			removeMade(t, filepath.Join(r, name), below...)
		}
	}
}

// removeMade removes, when t ends, the directory top and the directories
// below it (innermost first), each only where empty, if top was not there
// when t began: what an engine makes at a fixed host path that no option
// moves. A cgroup stays busy until the engine's last process in it (conmon)
// has exited, which it does on its own time: it tries for five seconds.
func removeMade(t *testing.T, top string, below ...string) {
	if _, err := os.Stat(top); err == nil {
		return
	}
	t.Cleanup(func() {
		for try := 0; try < 50; try++ {
			for _, d := range below {
				os.Remove(filepath.Join(top, d))
			}
			if err := os.Remove(top); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%s: still there after the test", top)
	})
}
