package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// containerKinds are the namespaces every default sandbox creates.
var containerKinds = []namespace.Kind{namespace.Mount, namespace.PID, namespace.Net, namespace.IPC, namespace.UTS, namespace.Cgroup}

// startSleeper starts a default sandbox running sleep and returns it; the test kills
// and reaps it at the end.
func startSleeper(t *testing.T, opts ...sandbox.Option) *sandbox.Process {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait()
	})
	return p
}

// expectedKind is the kind a sandbox with the given mechanisms should be classified
// as, decided independently of Classify from what the process actually has.
func expectedKind(r *inspect.Report, rootless bool) string {
	if len(r.Capabilities.Dropped) == 0 && r.Seccomp.Mode == "disabled" && len(r.Mounts.Masked) == 0 && len(r.Mounts.ReadOnly) == 0 {
		return inspect.KindPrivileged
	}
	if rootless {
		return inspect.KindRootless
	}
	return inspect.KindRootful
}

func TestInspectLiveSandbox(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		p := startSleeper(t)
		r, err := inspect.ProcessAgainst(p.Pid(), os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		var text bytes.Buffer
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		t.Logf("report:\n%s", text.String())
		if r.PID != p.Pid() || r.RefPID != os.Getpid() {
			t.Errorf("pid %d ref %d, want %d and %d", r.PID, r.RefPID, p.Pid(), os.Getpid())
		}
		for _, k := range containerKinds {
			if n := r.Get(k); n.State != inspect.NSNew || n.Inode == 0 || n.Inode == n.RefInode {
				t.Errorf("%s: %+v, want new", k, n)
			}
		}
		rootless := testutil.Rootless()
		wantUser := inspect.NSShared
		if rootless {
			wantUser = inspect.NSNew
		}
		if n := r.Get(namespace.User); n.State != wantUser {
			t.Errorf("user namespace %+v, want %s", n, wantUser)
		}
		if n := r.Get(namespace.Time); n.State != inspect.NSShared || !n.Initial {
			t.Errorf("time namespace %+v, want the host's", n)
		}
		if rootless {
			want := []namespace.IDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}}
			if !slices.Equal(r.UIDMap, want) || !slices.Equal(r.GIDMap, want) {
				t.Errorf("maps uid %v gid %v, want %v", r.UIDMap, r.GIDMap, want)
			}
		} else if len(r.UIDMap) != 1 || r.UIDMap[0].HostID != 0 || r.UIDMap[0].Size != 4294967295 {
			t.Errorf("uid map %v, want the initial identity map", r.UIDMap)
		}
		if r.Rootless != rootless {
			t.Errorf("Rootless = %v, want %v (reasons %q)", r.Rootless, rootless, r.Reasons)
		}
		if want := expectedKind(r, rootless); r.Kind != want {
			t.Errorf("Kind %q, want %q (reasons %q)", r.Kind, want, r.Reasons)
		}
		// The mechanisms the report claims are the ones the kernel shows.
		sets, err := caps.Inspect(p.Pid())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Capabilities.Bounding, orEmpty(sets.Bounding.Names())) || !slices.Equal(r.Capabilities.Effective, orEmpty(sets.Effective.Names())) {
			t.Errorf("capabilities %+v, kernel says %v", r.Capabilities, sets)
		}
		if r.Landlock.Enforced != "unknown" {
			t.Errorf("Landlock enforcement %q, want unknown", r.Landlock.Enforced)
		}
		if r.Cgroup.Err != "" || len(r.Cgroup.Paths) == 0 {
			t.Errorf("cgroups: %+v", r.Cgroup)
		}
		if _, err := r.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInspectPresets checks the kind of live sandboxes started from the presets that
