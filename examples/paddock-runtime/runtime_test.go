package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// rt is the built runtime with a state directory of its own.
type rt struct {
	bin, root string
}

// envBin passes the built runtime to the rootless halves of the tests.
const envBin = "PADDOCK_RUNTIME_BIN"

// build builds the runtime where uid 65534 can run it too.
func build(t *testing.T) string {
	return testutil.BuildForNobody(t, "github.com/paddock-sandbox/paddock/examples/paddock-runtime", "paddock-runtime")
}

// modes runs f as root and as uid 65534 with the runtime built once and a
// state directory of its own in each half.
func modes(t *testing.T, f func(t *testing.T, r *rt)) {
	testutil.ModesWith(t, envBin, build, func(t *testing.T, bin string) {
		f(t, &rt{bin: bin, root: filepath.Join(t.TempDir(), "state")})
	})
}

// run runs the runtime with args and returns what it printed and its exit
// code. Its output goes to a file, not a pipe: a container it leaves running
// holds its standard streams, as runc's do.
func (r *rt) run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	err = cmd.Run()
	return outputAndCode(t, r.bin, out.Name(), err)
}

// must runs the runtime with args and fails t unless it exits 0.
func (r *rt) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := r.run(t, args...)
	if code != 0 {
		t.Fatalf("paddock-runtime %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// status returns the status that state reports for id.
func (r *rt) status(t *testing.T, id string) string {
	t.Helper()
	var st struct{ Status string }
	if err := json.Unmarshal([]byte(r.must(t, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	return st.Status
}

// waitStatus waits until id has the status want.
func (r *rt) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got := r.status(t, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s, want %s", id, got, want)
		}
	}
}

// gone fails t if the state directory of id is still there.
func (r *rt) gone(t *testing.T, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(r.root, id)); err == nil {
		t.Errorf("the state directory of %s is still there", id)
	}
}

// bundle writes a bundle whose config.json is what `paddock-runtime spec`
// (with --rootless for an unprivileged caller) writes, on a busybox root, with
// the process args and a writable bind of out at /out; edit changes the decoded
// configuration further.
func (r *rt) bundle(t *testing.T, args []string, out string, edit func(cfg map[string]any)) string {
	t.Helper()
	b := t.TempDir()
	spec := []string{"spec", "--bundle", b}
	if os.Geteuid() != 0 {
		spec = append(spec, "--rootless")
	}
	r.must(t, spec...)
	path := filepath.Join(b, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["root"].(map[string]any)["path"] = testutil.BusyboxRoot(t)
	cfg["process"].(map[string]any)["args"] = args
	cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{"destination": "/out", "type": "bind", "source": out, "options": []string{"rbind", "rw"}})
	if edit != nil {
		edit(cfg)
	}
	if data, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLifecycle drives create, state, start, state and delete, as root and as
// uid 65534: the command has not run while the container is created, runs
// once it is started (it writes to a bind), the container is stopped once it
// exited, and delete leaves nothing (testutil.Main checks the host).
func TestLifecycle(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		b := r.bundle(t, []string{"sh", "-c", "echo ran > /out/ran"}, out, nil)
		pidFile := filepath.Join(t.TempDir(), "pid")
		r.must(t, "create", "--bundle", b, "--pid-file", pidFile, "box")
		if s := r.status(t, "box"); s != "created" {
			t.Errorf("after create: %s", s)
		}
		if p, err := os.ReadFile(pidFile); err != nil || len(p) == 0 {
			t.Errorf("pid file: %q, %v", p, err)
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
			t.Fatal("the command ran before start")
		}
		if o, code := r.run(t, "delete", "nosuch"); code == 0 {
			t.Errorf("delete of a container that does not exist: %s", o)
		}
		r.must(t, "start", "box")
		r.waitStatus(t, "box", "stopped")
		if b, err := os.ReadFile(filepath.Join(out, "ran")); string(b) != "ran\n" {
			t.Errorf("the command's output: %q, %v", b, err)
		}
		if o, code := r.run(t, "start", "box"); code == 0 {
			t.Errorf("start of a stopped container: %s", o)
		}
		r.must(t, "delete", "box")
		r.gone(t, "box")
	})
}

// TestKill signals a running sleep, as root and as uid 65534.
func TestKill(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "--detach", "--bundle", b, "box")
		if s := r.status(t, "box"); s != "running" {
			t.Errorf("after run --detach: %s", s)
		}
		r.must(t, "kill", "box", "0")
		r.must(t, "kill", "box", "SIGKILL")
		r.waitStatus(t, "box", "stopped")
		r.must(t, "delete", "box")
		r.gone(t, "box")
	})
}

