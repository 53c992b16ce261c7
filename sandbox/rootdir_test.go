package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// TestRootDir runs a shell in a busybox directory that is the sandbox's root
// itself: what it writes lands in the directory on the host, its root is that
// directory's bind and not an overlay, and neither "/.." nor anything else leads
// out of it to the host's "/".
func TestRootDir(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		canary := testutil.SharedTempDir(t, "paddock-canary-")
		leavesNothing(t, func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir)}, `
echo written > /written && mkdir -p /new/deep && echo deep > /new/deep/file
ls -A /.. | tr '\n' ' '; echo
ls -A / | tr '\n' ' '; echo
[ -e /../../`+filepath.Base(canary)+` ] || [ -e /`+filepath.Base(canary)+` ] || [ -e /`+filepath.Base(dir)+` ] && echo HOST-VISIBLE
echo @@
cat /proc/self/mountinfo`)
			listing, table, _ := strings.Cut(out, "@@\n")
			lines := strings.Split(listing, "\n")
			if strings.Contains(listing, "HOST-VISIBLE") || len(lines) < 2 || lines[0] != lines[1] {
				t.Errorf("/.. is not / or the host shows through:\n%s", listing)
			}
			for _, f := range []struct{ path, want string }{{"written", "written\n"}, {"new/deep/file", "deep\n"}} {
				if got, err := os.ReadFile(filepath.Join(dir, f.path)); err != nil || string(got) != f.want {
					t.Errorf("the write of /%s did not land in %s: %q, %v", f.path, dir, got, err)
				}
			}
			ms, err := mountinfo.GetMountsFromReader(strings.NewReader(table), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 || ms[0].Mountpoint != "/" || ms[0].FSType == "overlay" {
				t.Errorf("the root mount is not the directory's bind: %+v", ms)
			}
			for _, m := range ms {
				if m.Mountpoint == "/" && m.Root == "/" && m.FSType != "tmpfs" {
					t.Errorf("a root of a host filesystem is the sandbox's /: %+v", m)
				}
			}
		})
		// The default mounts' mount points were made in the directory; nothing
		// else of the setup is left in it.
		for _, d := range []string{"proc", "sys", "dev"} {
			if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
				t.Errorf("/%s: %v", d, err)
			}
		}
		if names, _ := os.ReadDir(filepath.Join(dir, "dev")); len(names) != 0 {
			t.Errorf("the sandbox's /dev left %d entries in the directory", len(names))
		}
	})
}

// TestRootDirReadonly: a read-only root directory refuses writes with EROFS,
// which never reach the host's directory; the kernel filesystems and tmpfs
// mounted in it stay writable.
func TestRootDirReadonly(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		leavesNothing(t, func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithReadonlyRootfs()}, `
for p in /x /tmp/x /etc/x /dev/x /dev/shm/x; do
	if touch $p 2>/dev/null; then echo "$p writable"; else echo "$p $(touch $p 2>&1 | grep -c 'Read-only file system')"; fi
done`)
			for _, want := range []string{"/x 1", "/tmp/x 1", "/etc/x 1", "/dev/x writable", "/dev/shm/x writable"} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("want %q in:\n%s", want, out)
				}
			}
		})
		for _, p := range []string{"x", "tmp/x", "etc/x"} {
			if _, err := os.Lstat(filepath.Join(dir, p)); err == nil {
				t.Errorf("%s appeared in the read-only directory", p)
			}
		}
	})
}

// TestRootDirHostile: a root directory is as hostile as any image. A symbolic
// link planted where a mount point goes (to a host directory, or out through
// ".."), or a file where /proc should be, fails the step with a *ChildError
// naming the path; nothing outside the directory changes and nothing is left
// behind.
func TestRootDirHostile(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		canary := testutil.SharedTempDir(t, "paddock-canary-")
		if err := os.WriteFile(filepath.Join(canary, "secret"), []byte("host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		up := strings.Repeat("../", 16) + strings.TrimPrefix(canary, "/")
		for _, tc := range []struct {
			name, at string
			plant    func(p string) error
			opts     []sandbox.Option
		}{
			{"symlink to a host directory at /proc", "/proc", func(p string) error { return os.Symlink(canary, p) }, nil},
			{"symlink out through .. at /dev", "/dev", func(p string) error { return os.Symlink(up, p) }, nil},
			{"file at /proc", "/proc", func(p string) error { return os.WriteFile(p, nil, 0o644) }, nil},
			{"symlink above a bind target", "/data/x", func(p string) error { return os.Symlink(canary, filepath.Dir(p)) },
				[]sandbox.Option{sandbox.WithBind(canary, "/data/x", true)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := testutil.BusyboxRoot(t)
				p := filepath.Join(dir, tc.at)
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
				if err := tc.plant(p); err != nil {
					t.Fatal(err)
				}
				before := snapshotDir(t, canary)
				leavesNothing(t, func(t *testing.T) {
					err := startErr(t, append([]sandbox.Option{sandbox.WithRootDir(dir)}, tc.opts...))
					var ce *sandbox.ChildError
					// A symbolic link is never followed where a directory is made or
					// entered: it is not one.
					if !errors.As(err, &ce) || ce.Path != tc.at || ce.Errno != unix.ENOTDIR {
						t.Errorf("want a *ChildError naming %s with ENOTDIR, got %v", tc.at, err)
					}
				})
				if after := snapshotDir(t, canary); after != before {
					t.Errorf("the host directory changed:\n%s\nnow:\n%s", before, after)
				}
			})
		}
	})
}