// turn the hardening off.
func TestInspectPresets(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, tc := range []struct {
			kind string
			opt  sandbox.Option
		}{{inspect.KindPrivileged, sandbox.Privileged()}, {inspect.KindSuperPrivileged, sandbox.SuperPrivileged()}} {
			t.Run(tc.kind, func(t *testing.T) {
				p := startSleeper(t, tc.opt)
				r, err := inspect.ProcessAgainst(p.Pid(), os.Getpid())
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind != tc.kind || r.Rootless != testutil.Rootless() {
					var b bytes.Buffer
					r.WriteText(&b)
					t.Errorf("Kind %q rootless %v, want %q %v\n%s", r.Kind, r.Rootless, tc.kind, testutil.Rootless(), b.String())
				}
				if tc.kind == inspect.KindSuperPrivileged && !slices.Contains(r.Mounts.HostRoot, "/host") {
					t.Errorf("host root seen at %q, want /host", r.Mounts.HostRoot)
				}
			})
		}
	})
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestInspectSelfIsHost(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		r, err := inspect.Self()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range r.Namespaces {
			if n.Err == "" && n.State == inspect.NSNew {
				t.Errorf("the test process has a new %s namespace: %+v", n.Kind, n)
			}
		}
		if r.Kind != inspect.KindHost || r.Rootless {
			t.Errorf("Kind %q rootless %v, want host (reasons %q)", r.Kind, r.Rootless, r.Reasons)
		}
		if r.UID != os.Geteuid() || r.GID != os.Getegid() {
			t.Errorf("uid/gid %d/%d, want %d/%d", r.UID, r.GID, os.Geteuid(), os.Getegid())
		}
		if r.NoNewPrivs {
			t.Error("no_new_privs reported on the test process")
		}
		if len(r.Reasons) == 0 {
			t.Error("no reasons")
		}
	})
}

func TestInspectMissingProcess(t *testing.T) {
	if _, err := inspect.Process(1 << 30); err == nil {
		t.Fatal("Process of a pid that cannot exist succeeded")
	}
}

// report builds a Report as Process would fill it, with the given namespace states.
func report(states map[namespace.Kind]inspect.NSState) *inspect.Report {
	r := &inspect.Report{Reference: "pid 100", RefPID: 100}
	for _, k := range namespace.Kinds {
		st, ok := states[k]
		if !ok {
			st = inspect.NSShared
		}
		r.Namespaces = append(r.Namespaces, inspect.NamespaceReport{Kind: k, State: st})
	}
	r.UIDMap = []namespace.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}
	r.Capabilities = inspect.CapabilityReport{Dropped: []string{}, Baseline: "the bounding set of pid 100"}
	r.Seccomp = inspect.SeccompReport{Mode: "disabled", Filters: 0}
	r.Mounts = inspect.MountReport{Masked: []string{}, ReadOnly: []string{}}
	return r
}

