package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// startFails builds opts, starts args and checks that the start fails at stage with
// errno, and that nothing of the attempt remains: no child, no descriptor.
func startFails(t *testing.T, opts []sandbox.Option, args []string, stage string, errno syscall.Errno) *sandbox.ChildError {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	before := testutil.OpenFDs(t)
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: args})
	if err == nil {
		st, _ := p.Wait()
		t.Fatalf("start succeeded (%v); want a failure at %s", st, stage)
	}
	var ce *sandbox.ChildError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ChildError, got %T: %v", err, err)
	}
	if !errors.Is(err, sandbox.ErrSetup) || !errors.Is(err, errno) {
		t.Errorf("%v should match ErrSetup and %v", err, errno)
	}
	if ce.Stage != stage {
		t.Errorf("failed at stage %q (%v), want %q", ce.Stage, err, stage)
	}
	if after := testutil.OpenFDs(t); after != before {
		t.Errorf("descriptors: %d before the start, %d after", before, after)
	}
	testutil.NoChildren(t)
	return ce
}

func TestChildFailures(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Run("exec not found", func(t *testing.T) {
			ce := startFails(t, nil, []string{"no-such-program"}, "exec", syscall.ENOENT)
			if !ce.NotFound() || ce.NotExecutable() {
				t.Errorf("NotFound=%v NotExecutable=%v", ce.NotFound(), ce.NotExecutable())
			}
		})
		t.Run("exec not executable", func(t *testing.T) {
			ce := startFails(t, nil, []string{"/etc/passwd"}, "exec", syscall.EACCES)
			if !ce.NotExecutable() {
				t.Errorf("NotExecutable=false")
			}
		})
		t.Run("workdir", func(t *testing.T) {
			ce := startFails(t, []sandbox.Option{sandbox.WithWorkdir("/no/such/dir")}, []string{"/bin/true"}, "workdir", syscall.ENOENT)
			if !strings.Contains(ce.Error(), "/no/such/dir") {
				t.Errorf("error does not name the directory: %v", ce)
			}
		})
		t.Run("rlimits", func(t *testing.T) {
			var cur syscall.Rlimit
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur)
			if !testutil.Rootless() {
				// Above the kernel's fs.nr_open nobody may go, not even root.
				startFails(t, []sandbox.Option{sandbox.WithRlimit("nofile", 1<<30, 1<<30)}, []string{"/bin/true"}, "rlimits", syscall.EPERM)
				return
			}
			startFails(t, []sandbox.Option{sandbox.WithRlimit("nofile", cur.Max+1, cur.Max+1)}, []string{"/bin/true"}, "rlimits", syscall.EPERM)
		})
		if !testutil.Rootless() {
			// The kernel refuses to re-enter the user namespace one is already in
			// (EINVAL): a namespace step that passes validation and fails in the
			// child. (Rootless, Build refuses the Spec first: TestNamespaceOwner.)
			t.Run("namespaces", func(t *testing.T) {
				startFails(t, []sandbox.Option{sandbox.WithJoinNamespace(namespace.User, "/proc/self/ns/user")},
					[]string{"/bin/true"}, "namespaces", syscall.EINVAL)
			})
		}
	})
}