// startErr builds a sandbox with opts and runs true in it, and returns the
// error of the start; a Build that fails fails t.
func startErr(t *testing.T, opts []sandbox.Option) error {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = tpl.Run(ctx, sandbox.Command{Args: []string{"/bin/true"}})
	return err
}

// snapshotDir lists the entries of dir with their types, sizes and times.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.Mode().String() + " " + fi.ModTime().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRootDirRefused: Build refuses a root directory that cannot work, with a
// *SpecError naming the field, before anything is cloned.
func TestRootDirRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		opts        []sandbox.Option
	}{
		{"missing", "rootDir", []sandbox.Option{sandbox.WithRootDir(filepath.Join(dir, "nowhere"))}},
		{"not a directory", "rootDir", []sandbox.Option{sandbox.WithRootDir(file)}},
		{"relative", "rootDir", []sandbox.Option{sandbox.WithRootDir("rootfs")}},
		{"the host's /", "rootDir", []sandbox.Option{sandbox.WithRootDir("/")}},
		{"persistent upper", "rootfs.upper", []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithOverlayUpper(dir, dir)}},
		{"fuse driver", "rootfs.driver", []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithOverlayDriver("fuse")}},
		{"overlay size", "rootfs.size", []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithOverlaySize("1m")}},
		{"layers", "rootfs.lower", []sandbox.Option{sandbox.WithRootDir(dir), func(s *sandbox.Spec) { s.Rootfs.Lower = []string{dir} }}},
		{"automatic ID range", "rootDir", []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithAutoUserNS(namespace.AutoRange{
			UID: []namespace.SubIDRange{{Start: 1 << 30, Count: 1 << 16}}, GID: []namespace.SubIDRange{{Start: 1 << 30, Count: 1 << 16}}})}},
		{"no mount namespace", "mounts", []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithHostNamespaces(namespace.Mount)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "automatic ID range" && os.Geteuid() != 0 {
				t.Skip("an automatic ID range needs a root caller")
			}
			_, err := sandbox.NewBuilder(tc.opts...).Build()
			var se *sandbox.SpecError
			if !errors.As(err, &se) || se.Field != tc.field || !errors.Is(err, sandbox.ErrInvalidSpec) {
				t.Errorf("want a *SpecError naming %s, got %v", tc.field, err)
			}
		})
	}
}

// TestRootDirPlan: the Plan says the root is the directory, brings it in as a
// host path at "/", and its first root step binds it, recursively, on the
// staging directory that the child pivots into.
func TestRootDirPlan(t *testing.T) {
	dir := t.TempDir()
	p, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithReadonlyRootfs()).Spec().Plan()
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Filesystem
	if fs.Root != "directory" || fs.Dir != dir || !fs.ReadonlyRoot || len(fs.Lower) != 0 {
		t.Errorf("root %q, dir %q, read-only %v, lower %v", fs.Root, fs.Dir, fs.ReadonlyRoot, fs.Lower)
	}
	if len(fs.HostPaths) == 0 || fs.HostPaths[0] != (plan.HostPath{Sandbox: "/", Host: dir, ReadOnly: true}) {
		t.Errorf("host paths %v, want %s at / first", fs.HostPaths, dir)
	}
	if slices.Contains(fs.DeviceNodes, "*") {
		t.Errorf("device nodes %v: the root directory's /dev is the default tmpfs", fs.DeviceNodes)
	}
	var binds, pivots int
	for _, st := range fs.Steps {
		switch {
		case st.Action == mounts.ActBind && !st.InRoot:
			binds++
			if st.Source != dir || st.Path != fs.Staging || st.Flags != unix.MS_BIND|unix.MS_REC || st.Stage != "root filesystem" {
				t.Errorf("root step %+v, want an rbind of %s on %s", st, dir, fs.Staging)
			}
		case st.Action == mounts.ActPivotRoot:
			pivots++
		case st.Action == mounts.ActMount && !st.InRoot && st.FSType != "":
			t.Errorf("a mount out of the root besides the bind: %+v", st)
		}
	}
	if binds != 1 || pivots != 1 {
		t.Errorf("%d binds out of the root and %d pivots, want one each: %v", binds, pivots, fs.Steps)
	}
}