func TestClassify(t *testing.T) {
	container := map[namespace.Kind]inspect.NSState{}
	for _, k := range containerKinds {
		container[k] = inspect.NSNew
	}
	withUser := func(m map[namespace.Kind]inspect.NSState) map[namespace.Kind]inspect.NSState {
		c := map[namespace.Kind]inspect.NSState{namespace.User: inspect.NSNew}
		for k, v := range m {
			c[k] = v
		}
		return c
	}
	hardened := func(r *inspect.Report) {
		r.Capabilities.Dropped = (caps.Full() &^ caps.DockerDefault).Names()
		r.Seccomp = inspect.SeccompReport{Mode: "filter", Filters: 1}
		r.Mounts.Masked = []string{"/proc/kcore", "/sys/firmware"}
		r.Mounts.ReadOnly = []string{"/proc/sys"}
		r.NoNewPrivs = true
	}
	rootlessMap := func(r *inspect.Report) {
		r.UIDMap = []namespace.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}
	}
	tests := []struct {
		name     string
		states   map[namespace.Kind]inspect.NSState
		edit     func(*inspect.Report)
		kind     string
		rootless bool
		reason   string
	}{
		{"host", nil, nil, inspect.KindHost, false, "no namespace is new"},
		{"host with unknowns", map[namespace.Kind]inspect.NSState{namespace.Time: inspect.NSUnknown}, nil, inspect.KindHost, false, "could not judge the time"},
		{"every namespace unknown", func() map[namespace.Kind]inspect.NSState {
			m := map[namespace.Kind]inspect.NSState{}
			for _, k := range namespace.Kinds {
				m[k] = inspect.NSUnknown
			}
			return m
		}(), nil, inspect.KindHost, false, "no namespace is known to be new"},
		{"rootful", container, hardened, inspect.KindRootful, false, "no new user namespace: root inside is root outside"},
		{"rootless", withUser(container), func(r *inspect.Report) { hardened(r); rootlessMap(r) }, inspect.KindRootless, true, "root inside is uid 1000 outside"},
		{"rootless range map", withUser(container), func(r *inspect.Report) {
			hardened(r)
			r.UIDMap = []namespace.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 65536}}
		}, inspect.KindRootless, true, "root inside is uid 1000 outside"},
		{"user namespace mapping root", withUser(container), func(r *inspect.Report) {
			hardened(r)
			r.UIDMap = []namespace.IDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		}, inspect.KindRootful, false, "root inside is root (uid 0) outside"},
		{"root unmapped", withUser(container), func(r *inspect.Report) {
			hardened(r)
			r.UIDMap = []namespace.IDMap{{ContainerID: 1000, HostID: 1000, Size: 1}}
		}, inspect.KindRootless, true, "root inside is not mapped"},
		{"only seccomp", container, func(r *inspect.Report) { r.Seccomp = inspect.SeccompReport{Mode: "filter", Filters: 2} }, inspect.KindRootful, false, "seccomp filter mode with 2 filters"},
		{"only masks", container, func(r *inspect.Report) { r.Mounts.Masked = []string{"/proc/kcore"} }, inspect.KindRootful, false, "1 path masked"},
		{"only caps", container, func(r *inspect.Report) { r.Capabilities.Dropped = []string{"CAP_SYS_ADMIN"} }, inspect.KindRootful, false, "1 capability dropped"},
		{"privileged", container, nil, inspect.KindPrivileged, false, "all capabilities, no seccomp and no masks"},
		{"privileged rootless", withUser(container), rootlessMap, inspect.KindPrivileged, true, "root inside is uid 1000 outside"},
		{"no baseline", container, func(r *inspect.Report) {
			r.Capabilities.Dropped, r.Capabilities.Baseline = []string{"CAP_SYS_RESOURCE"}, "every capability of the kernel"
		}, inspect.KindRootful, false, "that the host itself lacks (CAP_SYS_RESOURCE)"},
		{"mounts unknown", container, func(r *inspect.Report) { r.Mounts.Err = "permission denied" }, inspect.KindRootful, false, "mounts unknown"},
		{"super-privileged", map[namespace.Kind]inspect.NSState{namespace.Mount: inspect.NSNew}, func(r *inspect.Report) {
			r.Mounts.HostRoot = []string{"/host"}
		}, inspect.KindSuperPrivileged, false, "the host's / is visible at /host: super-privileged"},
		{"super-privileged without /host", map[namespace.Kind]inspect.NSState{namespace.Mount: inspect.NSNew, namespace.UTS: inspect.NSNew}, nil,
			inspect.KindSuperPrivileged, false, "not visible at /host"},
		{"host network only", func() map[namespace.Kind]inspect.NSState {
			m := map[namespace.Kind]inspect.NSState{}
			for k, v := range container {
				m[k] = v
			}
			m[namespace.Net] = inspect.NSShared
			return m
		}(), hardened, inspect.KindRootful, false, "new namespaces: mnt, pid, ipc, uts, cgroup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report(tt.states)
			if tt.edit != nil {
				tt.edit(r)
			}
			r.Classify()
			if r.Kind != tt.kind || r.Rootless != tt.rootless {
				t.Errorf("Kind %q rootless %v, want %q %v; reasons:\n%s", r.Kind, r.Rootless, tt.kind, tt.rootless, strings.Join(r.Reasons, "\n"))
			}
			if !slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.Contains(s, tt.reason) }) {
				t.Errorf("no reason mentions %q:\n%s", tt.reason, strings.Join(r.Reasons, "\n"))
			}
			var b bytes.Buffer
			if err := r.WriteText(&b); err != nil || !strings.Contains(b.String(), tt.kind) {
				t.Errorf("WriteText: %v\n%s", err, b.String())
			}
		})
	}
}

// TestInspectFromInside builds examples/inspect and runs it inside a default sandbox:
// what it sees of itself must agree with what the parent sees from outside.
func TestInspectFromInside(t *testing.T) {
	testutil.ModesWith(t, "PADDOCK_INSPECT_BIN", buildInspect, inspectInsideAll)
}

// buildInspect builds examples/inspect into a directory that uid 65534 can reach.
func buildInspect(t *testing.T) string {
	t.Helper()
	return testutil.BuildForNobody(t, "../examples/inspect", "inspect")
}

func inspectInsideAll(t *testing.T, bin string) {
	t.Run("default", func(t *testing.T) { inspectInside(t, bin) })
	t.Run("privileged", func(t *testing.T) { inspectInside(t, bin, sandbox.Privileged()) })
}

