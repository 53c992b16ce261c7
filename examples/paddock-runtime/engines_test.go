package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// runArgs is podman run with flags, then the root and the command.
func runArgs(flags []string, root string, cmd ...string) []string {
	a := append(append([]string{"run"}, flags...), runFlags()...)
	return append(append(a, "--rootfs", root), cmd...)
}

// TestPodman drives paddock-runtime through Podman 4 (conmon), as root and as
// uid 65534 with a subordinate range of its own, on a busybox --rootfs: run
// --rm and its exit status; run -d, exec, logs, stop and rm; run -it on a
// real terminal; --privileged; a refused configuration, whose message Podman
// prints. After each, Podman's private tree and the runtime's state hold
// nothing of it, and no process or mount is left (newPodman's cleanup and
// testutil.Main check).
func TestPodman(t *testing.T) {
	testutil.ModesWith(t, envBin, func(t *testing.T) string {
		if os.Geteuid() == 0 {
			testutil.GrantSubIDs(t, nobodySubIDs)
		}
		return build(t)
	}, func(t *testing.T, bin string) {
		if os.Geteuid() != 0 {
			testutil.Require(t, "newuidmap", "uidmap")
		}
		p := newPodman(t, bin)
		root := testutil.BusyboxRoot(t)
		t.Run("run", func(t *testing.T) { podmanRun(t, p, root) })
		t.Run("detached", func(t *testing.T) { podmanDetached(t, p, root) })
		t.Run("terminal", func(t *testing.T) { podmanTerminal(t, p, root) })
		t.Run("privileged", func(t *testing.T) { podmanPrivileged(t, p, root) })
		t.Run("read-only", func(t *testing.T) { podmanReadOnly(t, p, root) })
		t.Run("refused", func(t *testing.T) { podmanRefused(t, p, root) })
		t.Run("not-found", func(t *testing.T) { podmanNotFound(t, p, root) })
		t.Run("cgroups", func(t *testing.T) { podmanCgroups(t, p, root) })
		t.Run("uidmap", func(t *testing.T) { podmanUIDMap(t, p) })
	})
}

// podmanRun: run --rm prints what the container prints, as uid 0 of its own
// hostname, with the sysctl Podman sets by default (net.ipv4.ping_group_range
// "0 0", in the container's network namespace), and exits with its status.
func podmanRun(t *testing.T, p *podman, root string) {
	out := p.must(t, runArgs([]string{"--rm", "--hostname", "boxed"}, root, "sh", "-c",
		"echo hello from $(hostname) as $(id -u), pings from $(cat /proc/sys/net/ipv4/ping_group_range)")...)
	if !strings.Contains(out, "hello from boxed as 0, pings from 0 0\n") { // Podman's default sysctl
		t.Errorf("run: %q", out)
	}
	if out, code := p.run(t, runArgs([]string{"--rm"}, root, "sh", "-c", "exit 3")...); code != 3 {
		t.Errorf("run of exit 3: exit %d: %s", code, out)
	}
	p.settled(t)
}

// podmanDetached: run -d, then exec into the container, read its logs, stop
// it (sleep, PID 1, ignores SIGTERM: Podman kills it) and remove it.
func podmanDetached(t *testing.T, p *podman, root string) {
	id := strings.TrimSpace(p.must(t, runArgs([]string{"-d", "--name", "box"}, root, "sh", "-c", "echo started; exec sleep 1000")...))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("run -d printed %q, not an ID", id)
	}
	if _, err := os.Stat(filepath.Join(p.stateDir(), id)); err != nil {
		t.Errorf("the runtime's state of the running container: %v", err)
	}
	t.Run("exec", func(t *testing.T) {
		out, code := p.run(t, "exec", "box", "sh", "-c", "echo exec ran; cat /proc/1/cmdline")
		if code != 0 || !strings.Contains(out, "exec ran\nsleep\x001000") {
			t.Errorf("exec: exit %d: %q", code, out)
		}
	})
	var logs string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs, "started") && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		logs = p.must(t, "logs", "box")
	}
	if logs != "started\n" {
		t.Errorf("logs: %q", logs)
	}
	p.must(t, "stop", "--time", "1", "box")
	if st := strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.Status}}", "box")); st != "exited" {
		t.Errorf("after stop: %s", st)
	}
	p.must(t, "rm", "box")
	p.settled(t)
	if _, err := os.Stat(filepath.Join(p.stateDir(), id)); err == nil {
		t.Errorf("the runtime's state of %s is left after rm", id)
	}
}

