package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// podman runs Podman with paddock-runtime as its OCI runtime and every piece
// of its state in a private directory: storage, run root, temporary directory
// (where the rootless pause process keeps its pid), HOME, XDG_RUNTIME_DIR and
// the containers.conf that names the runtime. The host's storage and
// configuration are never read or written.
type podman struct {
	bin, dir string
	env      []string
}

// nobodySubIDs is the subordinate range the rootless half gives uid 65534,
// so that Podman maps a whole range, as a user's Podman does, and not a single
// uid.
const nobodySubIDs = "nobody:600000:65536"

// containersConf names paddock-runtime as Podman's runtime "paddock". Podman
// passes --log-format=json (and reads the errors from the log file) only to
// the runtimes runtime_supports_json lists, and --cgroups=disabled only to
// those runtime_supports_nocgroup lists. With CONTAINERS_CONF set, Podman
// reads no other configuration, so the default sysctl that Debian's
// containers.conf gives every container is restated. The network
// configuration directory is the test's (root's default is
// /etc/containers/networks).
const containersConf = `[containers]
default_sysctls = ["net.ipv4.ping_group_range=0 0"]

[engine]
runtime = "paddock"
runtime_supports_json = ["paddock"]
runtime_supports_nocgroup = ["paddock"]

[engine.runtimes]
paddock = [%q]

[network]
network_config_dir = %q
`

// newPodman prepares Podman's private tree for the runtime bin; the cleanup
// removes every container, stops the rootless pause process and checks that
// nothing is left.
func newPodman(t *testing.T, bin string) *podman {
	t.Helper()
	testutil.Require(t, "podman", "podman")
	testutil.Require(t, "conmon", "conmon")
	// Short: Podman refuses a run root of more than 50 characters.
	dir, err := os.MkdirTemp("", "pm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	p := &podman{bin: bin, dir: dir}
	for _, d := range []string{"home", "xdg", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, containersConf, bin, filepath.Join(dir, "networks")), 0o644); err != nil {
		t.Fatal(err)
	}
	p.env = append(os.Environ(), "CONTAINERS_CONF="+conf, "HOME="+filepath.Join(dir, "home"),
		"XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg"), "XDG_CONFIG_HOME="+filepath.Join(dir, "home/.config"))
	if os.Geteuid() == 0 {
		// Rootful netavark's run directory, fixed (its lock and IP
		// allocations, shared by every Podman of the host).
		removeMade(t, "/run/containers", "networks")
		// The runtime's default state directory (Podman passes no --root), and
		// the cgroup v1 parent of conmon and the containers that Podman's
		// cgroupfs manager names: both fixed host paths.
		removeMade(t, "/run/paddock-runtime")
		removeCgroupsMade(t, "libpod_parent", "conmon")
	}
	before := runtimeStateDirs(t, p)
	t.Cleanup(func() { p.clean(t, before) })
	return p
}

// args are the global flags: the private tree, cgroupfs (no systemd here)
// and no events journal.
func (p *podman) args() []string {
	return []string{"--root", filepath.Join(p.dir, "storage"), "--runroot", filepath.Join(p.dir, "run"),
		"--tmpdir", filepath.Join(p.dir, "tmp"), "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
}

// runFlags are the flags of every podman run: no network (a bridge would
// change the host's interfaces and firewall), and, as root, limits that root
// can grant here (Podman's defaults ask for more than the host's hard limits
// while root lacks CAP_SYS_RESOURCE).
func runFlags() []string {
	f := []string{"--network", "none"}
	if os.Geteuid() == 0 {
		f = append(f, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
	}
	return f
}

// cmd is the podman command line with args.
func (p *podman) cmd(args ...string) *exec.Cmd {
	c := exec.Command("podman", append(p.args(), args...)...)
	c.Env, c.Dir = p.env, p.dir
	return c
}

// run runs podman with args and returns its output and exit code. The output
// goes to a file: conmon holds what it is given.
func (p *podman) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := os.CreateTemp(p.dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c := p.cmd(args...)
	c.Stdout, c.Stderr = out, out
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- c.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		c.Process.Kill()
		<-done
		t.Fatalf("podman %s: still running after 2 minutes", strings.Join(args, " "))
	}
	return outputAndCode(t, "podman", out.Name(), err)
}

// must runs podman with args and fails t unless it exits 0.
func (p *podman) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := p.run(t, args...)
	if code != 0 {
		t.Fatalf("podman %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// stateDir is paddock-runtime's state directory as Podman calls it (Podman
// passes no --root): /run/paddock-runtime as root, under XDG_RUNTIME_DIR
// rootless.
func (p *podman) stateDir() string {
	if os.Geteuid() == 0 {
		return "/run/paddock-runtime"
	}
	return filepath.Join(p.dir, "xdg", "paddock-runtime")
}

// runtimeStateDirs lists the containers in the runtime's state directory.
func runtimeStateDirs(t *testing.T, p *podman) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir(p.stateDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

// settled waits until no process is left that names the private tree on its
// command line (conmon, Podman's cleanup processes, the containers' processes
// hold the bundle paths) and fails t if one is still there after 20 s.
func (p *podman) settled(t *testing.T) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left = processesNaming(p.dir)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("processes left: %q", left)
	}
}

// processesNaming lists the processes (pid and command line) whose command
// line holds s, but for the rootless pause process.
func processesNaming(s string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		out = append(out, e.Name()+": "+string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
	}
	return out
}

// clean removes what the test's containers left, then checks the host: no
// container left in the runtime's state directory that was not there before,
// no process, no mount below the private tree.
func (p *podman) clean(t *testing.T, before map[string]bool) {
	p.run(t, "rm", "--all", "--force", "--time", "0")
	p.settled(t)
	if os.Geteuid() != 0 {
		// Files that a container's root (uid 600000 on the host) made.
		p.run(t, "unshare", "rm", "-rf", filepath.Join(p.dir, "storage"), filepath.Join(p.dir, "run"))
	}
	if b, err := os.ReadFile(filepath.Join(p.dir, "tmp", "pause.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	for name := range runtimeStateDirs(t, p) {
		if !before[name] {
			t.Errorf("paddock-runtime's state of %s is left in %s", name, p.stateDir())
		}
	}
	if before == nil {
		os.Remove(p.stateDir()) // made by these tests, now empty
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(mounts, []byte(p.dir)) {
		t.Errorf("mounts are left below %s", p.dir)
	}
}