func TestBuildErrors(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		cases := []struct {
			name string
			opts []sandbox.Option
		}{
			{"unknown namespace", []sandbox.Option{sandbox.WithNamespaces("bogus")}},
			{"join missing path", []sandbox.Option{sandbox.WithJoinNamespace(namespace.Net, "/no/such/ns")}},
			{"join wrong kind", []sandbox.Option{sandbox.WithJoinNamespace(namespace.Net, "/proc/self/ns/uts")}},
			{"overlapping uid ranges", []sandbox.Option{sandbox.WithUserNS(
				[]namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 100}, {ContainerID: 50, HostID: 200000, Size: 100}}, nil)}},
			{"zero-size map", []sandbox.Option{sandbox.WithUserNS([]namespace.IDMap{{ContainerID: 0, HostID: 0, Size: 0}}, nil)}},
			{"relative workdir", []sandbox.Option{sandbox.WithWorkdir("tmp")}},
			{"bad env", []sandbox.Option{sandbox.WithEnv("NOEQUALS")}},
			{"unknown rlimit", []sandbox.Option{sandbox.WithRlimit("RLIMIT_BOGUS", 1, 1)}},
			{"soft above hard", []sandbox.Option{sandbox.WithRlimit("nofile", 10, 5)}},
			{"hostname without uts", []sandbox.Option{sandbox.WithHostname("x"), sandbox.WithHostNamespaces(namespace.UTS)}},
			{"init without pid namespace", []sandbox.Option{sandbox.WithInit(), sandbox.WithHostNamespaces(namespace.PID)}},
			{"vfork with init", []sandbox.Option{sandbox.WithInit(), sandbox.WithSpawnMode(sandbox.SpawnVfork)}},
			{"unknown spawn mode", []sandbox.Option{sandbox.WithSpawnMode("clone")}},
		}
		if testutil.Rootless() {
			cases = append(cases, struct {
				name string
				opts []sandbox.Option
			}{"unmappable range", []sandbox.Option{sandbox.WithUserNS([]namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}, nil)}})
		}
		// The first descriptor the runtime's poller opens stays open: warm it up.
		if tpl, err := sandbox.NewBuilder().Build(); err == nil {
			tpl.Close()
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := testutil.OpenFDs(t)
				_, err := sandbox.NewBuilder(c.opts...).Build()
				if err == nil {
					t.Fatal("Build succeeded")
				}
				if !errors.Is(err, sandbox.ErrInvalidSpec) {
					t.Fatalf("%v does not match ErrInvalidSpec", err)
				}
				var se *sandbox.SpecError
				if !errors.As(err, &se) || se.Field == "" {
					t.Fatalf("%v is not a *SpecError naming a field", err)
				}
				if after := testutil.OpenFDs(t); after != before {
					t.Errorf("Build leaked descriptors: %d -> %d", before, after)
				}
			})
		}
	})
}

func TestNewIDMapMissing(t *testing.T) {
	testutil.AsNobody(t, func(t *testing.T) {
		t.Setenv("PATH", "/nonexistent")
		maps := []namespace.IDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}, {ContainerID: 1, HostID: 100000, Size: 10}}
		_, err := sandbox.NewBuilder(sandbox.WithUserNS(maps, maps)).Build()
		if !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Fatalf("range maps without newuidmap: %v", err)
		}
	})
}

func TestStartAfterClose(t *testing.T) {
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	tpl.Close()
	if _, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}}); !errors.Is(err, sandbox.ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("start after Close: %v", err)
	}
}

func TestEmptyCommand(t *testing.T) {
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	if _, err := tpl.Start(context.Background(), sandbox.Command{}); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Fatalf("empty command: %v", err)
	}
	_ = os.Stdout
}

// TestNamespaceOwner checks that Build refuses namespaces the child could not create
// or enter: for a caller without CAP_SYS_ADMIN, new namespaces outside a new or
// joined user namespace. (A joined pid namespace is taken: see TestHandover.)
func TestNamespaceOwner(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		type buildCase struct {
			name, field string
			opts        []sandbox.Option
		}
		// Root may create every namespace; rootless, joining any namespace from a
		// new user namespace is refused earlier (TestBuildErrors).
		var cases []buildCase
		if testutil.Rootless() {
			cases = []buildCase{
				{"no user namespace", "namespaces.mnt", []sandbox.Option{sandbox.WithoutUserNS()}},
				{"new pid outside the joined user namespace", "namespaces.pid", []sandbox.Option{sandbox.WithJoinNamespace(namespace.User, "/proc/self/ns/user")}},
			}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := sandbox.NewBuilder(c.opts...).Build()
				var ue *sandbox.SpecError
				if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &ue) || ue.Field != c.field {
					t.Fatalf("Build = %v, want a not-supported *SpecError naming %s", err, c.field)
				}
			})
		}
	})
}

