package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// sandboxCgroups lists the cgroup directories of sandboxes this test process
// started that still exist.
func sandboxCgroups(t *testing.T) []string {
	t.Helper()
	var found []string
	prefix := "sandbox-" + strconv.Itoa(os.Getpid()) + "-"
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), prefix) {
			found = append(found, path)
			return filepath.SkipDir
		}
		return nil
	})
	return found
}

// requireCgroupLimits skips a test of the limits r where this host cannot give a
// sandbox a cgroup with them: no cgroup filesystem, a caller that may not create
// cgroups, or a controller that is not available (a cgroup v2 host that does not
// enable it).
func requireCgroupLimits(t *testing.T, r *cgroup.Resources) {
	t.Helper()
	if testutil.Rootless() {
		t.Skip("resource limits need root on this host: cgroup v1 cannot be delegated (the rootless half checks the typed error instead)")
	}
	if cgroup.Detect() == cgroup.Unavailable {
		t.Skip("no cgroup filesystem is mounted")
	}
	if _, err := cgroup.Plan(&cgroup.Spec{Resources: r}, os.Geteuid()); errors.Is(err, cgroup.ErrNotSupported) {
		t.Skipf("this host cannot enforce the limits: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func TestPidsLimit(t *testing.T) {
	requireCgroupLimits(t, &cgroup.Resources{Pids: 20})
	tpl, err := sandbox.NewBuilder(sandbox.WithPidsLimit(20)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	// A shell dies when it cannot fork, so the forking loop runs in a subshell; the
	// sleeps it started are re-parented to the outer shell, which waits on its stdin
	// (a builtin: no fork needed at the limit).
	stdin, hold, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args:  []string{"/bin/sh", "-c", "(for i in $(seq 100); do sleep 30 & done) 2>/dev/null; read x"},
		Stdin: stdin,
	})
	stdin.Close()
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	for i := 0; i < 25; i++ {
		st, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		peak = max(peak, st.PidsCurrent)
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.KillAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if peak > 20 || peak < 10 {
		t.Fatalf("processes in the sandbox: peak %d, want at most the limit of 20 (and the loop to reach it)", peak)
	}
	if left := sandboxCgroups(t); len(left) > 0 {
		t.Fatalf("cgroups left behind: %v", left)
	}
}

func TestMemoryLimitOOM(t *testing.T) {
	requireCgroupLimits(t, &cgroup.Resources{Memory: 32 << 20})
	tpl, err := sandbox.NewBuilder(sandbox.WithMemoryLimit(32 << 20)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", `x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived`}})
	if err != nil {
		t.Fatal(err)
	}
	if !st.OOMKilled || st.Cgroup == nil || st.Cgroup.OOMKills == 0 {
		t.Fatalf("allocating 100 MiB under a 32 MiB limit: %v, OOMKilled=%v, stats %+v", st, st.OOMKilled, st.Cgroup)
	}
	if left := sandboxCgroups(t); len(left) > 0 {
		t.Fatalf("cgroups left behind: %v", left)
	}
}

// TestDeviceCgroup: root inside a rootful sandbox holds CAP_MKNOD, so it can create
// a node for a host disk, but the device cgroup refuses to open it; the standard
// devices work. A privileged sandbox may open any device: the same node then fails
// only because no disk 8:0 exists here (ENXIO), not with EPERM.
func TestDeviceCgroup(t *testing.T) {
	requireCgroupLimits(t, nil)
	script := `mknod /dev/sda b 8 0 || exit 10; exec 3</dev/sda; echo opened`
	out, st := run(t, nil, "/bin/sh", "-c", "head -c1 /dev/zero >/dev/null && echo null-ok; "+script)
	if !strings.Contains(out, "null-ok") || !strings.Contains(out, "Operation not permitted") || strings.Contains(out, "opened") {
		t.Fatalf("default sandbox: %v\n%s", st, out)
	}
	out, _ = run(t, []sandbox.Option{sandbox.Privileged()}, "/bin/sh", "-c", script)
	if strings.Contains(out, "Operation not permitted") {
		t.Fatalf("privileged sandbox refused a device: %s", out)
	}
}

func TestCgroupRootless(t *testing.T) {
	testutil.AsNobody(t, func(t *testing.T) {
		if cgroup.Detect() == cgroup.V2 {
			t.Skip("a pure cgroup v2 host may delegate a subtree; this checks the v1/hybrid refusal")
		}
		_, err := sandbox.NewBuilder(sandbox.WithMemoryLimit(64 << 20)).Build()
		var ue *sandbox.SpecError
		if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &ue) {
			t.Fatalf("limits without a delegated cgroup: %v", err)
		}
		// No limits asked: the sandbox runs without a cgroup of its own.
		out, st := run(t, nil, "/bin/true")
		if !st.Success() {
			t.Fatalf("%v %s", st, out)
		}
	})
}

func TestResourceErrors(t *testing.T) {
	cases := map[string]sandbox.Option{
		"negative memory":  sandbox.WithMemoryLimit(-2),
		"memory too small": sandbox.WithMemoryLimit(1 << 20),
		"negative pids":    sandbox.WithPidsLimit(-5),
		"too many cpus":    sandbox.WithCPUs(1e6),
		"negative cpus":    sandbox.WithCPUs(-1),
		"missing cpus":     sandbox.WithResources(cgroup.Resources{Cpuset: "0-4095"}),
		"bad parent":       sandbox.WithCgroupParent("../escape"),
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := sandbox.NewBuilder(opt).Build()
			if !errors.Is(err, sandbox.ErrInvalidSpec) {
				t.Fatalf("want ErrInvalidSpec, got %v", err)
			}
			var re *cgroup.ResourceError
			if !errors.As(err, &re) || re.Field == "" {
				t.Fatalf("want a *cgroup.ResourceError naming the field, got %v", err)
			}
		})
	}
	// Options let the later one win (WithoutCgroup drops the limits before it that
	// have no rlimit fallback); a Spec that asks for a memory limit without a
	// cgroup or a fallback is refused.
	s := sandbox.NewBuilder(sandbox.WithMemoryLimit(64 << 20)).Spec()
	s.NoCgroup = true
	if tpl, err := sandbox.NewBuilder(sandbox.WithSpec(s)).Build(); !errors.Is(err, sandbox.ErrInvalidSpec) {
		if tpl != nil {
			tpl.Close()
		}
		t.Fatalf("limits without a cgroup: %v", err)
	}
}

