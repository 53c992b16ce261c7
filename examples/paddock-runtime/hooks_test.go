package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hookScript is a hook that appends its standard input and a newline to the
// file named by its first argument, and the mount namespace it ran in to that
// name with .ns added.
const hookScript = "#!/bin/sh\ncat >> \"$1\"\necho >> \"$1\"\nreadlink /proc/self/ns/mnt > \"$1.ns\"\n"

// writeHook writes hookScript to dir/name, executable by anyone.
func writeHook(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(hookScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// hookEntry is a hook of config.json.
func hookEntry(path string, args ...string) map[string]any {
	return map[string]any{"path": path, "args": append([]string{"hook"}, args...)}
}

// readMarker reads the state a hook wrote to out/name, checking that the hook
// ran once, and returns it with the mount namespace it ran in; ok is false when
// it did not run.
func readMarker(t *testing.T, out, name string) (st map[string]any, ns string, ok bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, name))
	if os.IsNotExist(err) {
		return nil, "", false
	} else if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 1 {
		t.Errorf("hook %s ran %d times", name, len(lines))
	}
	if err := json.Unmarshal([]byte(lines[0]), &st); err != nil {
		t.Fatalf("hook %s got %q: %v", name, lines[0], err)
	}
	n, _ := os.ReadFile(filepath.Join(out, name+".ns"))
	return st, strings.TrimSpace(string(n)), true
}

// TestHooks runs a hook of each kind, as root and as uid 65534: each runs once,
// at its point of the life cycle, with the container's state on its standard
// input, in the runtime's mount namespace or the container's as the spec says.
// The createContainer hook, in the container's, resolves its path, its
// interpreter (the host's /bin/sh, with its libraries) and its argument in the
// runtime's filesystem; the startContainer hook resolves everything in the
// container's.
func TestHooks(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		host := writeHook(t, t.TempDir(), "hook.sh")
		writeHook(t, out, "hook.sh") // for startContainer, resolved in the container
		b := r.bundle(t, []string{"sh", "-c", "ls /out > /out/ran; sleep 100"}, out, func(cfg map[string]any) {
			cfg["hooks"] = map[string]any{
				"prestart":        []any{hookEntry(host, filepath.Join(out, "prestart"))},
				"createRuntime":   []any{hookEntry(host, filepath.Join(out, "createRuntime"))},
				"createContainer": []any{hookEntry(host, filepath.Join(out, "createContainer"))},
				"startContainer":  []any{hookEntry("/out/hook.sh", "/out/startContainer")},
				"poststart":       []any{hookEntry(host, filepath.Join(out, "poststart"))},
				"poststop":        []any{hookEntry(host, filepath.Join(out, "poststop"))},
			}
		})
		pidFile := filepath.Join(t.TempDir(), "pid")
		r.must(t, "create", "--bundle", b, "--pid-file", pidFile, "box")
		p, _ := os.ReadFile(pidFile)
		pid, _ := strconv.Atoi(string(p))
		hostNS, _ := os.Readlink("/proc/self/ns/mnt")
		boxNS, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		if err != nil {
			t.Fatal(err)
		}
		check := func(name, status, ns string, want bool) {
			t.Helper()
			st, gotNS, ok := readMarker(t, out, name)
			if ok != want {
				t.Fatalf("hook %s ran: %v, want %v", name, ok, want)
			}
			if !ok {
				return
			}
			if st["id"] != "box" || st["pid"] != float64(pid) || st["bundle"] != b || st["status"] != status {
				t.Errorf("hook %s got the state %v; want box, pid %d, %s, %s", name, st, pid, b, status)
			}
			if gotNS != ns {
				t.Errorf("hook %s ran in the mount namespace %s, want %s", name, gotNS, ns)
			}
		}
		check("prestart", "creating", hostNS, true)
		check("createRuntime", "creating", hostNS, true)
		check("createContainer", "creating", boxNS, true)
		check("startContainer", "", "", false)
		check("poststart", "", "", false)
		r.must(t, "start", "box")
		check("startContainer", "created", boxNS, true)
		check("poststart", "running", hostNS, true)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if ls, _ := os.ReadFile(filepath.Join(out, "ran")); len(ls) > 0 {
				if !strings.Contains(string(ls), "startContainer") {
					t.Errorf("the process ran before the startContainer hook: /out held %q", ls)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the container's process did not run")
			}
		}
		check("poststop", "", "", false)
		r.must(t, "delete", "--force", "box")
		check("poststop", "stopped", hostNS, true)
		r.gone(t, "box")
	})
}

