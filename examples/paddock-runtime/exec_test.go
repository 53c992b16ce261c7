package main

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// execSeccomp is a filter for the exec tests' configurations: everything is
// allowed but mkdir, which fails with EPERM.
var execSeccomp = map[string]any{
	"defaultAction": "SCMP_ACT_ALLOW",
	"architectures": []string{"SCMP_ARCH_X86_64"},
	"syscalls":      []any{map[string]any{"names": []string{"mkdir", "mkdirat"}, "action": "SCMP_ACT_ERRNO"}},
}

// withSeccomp adds execSeccomp to a configuration.
func withSeccomp(cfg map[string]any) { cfg["linux"].(map[string]any)["seccomp"] = execSeccomp }

// pidOf returns the pid that state reports for id.
func (r *rt) pidOf(t *testing.T, id string) int {
	t.Helper()
	var st struct{ Pid int }
	if err := json.Unmarshal([]byte(r.must(t, "state", id)), &st); err != nil || st.Pid <= 0 {
		t.Fatalf("state %s: pid %d, %v", id, st.Pid, err)
	}
	return st.Pid
}

// cgroupDirs returns the cgroup directories that the state of id records.
func (r *rt) cgroupDirs(t *testing.T, id string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.root, id, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var c container
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 && len(c.Sandbox.Cgroup) == 0 {
		t.Errorf("container %s has no cgroup of its own: %s", id, b)
	}
	return c.Sandbox.Cgroup
}

// statusLine returns the line of /proc/PID/status (pid 0: the text given) that
// starts with key.
func statusLine(text, key string) string {
	m := regexp.MustCompile(`(?m)^` + key + `:\s*(.*)$`).FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestExec runs processes in a running sleep container, as root and as uid
// 65534: their namespaces are the container's process's, one by one, as the
// host reads them; their cgroup is its cgroup; their capabilities, seccomp
// filter and no_new_privs are the configured ones; the exit status comes back;
// --user, --env and --cwd apply. After delete nothing is left (testutil.Main
// checks the host's cgroups).
func TestExec(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), withSeccomp)
		r.must(t, "run", "--detach", "--bundle", b, "box")
		defer r.run(t, "delete", "--force", "box")
		pid := r.pidOf(t, "box")
		script := "id -u; cat /proc/self/cgroup; echo ===; cat /proc/1/cgroup; echo ===; cat /proc/self/status; echo ===; " +
			"for k in user mnt pid net ipc uts cgroup; do echo $k $(readlink /proc/self/ns/$k); done; " +
			"cat /proc/1/comm; mkdir /tmp/x 2>&1; exit 5"
		out, code := r.run(t, "exec", "box", "sh", "-c", script)
		if code != 5 {
			t.Fatalf("exec: exit %d, want 5:\n%s", code, out)
		}
		parts := strings.Split(out, "===\n")
		if len(parts) != 4 {
			t.Fatalf("exec's output:\n%s", out)
		}
		if self, init := strings.SplitN(parts[0], "\n", 2)[1], parts[1]; self != init {
			t.Errorf("the exec'd process's cgroup is not the container's:\n%s\nvs\n%s", self, init)
		}
		host, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"CapEff", "CapPrm", "CapBnd", "Seccomp", "Seccomp_filters", "NoNewPrivs"} {
			if got, want := statusLine(parts[2], key), statusLine(string(host), key); got != want || want == "" {
				t.Errorf("%s of the exec'd process %q, the container's %q", key, got, want)
			}
		}
		if statusLine(parts[2], "Seccomp") != "2" {
			t.Errorf("the exec'd process has no seccomp filter:\n%s", parts[2])
		}
		for _, k := range []namespace.Kind{namespace.User, namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup} {
			want, err := os.Readlink(k.Path(pid))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(parts[3], string(k)+" "+want+"\n") {
				t.Errorf("namespace %s: the container's is %s, the exec'd process's:\n%s", k, want, parts[3])
			}
		}
		if !strings.Contains(parts[3], "sleep\n") {
			t.Errorf("/proc/1 of the exec'd process is not the container's sleep:\n%s", parts[3])
		}
		if !strings.Contains(parts[3], "Operation not permitted") {
			t.Errorf("mkdir was not refused by the configured filter:\n%s", parts[3])
		}
		user := "1000:1000" // a rootless container maps only its root
		if os.Geteuid() != 0 {
			user = "0:0"
		}
		out = r.must(t, "exec", "--env", "X=from-exec", "--cwd", "/tmp", "--user", user, "box", "sh", "-c", "echo $X $(pwd) $(id -u):$(id -g)")
		if out != "from-exec /tmp "+user+"\n" {
			t.Errorf("exec with --env, --cwd, --user: %q", out)
		}
		dirs := r.cgroupDirs(t, "box")
		r.must(t, "kill", "box", "KILL")
		r.waitStatus(t, "box", "stopped")
		if o, code := r.run(t, "exec", "box", "true"); code != 1 || !strings.Contains(o, "not running") {
			t.Errorf("exec in a stopped container: exit %d: %s", code, o)
		}
		r.must(t, "delete", "box")
		r.gone(t, "box")
		for _, d := range dirs {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("delete left the container's cgroup %s", d)
			}
		}
	})
}

