package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// cgroupPathDirs returns the directories that cgroup path p has, or would have, in
// every hierarchy mounted under /sys/fs/cgroup that the caller's own cgroup file
// names (v1 controllers and the unified one).
func cgroupPathDirs(t *testing.T, p string) []string {
	t.Helper()
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if info, err := os.Lstat(filepath.Join("/sys/fs/cgroup", e.Name())); err != nil || !info.IsDir() {
			continue // cpu -> cpu,cpuacct links
		}
		if e.Name() == "unified" || strings.Contains(e.Name(), "memory") || strings.Contains(e.Name(), "pids") ||
			strings.Contains(e.Name(), "cpuacct") || strings.Contains(e.Name(), "freezer") || e.Name() == "devices" {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", e.Name(), p))
		}
	}
	if cgroup.Detect() == cgroup.V2 {
		dirs = []string{filepath.Join("/sys/fs/cgroup", p)}
	}
	return dirs
}

// inCgroupPath runs cat /proc/self/cgroup in a sandbox in the host's cgroup
// namespace (so that the path reads as the host names it) with opts, and checks
// that every line names p.
func inCgroupPath(t *testing.T, p string, opts ...sandbox.Option) {
	t.Helper()
	opts = append([]sandbox.Option{sandbox.WithHostNamespaces(namespace.Cgroup), sandbox.WithCgroupPath(p)}, opts...)
	out, st := run(t, opts, "/bin/sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids"+p+"/pids.max 2>/dev/null")
	if !st.Success() {
		t.Fatalf("%v: %s", st, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 || !strings.Contains(f[1], "memory") && !strings.Contains(f[1], "pids") && f[1] != "" {
			continue
		}
		if f[2] != p {
			t.Errorf("the sandbox is in %s, not %s:\n%s", line, p, out)
		}
	}
	t.Logf("%s", out)
}

// TestCgroupPath: WithCgroupPath puts the sandbox in exactly the cgroup named,
// absolute or relative, writes the limits to it and removes it at the end when it
// made it; a cgroup that existed is joined and left. Rootless on cgroup v1 the
// path is refused with limits, and ignored without, as the Plan says.
func TestCgroupPath(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		p := "/paddock-path-" + testutil.RunID() + "/ctr"
		if testutil.Rootless() && cgroup.Detect() != cgroup.V2 {
			tpl, err := sandbox.NewBuilder(sandbox.WithCgroupPath(p), sandbox.WithMemoryLimit(64<<20)).Build()
			if err == nil {
				tpl.Close()
			}
			if !errors.Is(err, sandbox.ErrNotSupported) || !strings.Contains(err.Error(), p) {
				t.Fatalf("limits in %s rootless on cgroup v1: %v", p, err)
			}
			b := sandbox.NewBuilder(sandbox.WithCgroupPath(p), sandbox.WithoutRootfs(), sandbox.WithRlimitFallback(sandbox.LimitPids))
			pl, err := b.Spec().Plan()
			if err != nil {
				t.Fatal(err)
			}
			if r := pl.Cgroup.Reason; !strings.Contains(r, p) || !strings.Contains(r, "ignored") {
				t.Errorf("the Plan's cgroup reason does not say the path is ignored: %q", r)
			}
			tpl, err = b.Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			if out, st := runTemplate(t, tpl, "/bin/true"); !st.Success() {
				t.Fatalf("%v: %s", st, out)
			}
			return
		}
		requireCgroupLimits(t, &cgroup.Resources{Pids: 50})
		for _, d := range cgroupPathDirs(t, filepath.Dir(p)) {
			defer os.Remove(d) // the parent the sandbox made stays, as runc leaves it
		}
		inCgroupPath(t, p, sandbox.WithPidsLimit(50))
		// The limit applies: a shell that starts sleeps beyond it is refused.
		out, st := run(t, []sandbox.Option{sandbox.WithCgroupPath(p), sandbox.WithPidsLimit(4)},
			"/bin/sh", "-c", "for i in 1 2 3 4 5 6; do sleep 1 & done 2>/dev/null; wait")
		if !st.PidsLimitHit {
			t.Errorf("the pids limit of %s refused no fork: %v %s", p, st, out)
		}
		for _, d := range cgroupPathDirs(t, p) {
			if _, err := os.Stat(d); err == nil {
				t.Errorf("the sandbox's cgroup %s is still there", d)
			}
		}
	})
}

// TestCgroupPathJoined: a cgroup that exists before is joined as it is, gets the
// limits, and stays after the sandbox; with WithDetached too, through Remove.
func TestCgroupPathJoined(t *testing.T) {
	requireCgroupLimits(t, &cgroup.Resources{Pids: 50})
	p := "/paddock-joined-" + testutil.RunID()
	dirs := cgroupPathDirs(t, p)
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(d)
	}
	inCgroupPath(t, p, sandbox.WithPidsLimit(50))
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("the joined cgroup %s was removed: %v", d, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/pids", p, "pids.max")); err == nil && strings.TrimSpace(string(b)) != "50" {
		t.Errorf("pids.max of the joined cgroup is %s, want 50", b)
	}

	tpl, err := sandbox.NewBuilder(sandbox.WithCgroupPath(p), sandbox.WithDetached(), sandbox.WithoutRootfs()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	proc, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := proc.Detach()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cgroup) != 0 || len(d.CgroupJoined) == 0 {
		t.Errorf("Detached: created %v, joined %v; want none created", d.Cgroup, d.CgroupJoined)
	}
	if err := sandbox.Remove(d); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("Remove removed the joined cgroup %s: %v", dir, err)
		}
	}
}

// TestCgroupPathDetached: a detached sandbox's exact cgroup is made, and Remove
// removes it.
func TestCgroupPathDetached(t *testing.T) {
	requireCgroupLimits(t, nil)
	p := "paddock-detached-" + testutil.RunID()
	tpl, err := sandbox.NewBuilder(sandbox.WithCgroupPath(p), sandbox.WithDetached(), sandbox.WithoutRootfs()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	proc, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := proc.Detach()
	if err != nil {
		t.Fatal(err)
	}
	own, err := cgroup.ReadMembership(0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cgroup.ReadMembership(d.Pid)
	if err != nil {
		t.Fatal(err)
	}
	got, want := m.V1["pids"], filepath.Join(own.V1["pids"], p)
	if cgroup.Detect() == cgroup.V2 {
		got, want = m.V2, filepath.Join(own.V2, p)
	}
	if got != want {
		t.Errorf("the sandbox's cgroup is %s, want %s", got, want)
	}
	if len(d.Cgroup) == 0 || len(d.CgroupJoined) != 0 {
		t.Errorf("Detached: created %v, joined %v", d.Cgroup, d.CgroupJoined)
	}
	if err := sandbox.Remove(d); err != nil {
		t.Fatal(err)
	}
	if left := testutil.CgroupsWithRunID(); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}

// TestCgroupPathInvalid: a path that is not clean, climbs out or holds a NUL is
// refused by Build with the field named, before anything is cloned.
func TestCgroupPathInvalid(t *testing.T) {
	for _, p := range []string{"../escape", "/a/../../b", "/a//b", "/a/", "a\x00b", "/", "."} {
		_, err := sandbox.NewBuilder(sandbox.WithCgroupPath(p)).Build()
		var re *cgroup.ResourceError
		if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &re) || re.Field != "path" {
			t.Errorf("%q: want a *cgroup.ResourceError of field path matching ErrInvalidSpec, got %v", p, err)
		}
	}
}