// TestDeleteForce: delete refuses a running container, and removes it with
// --force.
func TestDeleteForce(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "-d", "--bundle", b, "box")
		if o, code := r.run(t, "delete", "box"); code == 0 || !strings.Contains(o, "running") {
			t.Errorf("delete of a running container: exit %d: %s", code, o)
		}
		r.must(t, "delete", "--force", "box")
		r.gone(t, "box")
	})
}

// TestRunExitStatus: run without --detach waits and exits with the
// container's status, and removes the container.
func TestRunExitStatus(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sh", "-c", "echo printed; exit 3"}, t.TempDir(), nil)
		o, code := r.run(t, "run", "--bundle", b, "box")
		if code != 3 || o != "printed\n" {
			t.Errorf("run: exit %d, %q; want 3, %q", code, o, "printed\n")
		}
		r.gone(t, "box")
	})
}

// TestCreateRefused: a configuration Paddock cannot honour fails create with
// exit 1 and the field's name, and leaves no state.
func TestCreateRefused(t *testing.T) {
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	b := r.bundle(t, []string{"true"}, t.TempDir(), func(cfg map[string]any) {
		cfg["linux"].(map[string]any)["sysctl"] = map[string]string{"kernel.panic": "1"} // the whole host's
	})
	o, code := r.run(t, "create", "--bundle", b, "box")
	if code != 1 || !strings.Contains(o, "linux.sysctl") {
		t.Errorf("create with linux.sysctl: exit %d: %s", code, o)
	}
	r.gone(t, "box")
	for _, cmd := range [][]string{{"checkpoint", "box"}, {"restore", "box"}, {"--systemd-cgroup", "list"}} {
		if o, code := r.run(t, cmd...); code != 1 || !strings.Contains(o, "not supported") {
			t.Errorf("%q: exit %d: %s", cmd, code, o)
		}
	}
}

// TestParseSignal reads signals as runc's kill takes them.
func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{"9": unix.SIGKILL, "0": 0, "TERM": unix.SIGTERM, "sigusr1": unix.SIGUSR1, "SIGHUP": unix.SIGHUP} {
		if got, err := parseSignal(in); err != nil || got != want {
			t.Errorf("parseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "65", "NOSUCH", ""} {
		if _, err := parseSignal(in); err == nil {
			t.Errorf("parseSignal(%q) accepted", in)
		}
	}
}

// TestDeleteCreated: a created container, still held, is deleted without
// --force, as runc deletes it, and its command never runs.
func TestDeleteCreated(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		b := r.bundle(t, []string{"sh", "-c", "echo ran > /out/ran"}, out, nil)
		r.must(t, "create", "--bundle", b, "box")
		r.must(t, "delete", "box")
		r.gone(t, "box")
		if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
			t.Error("the command of a deleted container ran")
		}
	})
}

// outputAndCode returns what a command named name wrote to the file out and its
// exit status, from err of its Run; it fails t where the command did not run.
func outputAndCode(t *testing.T, name, out string, err error) (string, int) {
	t.Helper()
	b, _ := os.ReadFile(out)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(b), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b), 0
}