// TestExecDetach: exec --detach returns once the process runs and writes its
// pid file, which names the process in the container's pid namespace; the
// process lives on in the container, in its cgroup as the host
// reads it: the configuration's cgroupsPath (root) or the container's ID below
// the runtime's cgroup (uid 65534, where cgroup v1 gives it none), which delete
// removes.
func TestExecDetach(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		cgPath := "/paddock-rt-" + testutil.RunID() + "-box"
		b := r.bundle(t, []string{"sleep", "100"}, out, func(cfg map[string]any) {
			if os.Geteuid() == 0 {
				cfg["linux"].(map[string]any)["cgroupsPath"] = cgPath
			}
		})
		r.must(t, "run", "--detach", "--bundle", b, "box")
		defer r.run(t, "delete", "--force", "box")
		initCg, err := os.ReadFile("/proc/" + strconv.Itoa(r.pidOf(t, "box")) + "/cgroup")
		if err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 && !strings.Contains(string(initCg), ":memory:"+cgPath+"\n") {
			t.Errorf("the container is not in its cgroupsPath %s:\n%s", cgPath, initCg)
		}
		pidFile := filepath.Join(t.TempDir(), "pid")
		r.must(t, "exec", "--detach", "--pid-file", pidFile, "box", "sh", "-c", "sleep 0.3; echo done > /out/done; sleep 100")
		b2, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(string(b2))
		if err != nil || unix.Kill(pid, 0) != nil {
			t.Fatalf("pid file %q: not a live process (%v)", b2, err)
		}
		// The pid file names the process itself, in the container's pid
		// namespace, as runc's does: no init stands outside it.
		if got, want := readNS(t, namespace.PID, pid), readNS(t, namespace.PID, r.pidOf(t, "box")); got != want {
			t.Errorf("the pid file's process %d is in the pid namespace %s, not the container's %s", pid, got, want)
		}
		if execCg, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup"); err != nil || string(execCg) != string(initCg) {
			t.Errorf("the exec'd process's cgroups:\n%s\nthe container's:\n%s", execCg, initCg)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if d, _ := os.ReadFile(filepath.Join(out, "done")); string(d) == "done\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the detached process did not run")
			}
		}
		r.must(t, "delete", "--force", "box")
		r.gone(t, "box")
		if left := testutil.CgroupsWithRunID(); len(left) > 0 {
			t.Errorf("delete left %v", left)
		}
	})
}

// TestCgroupsPathSystemd: the systemd form of cgroupsPath is refused by its
// field, without --systemd-cgroup.
func TestCgroupsPathSystemd(t *testing.T) {
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	b := r.bundle(t, []string{"true"}, t.TempDir(), func(cfg map[string]any) {
		cfg["linux"].(map[string]any)["cgroupsPath"] = "machine.slice:paddock:box"
	})
	if o, code := r.run(t, "create", "--bundle", b, "box"); code != 1 || !strings.Contains(o, "linux.cgroupsPath") {
		t.Errorf("create with a systemd cgroupsPath: exit %d: %s", code, o)
	}
	r.gone(t, "box")
}