// TestCgroupParentRemoved: a parent cgroup given to the sandbox that did not exist
// is made for it and removed with it, absolute or relative, in every hierarchy;
// the default parent stays, as Docker's /docker does.
func TestCgroupParentRemoved(t *testing.T) {
	requireCgroupLimits(t, nil)
	for _, parent := range []string{"/paddock-parent-" + testutil.RunID() + "/deep", "paddock-parent-" + testutil.RunID() + "/deep"} {
		out, st := run(t, []sandbox.Option{sandbox.WithCgroupParent(parent)}, "/bin/sh", "-c", "cat /proc/self/cgroup")
		if !st.Success() {
			t.Fatalf("%s: %v\n%s", parent, st, out)
		}
		if left := testutil.CgroupsWithRunID(); len(left) > 0 {
			t.Errorf("parent %s: left %v", parent, left)
		}
	}
}

// TestCgroupParentRemovedOverlapping: the parent made for a Template's sandboxes
// goes with the last of them, whichever made it: here the first, which ends while
// the second still runs in it.
func TestCgroupParentRemovedOverlapping(t *testing.T) {
	requireCgroupLimits(t, nil)
	parent := "/paddock-parent-" + testutil.RunID() + "/deep"
	tpl, err := sandbox.NewBuilder(sandbox.WithCgroupParent(parent)).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	var ps []*sandbox.Process
	for range 2 {
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		p.Signal(syscall.SIGKILL)
		if _, err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if left := testutil.CgroupsWithRunID(); len(left) > 0 {
		t.Errorf("left %v", left)
	}
}