// inspectInside runs the inspect binary in a sandbox that keeps it alive on stdin
// and compares the JSON it prints with ProcessAgainst from outside.
func inspectInside(t *testing.T, bin string, opts ...sandbox.Option) {
	const target = "/paddock-inspect"
	opts = append(opts, sandbox.WithBind(filepath.Dir(bin), target, true))
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	var out, errOut bytes.Buffer
	// The shell stays as the sandbox's first process while inspect runs, so that the
	// outside view is taken of the same namespaces.
	stdin, feed, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	defer feed.Close()
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args:  []string{"/bin/sh", "-c", "read x; exec " + target + "/" + filepath.Base(bin) + " --json"},
		Stdin: stdin, Stdout: &out, Stderr: &errOut,
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	stdin.Close()
	outside, err := inspect.ProcessAgainst(p.Pid(), os.Getpid())
	feed.Write([]byte("go\n"))
	feed.Close()
	st, werr := p.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if werr != nil || !st.Success() {
		t.Fatalf("inspect in the sandbox: %v %v\n%s%s", st, werr, out.String(), errOut.String())
	}
	var inside inspect.Report
	if err := json.Unmarshal(out.Bytes(), &inside); err != nil {
		t.Fatalf("inspect printed %v:\n%s%s", err, out.String(), errOut.String())
	}
	t.Logf("inside: %s %v\noutside: %s %v", inside.Kind, inside.Reasons, outside.Kind, outside.Reasons)
	for _, k := range namespace.Kinds {
		in, out := inside.Get(k), outside.Get(k)
		if in.Inode != out.Inode || in.State != out.State {
			t.Errorf("%s: inside %+v, outside %+v", k, in, out)
		}
	}
	if !slices.Equal(inside.UIDMap, outside.UIDMap) || !slices.Equal(inside.GIDMap, outside.GIDMap) {
		t.Errorf("maps inside %v %v, outside %v %v", inside.UIDMap, inside.GIDMap, outside.UIDMap, outside.GIDMap)
	}
	ic, oc := inside.Capabilities, outside.Capabilities
	if !slices.Equal(ic.Bounding, oc.Bounding) || !slices.Equal(ic.Effective, oc.Effective) || !slices.Equal(ic.Permitted, oc.Permitted) ||
		!slices.Equal(ic.Inheritable, oc.Inheritable) || !slices.Equal(ic.Ambient, oc.Ambient) {
		t.Errorf("capabilities inside %+v, outside %+v", ic, oc)
	}
	if inside.Seccomp.Mode != outside.Seccomp.Mode || inside.NoNewPrivs != outside.NoNewPrivs {
		t.Errorf("seccomp/no_new_privs inside %+v %v, outside %+v %v", inside.Seccomp, inside.NoNewPrivs, outside.Seccomp, outside.NoNewPrivs)
	}
	// Inside, the i386 gate is what the kernel and the sandbox's filter make of it.
	host, err := seccomp.I386Gate()
	if err != nil {
		t.Fatal(err)
	}
	want := host
	if inside.Seccomp.Mode == "filter" && host == seccomp.I386Open {
		want = seccomp.I386Filtered
	}
	if inside.Seccomp.I386 != want {
		t.Errorf("i386 gate inside %q, want %q (outside, the kernel's is %q)", inside.Seccomp.I386, want, host)
	}
	if !slices.Equal(inside.Mounts.Masked, outside.Mounts.Masked) || !slices.Equal(inside.Mounts.ReadOnly, outside.Mounts.ReadOnly) {
		t.Errorf("masks inside %+v, outside %+v", inside.Mounts, outside.Mounts)
	}
	if inside.Rootless != outside.Rootless {
		t.Errorf("rootless inside %v, outside %v", inside.Rootless, outside.Rootless)
	}
	// From inside, the bounding set can only be compared with every capability of the
	// kernel: one that the host itself lacks counts as dropped there, and the kinds
	// may then differ between privileged and rootful. They must agree otherwise.
	if slices.Equal(ic.Dropped, oc.Dropped) && inside.Kind != outside.Kind {
		t.Errorf("kind inside %q (rootless %v), outside %q (rootless %v)", inside.Kind, inside.Rootless, outside.Kind, outside.Rootless)
	}
}
