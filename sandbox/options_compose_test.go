package sandbox_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// A base is an option that a Builder starts from: a preset or WithSpec.
type base struct {
	name string
	opt  sandbox.Option
	kind string
	// hostUTS says that the base shares the host's uts namespace, where a
	// hostname cannot be set.
	hostUTS bool
}

// bases returns the bases a caller of this euid can build: Rootful only for root.
func bases(t *testing.T) []base {
	t.Helper()
	fromJSON := sandbox.DefaultSpec()
	fromJSON.Hostname = "fromjson"
	fromJSON.Env = append(fromJSON.Env, "FROM=json")
	data, err := fromJSON.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON, err = sandbox.ParseSpec(data); err != nil {
		t.Fatal(err)
	}
	bs := []base{
		{name: "Rootless", opt: sandbox.Rootless(), kind: inspect.KindRootless},
		{name: "SuperPrivileged", opt: sandbox.SuperPrivileged(), kind: inspect.KindSuperPrivileged, hostUTS: true},
		{name: "WithSpec", opt: sandbox.WithSpec(fromJSON), kind: fromJSON.Kind},
	}
	if os.Geteuid() == 0 {
		bs = append(bs, base{name: "Rootful", opt: sandbox.Rootful(), kind: inspect.KindRootful})
	}
	return bs
}

// edits are ordinary options of every kind a preset sets or leaves alone:
// hostname, bind, environment, capabilities, limits.
func edits(bindSource string, hostname bool) []sandbox.Option {
	opts := []sandbox.Option{
		sandbox.WithBind(bindSource, "/mnt/compose", true),
		sandbox.WithEnv("GREETING=hi"),
		sandbox.WithCaps("CHOWN"),
		sandbox.WithRlimit("nofile", 123, 123),
		sandbox.WithPidsLimit(77),
		sandbox.WithTimeLimit(time.Minute),
	}
	if hostname {
		opts = append(opts, sandbox.WithHostname("box"))
	}
	return opts
}

// checkEdits reports what of edits is missing from spec.
func checkEdits(t *testing.T, spec *sandbox.Spec, bindSource string, hostname bool) {
	t.Helper()
	if hostname && spec.Hostname != "box" {
		t.Errorf("hostname %q, want box", spec.Hostname)
	}
	bind := mounts.Bind{Source: bindSource, Target: "/mnt/compose", ReadOnly: true, Recursive: true}
	if !slices.Contains(spec.Mounts.Binds, bind) {
		t.Errorf("binds %+v lack %+v", spec.Mounts.Binds, bind)
	}
	if !slices.Contains(spec.Env, "GREETING=hi") || !slices.ContainsFunc(spec.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		t.Errorf("env %q, want the base's PATH and GREETING=hi", spec.Env)
	}
	if !reflect.DeepEqual(spec.Caps.Bounding, []string{"CHOWN"}) {
		t.Errorf("bounding set %q, want CHOWN only", spec.Caps.Bounding)
	}
	if !slices.Contains(spec.Rlimits, sandbox.Rlimit{Type: "nofile", Soft: 123, Hard: 123}) {
		t.Errorf("rlimits %+v lack nofile 123", spec.Rlimits)
	}
	if r := spec.Cgroup.Resources; r == nil || r.Pids != 77 {
		t.Errorf("resources %+v, want a pids limit of 77", r)
	}
	if spec.Limits.WallTime != time.Minute {
		t.Errorf("wall-time limit %v, want 1m", spec.Limits.WallTime)
	}
}

// TestOptionsBeforeBase: options written before a preset or WithSpec survive
// it: the composed Spec is the one with the base first.
func TestOptionsBeforeBase(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, b := range bases(t) {
			t.Run(b.name, func(t *testing.T) {
				before := sandbox.NewBuilder(append(edits("/src", !b.hostUTS), b.opt)...).Spec()
				checkEdits(t, before, "/src", !b.hostUTS)
				if before.Kind != b.kind {
					t.Errorf("kind %q, want the base's %q", before.Kind, b.kind)
				}
				after := sandbox.NewBuilder(append([]sandbox.Option{b.opt}, edits("/src", !b.hostUTS)...)...).Spec()
				if !reflect.DeepEqual(before, after) {
					t.Errorf("options before the base give\n%+v\nafter it\n%+v", before, after)
				}
			})
		}
	})
}

