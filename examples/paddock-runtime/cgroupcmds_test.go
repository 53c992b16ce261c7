package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cgroups returns the directories of the container id's cgroup, from its
// state.json; none where it has no cgroup of its own (uid 65534 on a cgroup v1
// host).
func (r *rt) cgroups(t *testing.T, id string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.root, id, stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var c container
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Sandbox.Cgroup
}

// cgroupDir returns the directory of the container id's cgroup in the v1
// hierarchy of ctrl, "" when it has none.
func (r *rt) cgroupDir(t *testing.T, id, ctrl string) string {
	t.Helper()
	for _, d := range r.cgroups(t, id) {
		if strings.Contains(d, "/"+ctrl+"/") {
			return d
		}
	}
	return ""
}

// hasCgroup reports whether the container id has a cgroup of its own.
func (r *rt) hasCgroup(t *testing.T, id string) bool { return len(r.cgroups(t, id)) > 0 }

// pid returns the pid that state reports for id.
func (r *rt) pid(t *testing.T, id string) int {
	t.Helper()
	var st struct{ Pid int }
	if err := json.Unmarshal([]byte(r.must(t, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	return st.Pid
}

// counting runs a container that counts into /out/count and returns a reader
// of the count, once it has started counting.
func counting(t *testing.T, r *rt, id string) func() int {
	t.Helper()
	out := t.TempDir()
	b := r.bundle(t, []string{"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /out/count; done"}, out, nil)
	r.must(t, "run", "-d", "--bundle", b, id)
	t.Cleanup(func() { r.run(t, "delete", "-f", id) })
	read := func() int {
		b, _ := os.ReadFile(filepath.Join(out, "count"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); read() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the container did not start counting")
		}
	}
	return read
}

// TestPauseResume: pause freezes a counting loop (its count stops) and state
// says paused; resume thaws it and the count goes on. A paused container is
// deleted only with --force. As uid 65534 on a host where it gets no cgroup,
// pause fails saying why.
func TestPauseResume(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		read := counting(t, r, "box")
		if !r.hasCgroup(t, "box") {
			o, code := r.run(t, "pause", "box")
			if code == 0 || !strings.Contains(o, "without cgroups") {
				t.Errorf("pause of a container without a cgroup: exit %d: %s", code, o)
			}
			t.Skipf("the rest needs a cgroup, which uid %d does not get here", os.Geteuid())
		}
		r.must(t, "pause", "box")
		if s := r.status(t, "box"); s != "paused" {
			t.Errorf("after pause: %s", s)
		}
		a := read()
		time.Sleep(300 * time.Millisecond)
		if b := read(); b != a {
			t.Errorf("the count went on while paused: %d then %d", a, b)
		}
		if o, code := r.run(t, "pause", "box"); code == 0 {
			t.Errorf("pause of a paused container: %s", o)
		}
		r.must(t, "resume", "box")
		if s := r.status(t, "box"); s != "running" {
			t.Errorf("after resume: %s", s)
		}
		for deadline := time.Now().Add(10 * time.Second); read() == a; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the count did not go on after resume")
			}
		}
		r.must(t, "pause", "box")
		if o, code := r.run(t, "delete", "box"); code == 0 || !strings.Contains(o, "paused") {
			t.Errorf("delete of a paused container: exit %d: %s", code, o)
		}
		start := time.Now()
		r.must(t, "delete", "--force", "box")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("delete --force of a paused container took %v", d) // not a timing: a hang
		}
		r.gone(t, "box")
	})
}

// TestPs: ps lists the container's first process, in JSON and as a line of
// ps(1).
func TestPs(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "-d", "--bundle", b, "box")
		defer r.must(t, "delete", "-f", "box")
		pid := r.pid(t, "box")
		var pids []int
		if err := json.Unmarshal([]byte(r.must(t, "ps", "--format", "json", "box")), &pids); err != nil {
			t.Fatal(err)
		}
		if len(pids) != 1 || pids[0] != pid {
			t.Errorf("ps --format json: %v, want [%d]", pids, pid)
		}
		if _, err := exec.LookPath("ps"); err != nil {
			t.Skipf("ps(1): %v", err)
		}
		table := r.must(t, "ps", "box", "-o", "pid,comm")
		lines := strings.Split(strings.TrimSpace(table), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "PID") || strings.Fields(lines[1])[0] != strconv.Itoa(pid) {
			t.Errorf("ps box -o pid,comm:\n%s", table)
		}
	})
}