// TestHookFailures: a createRuntime hook that fails, or runs past its timeout
// (and is killed), fails create with exit 1 naming the hook, and leaves
// nothing; a startContainer hook past its timeout fails start and leaves the
// container stopped, its process never run; a hook that leaves a process
// holding its output does not hold create; failing poststart and poststop
// hooks are warnings.
func TestHookFailures(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		for _, tc := range []struct {
			name string
			hook map[string]any
			want string
		}{
			{"fails", map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "echo broken >&2; exit 7"}}, "exit status 7: broken"},
			{"timeout", map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "sleep 60 & sleep 60"}, "timeout": 1}, "killed after its timeout of 1s"},
		} {
			b := r.bundle(t, []string{"sh", "-c", "echo ran > /out/ran"}, out, func(cfg map[string]any) {
				cfg["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": "/bin/true"}, tc.hook}}
			})
			t0 := time.Now()
			o, code := r.run(t, "create", "--bundle", b, "box")
			if code != 1 || !strings.Contains(o, "hooks.createRuntime[1]") || !strings.Contains(o, tc.want) {
				t.Errorf("%s: create: exit %d: %s", tc.name, code, o)
			}
			if d := time.Since(t0); d > 10*time.Second {
				t.Errorf("%s: create took %v", tc.name, d)
			}
			r.gone(t, "box")
		}
		if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
			t.Error("the process of a failed create ran")
		}
		b := r.bundle(t, []string{"sh", "-c", "echo ran > /out/ran"}, out, func(cfg map[string]any) {
			cfg["hooks"] = map[string]any{"startContainer": []any{map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "sleep 60"}, "timeout": 1}}}
		})
		r.must(t, "create", "--bundle", b, "box")
		if o, code := r.run(t, "start", "box"); code != 1 || !strings.Contains(o, "hook hooks.startContainer[0] (/bin/sh): killed after its timeout of 1s") {
			t.Errorf("start with a startContainer hook past its timeout: exit %d: %s", code, o)
		}
		r.waitStatus(t, "box", "stopped")
		r.must(t, "delete", "box")
		r.gone(t, "box")
		if _, err := os.Stat(filepath.Join(out, "ran")); err == nil {
			t.Error("the process ran after its startContainer hook failed")
		}
		// A hook that leaves a process holding its output succeeds once it exits.
		b = r.bundle(t, []string{"true"}, out, func(cfg map[string]any) {
			cfg["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", "sleep 3 & echo left"}}}}
		})
		t0 := time.Now()
		r.must(t, "create", "--bundle", b, "box")
		if d := time.Since(t0); d > 2500*time.Millisecond {
			t.Errorf("create waited %v for what a hook left", d)
		}
		r.must(t, "delete", "box")
		time.Sleep(time.Until(t0.Add(3500 * time.Millisecond))) // the sleep ends
		b = r.bundle(t, []string{"true"}, out, func(cfg map[string]any) {
			fail := []any{map[string]any{"path": "/bin/false"}}
			cfg["hooks"] = map[string]any{"poststart": fail, "poststop": fail}
		})
		for _, args := range [][]string{{"create", "--bundle", b, "box"}, {"start", "box"}, {"delete", "--force", "box"}} {
			if o := r.must(t, args...); args[0] != "create" && !strings.Contains(o, "warning: hook hooks.post") {
				t.Errorf("%s: no warning of the failed hook: %q", args[0], o)
			}
		}
		r.gone(t, "box")
	})
}