// TestOptionAfterBaseWins: an option after a preset wins over what the preset
// sets, the last base wins over earlier ones, and Privileged edits the Spec
// where it stands.
func TestOptionAfterBaseWins(t *testing.T) {
	spec := sandbox.NewBuilder(sandbox.Rootless(), sandbox.WithCaps("CHOWN"), sandbox.WithPidsLimit(5), sandbox.WithoutSeccomp()).Spec()
	if !reflect.DeepEqual(spec.Caps.Bounding, []string{"CHOWN"}) || spec.Cgroup.Resources.Pids != 5 || spec.Seccomp.Mode != sandbox.SeccompUnconfined {
		t.Errorf("options after Rootless lost: caps %q, resources %+v, seccomp %q", spec.Caps.Bounding, spec.Cgroup.Resources, spec.Seccomp.Mode)
	}
	spec = sandbox.NewBuilder(sandbox.Rootful(), sandbox.WithHostname("a"), sandbox.Rootless()).Spec()
	if spec.Kind != inspect.KindRootless || spec.Hostname != "a" {
		t.Errorf("Rootful, hostname, Rootless: kind %q hostname %q, want rootless and a", spec.Kind, spec.Hostname)
	}
	if got := sandbox.NewBuilder(sandbox.WithCaps("CHOWN"), sandbox.Privileged()).Spec().Caps.Bounding; !reflect.DeepEqual(got, []string{"ALL"}) {
		t.Errorf("WithCaps before Privileged: bounding %q, want ALL: Privileged edits where it stands", got)
	}
	if got := sandbox.NewBuilder(sandbox.Privileged(), sandbox.WithCaps("CHOWN")).Spec().Caps.Bounding; !reflect.DeepEqual(got, []string{"CHOWN"}) {
		t.Errorf("WithCaps after Privileged: bounding %q, want CHOWN", got)
	}
	spec = sandbox.NewBuilder(sandbox.Privileged(), sandbox.Rootless()).Spec()
	if spec.Kind != inspect.KindPrivileged || !spec.Privileged || spec.Namespaces.Mode(namespace.User) != namespace.New {
		t.Errorf("Privileged before Rootless: kind %q, privileged %v, user ns %v: want a privileged rootless Spec", spec.Kind, spec.Privileged, spec.Namespaces.Mode(namespace.User))
	}
}

// TestUserNSOptionsBeforeRootless: Rootless sets an automatic ID range for a
// root caller; WithUserNS, WithoutUserNS and WithAutoUserNS before it still
// decide the user namespace.
func TestUserNSOptionsBeforeRootless(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		maps := []namespace.IDMap{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
		spec := sandbox.NewBuilder(sandbox.WithUserNS(maps, maps), sandbox.Rootless()).Spec()
		ns := spec.Namespaces
		if ns.Auto != nil || !reflect.DeepEqual(ns.UIDMap, maps) || ns.Mode(namespace.User) != namespace.New {
			t.Errorf("WithUserNS before Rootless: auto %+v, uid map %+v", ns.Auto, ns.UIDMap)
		}
		ns = sandbox.NewBuilder(sandbox.WithoutUserNS(), sandbox.Rootless()).Spec().Namespaces
		if ns.Auto != nil || ns.Mode(namespace.User) != namespace.Host {
			t.Errorf("WithoutUserNS before Rootless: auto %+v, user ns %v", ns.Auto, ns.Mode(namespace.User))
		}
		r := namespace.AutoRange{Size: 4096, User: "someone"}
		ns = sandbox.NewBuilder(sandbox.WithAutoUserNS(r), sandbox.Rootless()).Spec().Namespaces
		if ns.Auto == nil || ns.Auto.Size != 4096 || ns.Auto.User != "someone" {
			t.Errorf("WithAutoUserNS before Rootless: auto %+v, want %+v", ns.Auto, r)
		}
	})
}

// inside runs a script that shows the edits from inside a sandbox of opts: the
// hostname (box, or the host's where the base shares its uts namespace), the
// file bound from dir, the environment, the nofile rlimit and the bounding set.
func inside(t *testing.T, opts []sandbox.Option, dir string, hostname bool) {
	t.Helper()
	name := "box"
	if !hostname {
		var err error
		if name, err = os.Hostname(); err != nil {
			t.Fatal(err)
		}
	}
	out := sh(t, opts, `hostname; cat /mnt/compose/f; echo "$GREETING"; ulimit -n; grep CapBnd /proc/self/status`)
	want := name + "\nbound\nhi\n123\nCapBnd:\t0000000000000001\n"
	if out != want {
		t.Errorf("inside, with %s bound at /mnt/compose: got\n%s\nwant\n%s", dir, out, want)
	}
}

// composeDir returns a directory holding the file f, for a bind.
func composeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("bound\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOptionsBeforeBaseInside: the hostname, bind, environment, capabilities and
// rlimit written before each base are what a real sandbox sees.
func TestOptionsBeforeBaseInside(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := composeDir(t)
		for _, b := range bases(t) {
			t.Run(b.name, func(t *testing.T) {
				opts := edits(dir, !b.hostUTS)
				if b.name == "Rootless" && os.Geteuid() == 0 {
					// Root's Rootless draws from an automatic range: one of the
					// test's own, written before Rootless, must survive it.
					opts = append(opts, sandbox.WithAutoUserNS(testRange(t)))
				}
				inside(t, append(opts, b.opt), dir, !b.hostUTS)
			})
		}
	})
}

// TestWithAfterBuild: With after Build composes as NewBuilder does and leaves
// the Template already built alone.
func TestWithAfterBuild(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := composeDir(t)
		b := sandbox.NewBuilder(sandbox.WithHostname("first"))
		first, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		preset := sandbox.Rootless()
		if os.Geteuid() == 0 {
			preset = sandbox.Rootful()
		}
		b.With(edits(dir, true)...).With(preset)
		checkEdits(t, b.Spec(), dir, true)
		if s := first.Spec(); s.Hostname != "first" || len(s.Mounts.Binds) != 0 {
			t.Errorf("the first Template changed: hostname %q, binds %+v", s.Hostname, s.Mounts.Binds)
		}
		second, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		out, _ := runTemplate(t, second, "/bin/sh", "-c", `hostname; cat /mnt/compose/f; echo "$GREETING"; ulimit -n`)
		if out != "box\nbound\nhi\n123\n" {
			t.Errorf("inside the second Template: %q, want box, bound, hi, 123", out)
		}
	})
}