// podmanTerminal: run -it and exec -it on a terminal that the test
// allocates: the process's standard streams are a terminal of the
// container's, and what it prints reaches the test's.
func podmanTerminal(t *testing.T, p *podman, root string) {
	cmd := p.cmd(runArgs([]string{"--rm", "-it"}, root, "sh", "-c", "test -t 0 && test -t 1 && echo IS-A-TTY; exit 4")...)
	out, code := onTerminal(t, cmd)
	if code != 4 || !strings.Contains(out, "IS-A-TTY") {
		t.Errorf("run -it: exit %d: %q", code, out)
	}
	p.must(t, runArgs([]string{"-d", "--name", "tty"}, root, "sleep", "1000")...)
	out, code = onTerminal(t, p.cmd("exec", "-it", "tty", "sh", "-c", "test -t 0 && test -t 1 && echo EXEC-IS-A-TTY; exit 5"))
	if code != 5 || !strings.Contains(out, "EXEC-IS-A-TTY") {
		t.Errorf("exec -it: exit %d: %q", code, out)
	}
	p.must(t, "rm", "--force", "--time", "0", "tty")
	p.settled(t)
}

// podmanPrivileged: --privileged gives the container every capability that
// the runtime has (root here lacks CAP_SYS_RESOURCE; rootless, the runtime
// has all of them in Podman's user namespace) and the host's devices.
func podmanPrivileged(t *testing.T, p *podman, root string) {
	want := capLine(t, "/proc/self/status", "CapBnd")
	if os.Geteuid() != 0 {
		// Rootless Podman's user namespace starts with every capability.
		want = allCaps(t)
	}
	script := "grep CapEff /proc/self/status; ls /dev | wc -l"
	out, code := p.run(t, runArgs([]string{"--rm", "--privileged"}, root, "sh", "-c", script)...)
	if code != 0 {
		t.Fatalf("run --privileged: exit %d: %s", code, out)
	}
	priv := strings.Fields(out)
	plain := strings.Fields(p.must(t, runArgs([]string{"--rm"}, root, "sh", "-c", script)...))
	if len(priv) != 3 || len(plain) != 3 {
		t.Fatalf("privileged: %q; unprivileged: %q", priv, plain)
	}
	if priv[1] != want {
		t.Errorf("privileged: CapEff %s, want the caller's bounding set %s", priv[1], want)
	}
	if plain[1] == want {
		t.Errorf("unprivileged: CapEff %s, every capability", plain[1])
	}
	np, _ := strconv.Atoi(priv[2])
	nu, _ := strconv.Atoi(plain[2])
	if np <= nu {
		t.Errorf("privileged: %d entries in /dev, unprivileged %d", np, nu)
	}
	p.settled(t)
}

// podmanReadOnly: --read-only makes the root read-only, with the tmpfs
// mounts Podman adds (/tmp, /var/tmp, /run: tmpcopyup), and a --tmpfs on a
// directory the root lacks is writable, its files not in the root. A --tmpfs
// on a directory that holds files (/etc) starts with the image's files
// (tmpcopyup: the runtime copies them), around the binds Podman makes in it
// (/etc/hostname, /etc/hosts), and takes writes that never reach the root. A
// root of its own, with a file of the image's in /etc.
func podmanReadOnly(t *testing.T, p *podman, _ string) {
	root := testutil.BusyboxRoot(t)
	if err := os.WriteFile(filepath.Join(root, "etc/motd"), []byte("from the image\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code := p.run(t, runArgs([]string{"--rm", "--read-only", "--tmpfs", "/scratch"}, root, "sh", "-c",
		"touch /bin/x || echo ROOT-READ-ONLY; touch /scratch/y /tmp/z && echo TMPFS-WRITABLE; cat /etc/hostname")...)
	if code != 0 || !strings.Contains(out, "ROOT-READ-ONLY\n") || !strings.Contains(out, "TMPFS-WRITABLE\n") {
		t.Errorf("run --read-only --tmpfs /scratch: exit %d: %q", code, out)
	}
	out, code = p.run(t, runArgs([]string{"--rm", "--hostname", "boxed", "--tmpfs", "/etc"}, root, "sh", "-c",
		"cat /etc/motd; echo $(cat /etc/hostname); touch /etc/new && echo ETC-WRITABLE; grep -c ' /etc .* - tmpfs ' /proc/self/mountinfo")...)
	if code != 0 || out != "from the image\nboxed\nETC-WRITABLE\n1\n" {
		t.Errorf("run --tmpfs /etc: exit %d: %q; want the image's /etc/motd, Podman's hostname and a writable tmpfs", code, out)
	}
	for _, f := range []string{"scratch/y", "tmp/z", "etc/new"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			t.Errorf("%s, written to a tmpfs, landed in the root", f)
		}
	}
	p.settled(t)
}