// TestPreserveFDs: --preserve-fds N passes descriptors 3 to 3+N-1 of the runtime
// on, to an exec'd process and to a container's.
func TestPreserveFDs(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sh", "-c", "echo from-run >&4"}, t.TempDir(), nil)
		if got := r.withFDs(t, "run", "--preserve-fds", "2", "--bundle", b, "box"); got != "from-run\n" {
			t.Errorf("run --preserve-fds 2: descriptor 4 got %q", got)
		}
		r.gone(t, "box")
		b = r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "--detach", "--bundle", b, "box")
		defer r.run(t, "delete", "--force", "box")
		if got := r.withFDs(t, "exec", "--preserve-fds", "2", "box", "sh", "-c", "echo from-exec >&4"); got != "from-exec\n" {
			t.Errorf("exec --preserve-fds 2: descriptor 4 got %q", got)
		}
		r.must(t, "delete", "--force", "box")
	})
}

// withFDs runs the runtime with args and two pipes as its descriptors 3 and 4,
// and returns what came through the second.
func (r *rt) withFDs(t *testing.T, args ...string) string {
	t.Helper()
	var ends []*os.File
	for range 2 {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		ends = append(ends, pr, pw)
	}
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.ExtraFiles = []*os.File{ends[1], ends[3]}
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	ends[1].Close()
	ends[3].Close()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if err != nil {
		o, _ := os.ReadFile(out.Name())
		t.Fatalf("%q: %v\n%s", args, err, o)
	}
	got := make([]byte, 100)
	n, _ := ends[2].Read(got)
	return string(got[:n])
}

// TestExecTTY: exec --tty gives the process a terminal and sends its master
// over --console-socket, as runc does; what the process writes comes out of
// the master, and it sees a terminal of the container's own /dev/pts as its
// standard input.
func TestExecTTY(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "--detach", "--bundle", b, "box")
		defer r.run(t, "delete", "--force", "box")
		sock := filepath.Join(t.TempDir(), "console.sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan string, 1)
		go func() { got <- readConsole(ln) }()
		out := r.must(t, "exec", "--tty", "--console-socket", sock, "box", "sh", "-c",
			`test -t 0 && echo on-a-tty; [ "$(stat -L -c %d /proc/self/fd/0)" = "$(stat -c %d /dev/pts/ptmx)" ] && echo in-its-devpts`)
		select {
		case s := <-got:
			if !strings.Contains(s, "on-a-tty") || !strings.Contains(s, "in-its-devpts") {
				t.Errorf("the terminal's master gave %q (runtime output %q)", s, out)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no terminal came over the console socket")
		}
		if o, code := r.run(t, "exec", "--tty", "box", "true"); code != 1 || !strings.Contains(o, "console-socket") {
			t.Errorf("exec --tty without a console socket: exit %d: %s", code, o)
		}
	})
}

// readConsole accepts one connection on ln, receives the terminal's master
// and returns what it reads from it until the process is gone.
func readConsole(ln *net.UnixListener) string {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return "accept: " + err.Error()
	}
	defer conn.Close()
	buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return "recvmsg: " + err.Error()
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return "no control message"
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return "no descriptor"
	}
	master := os.NewFile(uintptr(fds[0]), "master")
	defer master.Close()
	var all []byte
	for {
		n, err := master.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			return string(all)
		}
	}
}