// TestUpdate: update changes memory.limit_in_bytes and pids.max, from flags
// and from a LinuxResources file on standard input, and CPU shares and quota
// once it has put the container in the cpu hierarchy, as read from the
// cgroup's files; a field it cannot change is refused by name. delete removes
// the directory update added (testutil.Main checks the host).
func TestUpdate(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "-d", "--bundle", b, "box")
		defer r.must(t, "delete", "-f", "box")
		mem, pids := r.cgroupDir(t, "box", "memory"), r.cgroupDir(t, "box", "pids")
		if mem == "" || pids == "" {
			o, code := r.run(t, "update", "--pids-limit", "20", "box")
			if code == 0 || !strings.Contains(o, "without cgroups") {
				t.Errorf("update of a container without a cgroup: exit %d: %s", code, o)
			}
			t.Skipf("the rest needs v1 memory and pids cgroups, which uid %d does not get here", os.Geteuid())
		}
		r.must(t, "update", "--memory", "64m", "--pids-limit", "20", "box")
		expectFile(t, filepath.Join(mem, "memory.limit_in_bytes"), "67108864")
		expectFile(t, filepath.Join(pids, "pids.max"), "20")

		// The container is not in the cpu hierarchy until an update needs it.
		if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.shares"); err == nil {
			if d := r.cgroupDir(t, "box", "cpu"); d != "" {
				t.Errorf("the container is in the cpu hierarchy before an update: %s", d)
			}
			r.must(t, "update", "--cpu-shares", "512", "--cpu-quota", "50000", "box")
			cpu := r.cgroupDir(t, "box", "cpu")
			if cpu == "" {
				t.Fatal("update --cpu-shares did not record a cpu cgroup")
			}
			expectFile(t, filepath.Join(cpu, "cpu.shares"), "512")
			expectFile(t, filepath.Join(cpu, "cpu.cfs_quota_us"), "50000")
			expectFile(t, filepath.Join(cpu, "cgroup.procs"), strconv.Itoa(r.pid(t, "box")))
		}

		cmd := exec.Command(r.bin, "--root", r.root, "update", "-r", "-", "box")
		cmd.Stdin = strings.NewReader(`{"memory": {"limit": 33554432}, "pids": {"limit": 0}}`)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("update -r -: %v\n%s", err, o)
		}
		expectFile(t, filepath.Join(mem, "memory.limit_in_bytes"), "33554432")
		expectFile(t, filepath.Join(pids, "pids.max"), "max")
		// -1 lifts the memory limit, as runc's update does.
		r.must(t, "update", "--memory", "-1", "box")
		if b, err := os.ReadFile(filepath.Join(mem, "memory.limit_in_bytes")); err != nil || len(strings.TrimSpace(string(b))) < 18 {
			t.Errorf("memory.limit_in_bytes after update --memory -1: %q, %v", b, err)
		}

		f := filepath.Join(t.TempDir(), "r.json")
		os.WriteFile(f, []byte(`{"memory": {"reservation": 1048576}}`), 0o644)
		if o, code := r.run(t, "update", "-r", f, "box"); code == 0 || !strings.Contains(o, "memory.reservation") {
			t.Errorf("update of memory.reservation: exit %d: %s", code, o)
		}
		if o, code := r.run(t, "update", "--memory", "1k", "box"); code == 0 || !strings.Contains(o, "memory") {
			t.Errorf("update to 1 KiB of memory: exit %d: %s", code, o)
		}
	})
}

// TestEventsStats: events --stats prints one stats event whose data has the
// container's memory usage; without a cgroup it fails saying why.
func TestEventsStats(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sleep", "100"}, t.TempDir(), nil)
		r.must(t, "run", "-d", "--bundle", b, "box")
		defer r.must(t, "delete", "-f", "box")
		if !r.hasCgroup(t, "box") {
			o, code := r.run(t, "events", "--stats", "box")
			if code == 0 || !strings.Contains(o, "without cgroups") {
				t.Errorf("events of a container without a cgroup: exit %d: %s", code, o)
			}
			t.Skipf("the rest needs a cgroup, which uid %d does not get here", os.Geteuid())
		}
		var ev struct {
			Type, ID string
			Data     struct {
				Memory struct{ Usage struct{ Usage, Limit uint64 } }
				Pids   struct{ Current uint64 }
			}
		}
		out := r.must(t, "events", "--stats", "box")
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if ev.Type != "stats" || ev.ID != "box" || ev.Data.Memory.Usage.Usage == 0 || ev.Data.Pids.Current != 1 {
			t.Errorf("events --stats: %s", out)
		}
	})
}

// TestEventsUntilStopped: events without --stats prints a stats event every
// interval and returns once the container stops.
func TestEventsUntilStopped(t *testing.T) {
	r := &rt{bin: build(t), root: filepath.Join(t.TempDir(), "state")}
	if os.Geteuid() != 0 {
		t.Skip("a container's cgroup needs root here")
	}
	b := r.bundle(t, []string{"sleep", "1"}, t.TempDir(), nil)
	r.must(t, "run", "-d", "--bundle", b, "box")
	defer r.must(t, "delete", "-f", "box")
	out := r.must(t, "events", "--interval", "100ms", "box")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], `"type":"stats"`) {
		t.Errorf("events --interval 100ms of a 1 s container: %d lines:\n%s", len(lines), out)
	}
}

func expectFile(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != want {
		t.Errorf("%s = %s, want %s", p, got, want)
	}
}

// TestParseBytes reads sizes as runc's update takes them.
func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "64m": 64 << 20, "64M": 64 << 20, "2g": 2 << 30, "512kb": 512 << 10, "1GiB": 1 << 30, "-1": -1} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-2", "1x", "99999999999t"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}