// podmanUIDMap: rootful --uidmap and --gidmap run the container as root of
// a user namespace that is host uid 100000, on a root that belongs to it,
// with the /etc/hosts that Podman keeps below its run root (mode 0700): the
// runtime copies that bind's source before the container enters its
// namespace, where its root could not reach it. With --read-only and a
// --tmpfs on /etc, the tmpfs mounts start with the image's files and owners.
func podmanUIDMap(t *testing.T, p *podman) {
	if os.Geteuid() != 0 {
		t.Skip("--uidmap of another uid range is a root caller's: the rootless half maps its subordinate range already")
	}
	root := testutil.BusyboxRoot(t)
	if out, err := exec.Command("chown", "-R", "100000:100000", root).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v: %s", err, out)
	}
	out := p.must(t, runArgs([]string{"--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"}, root,
		"sh", "-c", "grep -c host.containers.internal /etc/hosts; cat /proc/self/uid_map")...)
	if want := "1\n         0     100000      65536\n"; out != want {
		t.Errorf("run --uidmap: %q, want %q", out, want)
	}
	// A --tmpfs on the image's /etc, filled by the runtime as the container's
	// root (host uid 100000), with the image's owners.
	if err := os.WriteFile(filepath.Join(root, "etc/motd"), []byte("from the image\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(root, "etc/motd"), 101000, 101000); err != nil {
		t.Fatal(err)
	}
	out = p.must(t, runArgs([]string{"--rm", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", "--read-only", "--tmpfs", "/etc"}, root,
		"sh", "-c", "cat /etc/motd; stat -c '%u %a' /etc/motd; touch /etc/new && echo ETC-WRITABLE")...)
	if want := "from the image\n1000 640\nETC-WRITABLE\n"; out != want {
		t.Errorf("run --uidmap --read-only --tmpfs /etc: %q, want %q", out, want)
	}
	p.settled(t)
}

// allCaps is every capability of the running kernel, as a status line shows
// a set.
func allCaps(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%016x", uint64(1)<<(last+1)-1)
}

// capLine returns the value of the capability line name in a status file.
func capLine(t *testing.T, status, name string) string {
	t.Helper()
	b, err := os.ReadFile(status)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s: no %s", status, name)
	return ""
}

// podmanRefused: a configuration the runtime refuses (a personality that no
// kernel has, which Podman passes on as it is given) fails podman run with the runtime's message, naming the field,
// whether Podman reads it from the JSON log or from standard error, and
// nothing of the container is left in the runtime's state.
func podmanRefused(t *testing.T, p *podman, root string) {
	before := runtimeStateDirs(t, p)
	out, code := p.run(t, runArgs([]string{"--rm", "--personality", "LINUX64"}, root, "true")...)
	if code == 0 || !strings.Contains(out, "linux.personality.domain: ") || !strings.Contains(out, "LINUX64") {
		t.Errorf("run --personality LINUX64: exit %d: %q", code, out)
	}
	// Named by its path, the runtime is one whose name Podman does not
	// know: no --log-format=json, no --log; Podman prints its standard
	// error. (As root, Podman's default cgroup comes first, and may be the
	// field refused.)
	args := append([]string{"--runtime", p.bin, "run", "--rm", "--personality", "LINUX64"}, runFlags()...)
	out, code = p.run(t, append(args, "--rootfs", root, "true")...)
	if code == 0 || !strings.Contains(out, "paddock-runtime: create: oci config: linux.") {
		t.Errorf("podman --runtime PATH run --personality LINUX64: exit %d: %q", code, out)
	}
	p.settled(t)
	if after := runtimeStateDirs(t, p); len(after) != len(before) {
		t.Errorf("the runtime's state after a refused create: %v, before %v", after, before)
	}
}

// podmanNotFound: a command that the container does not have fails run and
// exec with the runtime's message, naming it, and exit status 127: the
// runtime finds it missing at create, as runc does, and Podman reads "no such
// file or directory" in create's message as a command not found.
func podmanNotFound(t *testing.T, p *podman, root string) {
	const msg = `exec: "/nonexistent": no such file or directory`
	if out, code := p.run(t, runArgs([]string{"--rm"}, root, "/nonexistent")...); code != 127 || !strings.Contains(out, msg) {
		t.Errorf("run of a command not there: exit %d: %q", code, out)
	}
	p.must(t, runArgs([]string{"-d", "--name", "nf"}, root, "sleep", "1000")...)
	out, code := p.run(t, "exec", "nf", "/nonexistent")
	if code != 127 || !strings.Contains(out, "/nonexistent: no such file or directory") {
		t.Errorf("exec of a command not there: exit %d: %q", code, out)
	}
	p.must(t, "rm", "--force", "--time", "0", "nf")
	p.settled(t)
}

// podmanCgroups: rootful Podman's default, a cgroup that linux.cgroupsPath
// names below libpod_parent, made by the runtime, joined by exec and removed
// with the container; and --cgroups=disabled, no cgroup of the container's
// own.
func podmanCgroups(t *testing.T, p *podman, root string) {
	if os.Geteuid() != 0 {
		t.Skip("rootless Podman on this host's cgroup v1 names no cgroup: the run subtest is that case")
	}
	const glob = "/sys/fs/cgroup/*/libpod_parent/libpod-*"
	before, _ := filepath.Glob(glob)
	out := p.must(t, runArgs([]string{"-d", "--name", "cg"}, root, "sleep", "1000")...)
	id := strings.TrimSpace(out)
	if out := p.must(t, "exec", "cg", "cat", "/proc/self/cgroup"); !strings.Contains(out, "/libpod_parent/libpod-"+id+"\n") {
		t.Errorf("exec's cgroups: %q", out)
	}
	p.must(t, "rm", "--force", "--time", "0", "cg")
	out = p.must(t, runArgs([]string{"--rm", "--cgroups=disabled"}, root, "cat", "/proc/self/cgroup")...)
	if strings.Contains(out, "libpod-") {
		t.Errorf("--cgroups=disabled: %q", out)
	}
	p.settled(t)
	if after, _ := filepath.Glob(glob); len(after) > len(before) {
		t.Errorf("cgroups left: %q", after)
	}
}

// onTerminal runs cmd with a new terminal as its controlling terminal and
// standard streams, and returns what it wrote there and its exit code.
func onTerminal(t *testing.T, cmd *exec.Cmd) (string, int) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no terminal: /dev/ptmx: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		read <- b.String()
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		err = <-done
		t.Errorf("%s on a terminal: still running after 2 minutes", cmd.Args)
	}
	var out string
	select {
	case out = <-read:
	case <-time.After(5 * time.Second):
		master.Close() // a process still holds the terminal
		out = <-read
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(out, "\r\n", "\n"), code
}

// TestPodmanWithoutSubIDs: a rootless Podman whose user has no subordinate
// IDs maps that user alone, as root of a user namespace that denies
// setgroups, and runs the runtime there: its container stays in that
// namespace, as its uid 0, keeping the groups it cannot drop. As uid 65534.
func TestPodmanWithoutSubIDs(t *testing.T) {
	testutil.ModesWith(t, envBin, build, func(t *testing.T, bin string) {
		if os.Geteuid() == 0 {
			t.Skip("a rootless Podman's case: the uid 65534 half runs it")
		}
		for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
			if b, err := os.ReadFile(f); err == nil && regexp.MustCompile(`(?m)^(nobody|65534):`).Match(b) {
				t.Skipf("%s gives uid 65534 a range: Podman would map it", f)
			}
		}
		p := newPodman(t, bin)
		root := testutil.BusyboxRoot(t)
		out := p.must(t, runArgs([]string{"--rm"}, root, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/setgroups")...)
		if want := "0\n         0      65534          1\ndeny\n"; !strings.HasSuffix(out, want) {
			t.Errorf("run: %q, want it to end in %q", out, want)
		}
		p.settled(t)
	})
}