// TestExecProcess: exec --process runs the runtime-spec Process of the file,
// with its own capabilities, no_new_privs, environment and working directory;
// --cap adds a capability to the container's process.
func TestExecProcess(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "--detach", "--bundle", b, "box")
		defer r.run(t, "delete", "--force", "box")
		kill := []string{"CAP_KILL"}
		proc := map[string]any{
			"args": []string{"sh", "-c", "echo $P $(pwd); grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status"},
			"env":  []string{"P=from-process", "PATH=/bin"}, "cwd": "/tmp", "user": map[string]any{"uid": 0, "gid": 0},
			"capabilities":    map[string]any{"bounding": kill, "effective": kill, "permitted": kill},
			"noNewPrivileges": true,
		}
		data, _ := json.Marshal(proc)
		pf := filepath.Join(t.TempDir(), "process.json")
		if err := os.WriteFile(pf, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := r.must(t, "exec", "--process", pf, "box")
		want := "from-process /tmp\nCapEff:\t0000000000000020\nCapBnd:\t0000000000000020\nNoNewPrivs:\t1\n"
		if out != want {
			t.Errorf("exec --process: %q, want %q", out, want)
		}
		out = r.must(t, "exec", "--cap", "CAP_SYS_NICE", "box", "grep", "CapEff", "/proc/self/status")
		eff, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
		if err != nil || eff&(1<<unix.CAP_SYS_NICE) == 0 {
			t.Errorf("exec --cap CAP_SYS_NICE: %q", out)
		}
		if os.Geteuid() == 0 { // a rootless container's user namespace denies setgroups
			if out := r.must(t, "exec", "--additional-gids", "7", "-g", "9", "box", "id", "-G"); out != "0 7 9\n" {
				t.Errorf("exec --additional-gids 7 -g 9: %q", out)
			}
		}
		if o, code := r.run(t, "exec", "--apparmor", "unconfined", "box", "true"); code != 1 || !strings.Contains(o, "apparmorProfile") {
			t.Errorf("exec --apparmor without AppArmor: exit %d: %s", code, o)
		}
	})
}

// TestExecHostPID: exec in a container that shares the host's pid namespace
// runs the process directly, without an init.
func TestExecHostPID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host's pid namespace with a new mount namespace and /proc: the root half")
	}
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), func(cfg map[string]any) {
		var kept []any
		for _, n := range cfg["linux"].(map[string]any)["namespaces"].([]any) {
			if n.(map[string]any)["type"] != "pid" {
				kept = append(kept, n)
			}
		}
		cfg["linux"].(map[string]any)["namespaces"] = kept
	})
	r.must(t, "run", "--detach", "--bundle", b, "box")
	defer r.run(t, "delete", "--force", "box")
	out := r.must(t, "exec", "box", "sh", "-c", "readlink /proc/self/ns/pid")
	if want, _ := os.Readlink("/proc/self/ns/pid"); out != want+"\n" {
		t.Errorf("exec in a container of the host's pid namespace: %q, want %q", out, want)
	}
	r.must(t, "delete", "--force", "box")
}

// TestExecOtherCgroup: exec run from another cgroup than create's, where the
// container's cgroup path is relative, is refused instead of making a cgroup
// of its own there.
func TestExecOtherCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("moving the runtime to another cgroup: the root half")
	}
	other := "/sys/fs/cgroup/pids/paddock-rt-" + testutil.RunID() + "-other"
	if cgroup.Detect() == cgroup.V2 {
		other = "/sys/fs/cgroup/paddock-rt-" + testutil.RunID() + "-other"
	}
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Skipf("a cgroup to move the runtime to: %v", err)
	}
	defer os.Remove(other)
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
	r.must(t, "run", "--detach", "--bundle", b, "box")
	defer r.run(t, "delete", "--force", "box")
	cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" --root "$3" exec box true`, "sh", other, r.bin, r.root)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "where its cgroup path") {
		t.Errorf("exec from another cgroup: %v: %s", err, out)
	}
	t.Logf("%s", out)
	if _, err := os.Stat(filepath.Join(other, containerCgroupPath(&specs.Spec{}, r.root, "box"))); err == nil {
		t.Errorf("exec made a cgroup below %s", other)
	}
	r.must(t, "delete", "--force", "box")
}

// readNS reads the namespace link of kind k of process pid.
func readNS(t *testing.T, k namespace.Kind, pid int) string {
	t.Helper()
	link, err := os.Readlink(k.Path(pid))
	if err != nil {
		t.Fatal(err)
	}
	return link
}