// TestOptionsLastWins: where two options say opposite things, the later one wins,
// in either order; neither order is an error.
func TestOptionsLastWins(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []sandbox.Option
		check func(s *sandbox.Spec) bool
	}{
		{"cgroup, then none", []sandbox.Option{sandbox.WithMemoryLimit(64 << 20), sandbox.WithoutCgroup()},
			// The memory limit has no rlimit fallback here and goes; the presets'
			// pids limit has one and stays, as RLIMIT_NPROC.
			func(s *sandbox.Spec) bool {
				r := s.Cgroup.Resources
				return s.NoCgroup && r != nil && r.Memory == 0 && r.Pids == sandbox.DefaultPidsLimit
			}},
		{"none, then cgroup", []sandbox.Option{sandbox.WithoutCgroup(), sandbox.WithMemoryLimit(64 << 20)},
			func(s *sandbox.Spec) bool { return !s.NoCgroup && s.Cgroup.Resources.Memory == 64<<20 }},
		{"rootfs, then none", []sandbox.Option{sandbox.WithRootfs("/"), sandbox.WithoutRootfs()},
			func(s *sandbox.Spec) bool { return s.NoRootfs && len(s.Rootfs.Lower) == 0 }},
		{"none, then rootfs", []sandbox.Option{sandbox.WithoutRootfs(), sandbox.WithRootfs("/")},
			func(s *sandbox.Spec) bool { return !s.NoRootfs && len(s.Rootfs.Lower) == 1 }},
		{"shared net, then host", []sandbox.Option{sandbox.WithSharedNetNS(), sandbox.WithHostNamespaces(namespace.Net)},
			func(s *sandbox.Spec) bool {
				return !s.SharedNetNS && s.Namespaces.Mode(namespace.Net) == namespace.Host
			}},
		{"host net, then shared", []sandbox.Option{sandbox.WithHostNamespaces(namespace.Net), sandbox.WithSharedNetNS()},
			func(s *sandbox.Spec) bool { return s.SharedNetNS && s.Namespaces.Mode(namespace.Net) == namespace.New }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := sandbox.NewBuilder(c.opts...)
			if s := b.Spec(); !c.check(s) {
				t.Errorf("the later option did not win: %+v", s)
			}
			if err := b.Spec().Validate(); err != nil && !errors.Is(err, sandbox.ErrNotSupported) {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestErrorsSayFieldOnce: a Build error names its field once, although the domain
// package's own error names its package too.
func TestErrorsSayFieldOnce(t *testing.T) {
	for _, opts := range [][]sandbox.Option{
		{sandbox.WithCaps("CAP_BOGUS")},
		{sandbox.WithCPUs(-1)},
		{sandbox.WithCapDrop("BOGUS")},
	} {
		_, err := sandbox.NewBuilder(opts...).Build()
		if err == nil {
			t.Fatal("Build succeeded")
		}
		msg := err.Error()
		for _, twice := range []string{"capabilities: capabilities:", "cgroup: cgroup:"} {
			if strings.Contains(msg, twice) {
				t.Errorf("%q says %q", msg, twice)
			}
		}
	}
}

// TestDanglingCommand: a command that is a symbolic link leading nowhere in the
// sandbox's root (a root whose /bin/sh links to a busybox it lacks) fails with an
// error that names the link and its target, not only "no such file".
func TestDanglingCommand(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		root := testutil.SharedTempDir(t, "paddock-dangling-")
		for _, d := range []string{"bin", "proc", "dev", "sys", "tmp"} {
			if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("/bin/busybox", filepath.Join(root, "bin/sh")); err != nil {
			t.Fatal(err)
		}
		ce := startFails(t, []sandbox.Option{sandbox.WithRootfs(root), sandbox.WithoutCgroup()}, []string{"/bin/sh"}, "exec", syscall.ENOENT)
		if !strings.Contains(ce.Error(), "/bin/sh is a symbolic link to /bin/busybox") || !ce.NotFound() {
			t.Errorf("%v: does not name the link and its target", ce)
		}
	})
}
