package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// sh runs script with /bin/sh in a sandbox built from opts and returns its output;
// a non-zero exit fails t.
func sh(t *testing.T, opts []sandbox.Option, script string) string {
	t.Helper()
	out, st := run(t, opts, "/bin/sh", "-c", script)
	if !st.Success() {
		t.Fatalf("%q exited %v:\n%s", script, st, out)
	}
	return out
}

// insideMounts returns the mount table the sandbox sees, and the mount points that
// `mount | grep '(ro'` lists there.
func insideMounts(t *testing.T, opts []sandbox.Option) ([]*mountinfo.Info, []string) {
	t.Helper()
	out := sh(t, opts, "cat /proc/self/mountinfo; echo @@; mount | grep '(ro' || true")
	table, roText, ok := strings.Cut(out, "@@\n")
	if !ok {
		t.Fatalf("no separator in %q", out)
	}
	ms, err := mountinfo.GetMountsFromReader(strings.NewReader(table), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ro []string
	for _, l := range strings.Split(strings.TrimSpace(roText), "\n") {
		// "SOURCE on MOUNTPOINT type FSTYPE (ro,...)"
		f := strings.Fields(l)
		if len(f) >= 4 && f[1] == "on" {
			ro = append(ro, f[2])
		}
	}
	sort.Strings(ro)
	return ms, ro
}

func hostMounts(t *testing.T) []*mountinfo.Info {
	t.Helper()
	ms, err := mountinfo.GetMounts(nil)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func readOnly(m *mountinfo.Info) bool {
	return strings.HasPrefix(m.Options, "ro,") || m.Options == "ro"
}

// entry spells a mount as the tables compare it.
func entry(mp, fstype string, ro bool) string {
	mode := "rw"
	if ro {
		mode = "ro"
	}
	return mp + " " + fstype + " " + mode
}

func entries(ms []*mountinfo.Info) []string {
	var l []string
	for _, m := range ms {
		l = append(l, entry(m.Mountpoint, m.FSType, readOnly(m)))
	}
	sort.Strings(l)
	return l
}

// fsTypeAt returns the type of the host's mount at mp.
func fsTypeAt(host []*mountinfo.Info, mp string) string {
	t := ""
	for _, m := range host {
		if m.Mountpoint == mp {
			t = m.FSType
		}
	}
	return t
}

// splitRootDirs are the host's top-level directories that a rootless sandbox with
// the host's "/" as lower layer gets as mounts of their own: those without mounts
// beneath them, that are not kernel filesystems themselves, and that are not empty
// (an empty one is a plain directory of the ephemeral root). Each is an overlay, or
// a bind where the caller may not search it (splitRootType).
func splitRootDirs(t *testing.T, host []*mountinfo.Info) []string {
	t.Helper()
	ents, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		d := "/" + e.Name()
		usable := true
		for _, m := range host {
			if strings.HasPrefix(m.Mountpoint, d+"/") || (m.Mountpoint == d && m.FSType != "ext4" && m.FSType != "xfs" && m.FSType != "btrfs" && m.FSType != "tmpfs") {
				usable = false
			}
		}
		if names, err := readdirnames(d); err == nil && len(names) == 0 {
			usable = false
		}
		if usable {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// splitRootType is the filesystem type the sandbox sees at d, one of splitRootDirs:
// overlay, or, for a directory closed to the caller (no search permission), the
// host's own, as a bind of it.
func splitRootType(host []*mountinfo.Info, d string) string {
	if unix.Access(d, unix.X_OK) != nil {
		return fsTypeAt(host, "/")
	}
	return "overlay"
}

func readdirnames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// expandHost expands globs and keeps the paths that exist on this kernel.
func expandHost(paths []string) (dirs, files []string) {
	for _, p := range paths {
		matches := []string{p}
		if strings.ContainsAny(p, "*?[") {
			matches, _ = filepath.Glob(p)
		}
		for _, m := range matches {
			fi, err := os.Stat(m)
			switch {
			case err != nil:
			case fi.IsDir():
				dirs = append(dirs, m)
			default:
				files = append(files, m)
			}
		}
	}
	return dirs, files
}

// expectedTable is the mount table a sandbox of the rootful or rootless preset
// should show, privileged or not, with the given masked and read-only lists.
func expectedTable(t *testing.T, host []*mountinfo.Info, privileged bool, masked, readonly []string) []string {
	t.Helper()
	rootless := testutil.Rootless()
	var l []string
	add := func(mp, fstype string, ro bool) { l = append(l, entry(mp, fstype, ro)) }
	if rootless {
		add("/", "tmpfs", false)
		for _, d := range splitRootDirs(t, host) {
			add(d, splitRootType(host, d), false)
		}
	} else {
		add("/", "overlay", false)
	}
	add("/proc", "proc", false)
	add("/dev", "tmpfs", false)
	hostDev := fsTypeAt(host, "/dev")
	nullType := "tmpfs" // mknod'ed in the sandbox's /dev
	if rootless {
		nullType = hostDev // the host's nodes, bound
		for _, d := range mounts.DefaultDevices {
			add(d.Path, hostDev, false)
		}
	}
	add("/dev/pts", "devpts", false)
	add("/dev/shm", "tmpfs", false)
	add("/dev/mqueue", "mqueue", false)
	add("/sys", "sysfs", !privileged)
	if mounts.HostCgroupV2() {
		add("/sys/fs/cgroup", "cgroup2", !privileged)
	} else {
		for _, m := range host {
			if m.Mountpoint == "/sys/fs/cgroup" || strings.HasPrefix(m.Mountpoint, "/sys/fs/cgroup/") {
				add(m.Mountpoint, m.FSType, !privileged)
			}
		}
	}
	// The default root's own /tmp, /var/tmp and /run, and what it hides of the
	// host, privileged or not: what a rootless sandbox cannot reach anyway (a
	// directory it may not search, a file it may not read) is left as it is.
	h := mounts.DefaultHostRoot()
	for _, e := range h.Empty {
		add(e.Target, "tmpfs", false)
	}
	for _, hp := range h.Resolve() {
		switch {
		case hp.Dir && (!rootless || unix.Access(hp.Path, unix.X_OK) == nil):
			add(hp.Path, "tmpfs", true)
		case !hp.Dir && (!rootless || unix.Access(hp.Path, unix.R_OK) == nil):
			add(hp.Path, nullType, false)
		}
	}
	if !privileged {
		dirs, files := expandHost(masked)
		for _, d := range dirs {
			add(d, "tmpfs", true)
		}
		for _, f := range files {
			add(f, nullType, false)
		}
		dirs, files = expandHost(readonly)
		for _, p := range append(dirs, files...) {
			fstype := "proc"
			if strings.HasPrefix(p, "/sys/") {
				fstype = "sysfs"
			}
			add(p, fstype, true)
		}
	}
	sort.Strings(l)
	return l
}

// diffLists returns the entries only in want and only in got.
func diffLists(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// hostInstances fails t for every mount inside that shows a host filesystem other
// than the ones a sandbox of this kind shares on purpose: the host's cgroup
// hierarchies (read-only unless privileged) and, rootless, the host's device nodes.
func hostInstances(t *testing.T, host, inside []*mountinfo.Info, privileged bool) {
	t.Helper()
	type dev struct{ major, minor int }
	byDev := map[dev]*mountinfo.Info{}
	for _, m := range host {
		byDev[dev{m.Major, m.Minor}] = m
	}
	devRoots := map[string]bool{}
	for _, d := range mounts.DefaultDevices {
		devRoots["/"+filepath.Base(d.Path)] = true
	}
	for _, m := range inside {
		h, ok := byDev[dev{m.Major, m.Minor}]
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(m.Mountpoint, "/sys/fs/cgroup") && (readOnly(m) || privileged):
		case h.Mountpoint == "/dev" && devRoots[m.Root] && testutil.Rootless():
		case h.Mountpoint == "/" && m.Root == m.Mountpoint && testutil.Rootless() && unix.Access(m.Mountpoint, unix.X_OK) != nil:
			// A top-level directory closed to the caller, bound as it is (splitRootType).
		default:
			t.Errorf("the host's %s (%s %d:%d) is visible at %s (root %s)", h.Mountpoint, h.FSType, h.Major, h.Minor, m.Mountpoint, m.Root)
		}
	}
	for _, m := range inside {
		if strings.HasPrefix(m.Mountpoint, "/mnt/") {
			t.Errorf("a host mount is visible: %s (%s)", m.Mountpoint, m.FSType)
		}
	}
}

func TestMountTable(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		host := hostMounts(t)
		cases := []struct {
			name       string
			opts       []sandbox.Option
			privileged bool
			masked, ro []string
		}{
			{"default", nil, false, mounts.DefaultMasked, mounts.DefaultReadOnly},
			{"podman paths", []sandbox.Option{sandbox.WithPodmanPaths()}, false, mounts.PodmanMasked, mounts.PodmanReadOnly},
			{"privileged", []sandbox.Option{sandbox.Privileged()}, true, nil, nil},
			{"unmask one", []sandbox.Option{sandbox.WithUnmask("/proc/keys", "/proc/sys")}, false,
				without(mounts.DefaultMasked, "/proc/keys"), without(mounts.DefaultReadOnly, "/proc/sys")},
			{"unmask all", []sandbox.Option{sandbox.WithUnmask("ALL")}, false, nil, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				inside, roText := insideMounts(t, c.opts)
				want := expectedTable(t, host, c.privileged, c.masked, c.ro)
				got := entries(inside)
				if missing, extra := diffLists(want, got); len(missing)+len(extra) > 0 {
					t.Errorf("mount table:\nmissing %q\nunexpected %q\ngot %q", missing, extra, got)
				}
				// mount | grep '(ro' lists exactly the read-only entries of the table.
				var wantRO []string
				for _, w := range want {
					if strings.HasSuffix(w, " ro") {
						wantRO = append(wantRO, strings.Fields(w)[0])
					}
				}
				sort.Strings(wantRO)
				if !slices.Equal(wantRO, roText) {
					t.Errorf("mount | grep '(ro': got %q, want %q", roText, wantRO)
				}
				hostInstances(t, host, inside, c.privileged)
			})
		}
	})
}

func without(list []string, drop string) []string {
	var out []string
	for _, l := range list {
		if l != drop {
			out = append(out, l)
		}
	}
	return out
}

func TestKernelFilesHidden(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		script := `
for f in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts; do
	[ -e $f ] || { echo "$f absent"; continue; }
	echo "$f $(head -c 64 $f | wc -c)"
done
for d in /proc/acpi /sys/firmware; do
	echo "$d $(ls -A $d | wc -l) $(touch $d/x 2>&1 | grep -c 'Read-only file system')"
done
echo paddock > /proc/sys/kernel/hostname 2>/dev/null && echo hostname written || echo "hostname $(echo p 2>&1 >/proc/sys/kernel/hostname)"
`
		out := sh(t, nil, script)
		for _, want := range []string{"/proc/keys 0", "/proc/timer_list 0", "/proc/interrupts 0", "/proc/acpi 0 1", "/sys/firmware 0 1"} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
		if _, err := os.Stat("/proc/kcore"); err == nil && !strings.Contains(out, "/proc/kcore 0\n") {
			t.Errorf("/proc/kcore is not empty:\n%s", out)
		}
		if !strings.Contains(out, "Read-only file system") || strings.Contains(out, "hostname written") {
			t.Errorf("writing /proc/sys/kernel/hostname should fail with EROFS:\n%s", out)
		}

		// Privileged: nothing masked or read-only; the hostname write reaches the
		// sandbox's own uts namespace as root, and fails for want of permission (not
		// EROFS) in a user namespace, which does not own the host's sysctl files.
		out = sh(t, []sandbox.Option{sandbox.Privileged()}, `
echo "keys $(head -c 64 /proc/keys | wc -c)"
grep -c ' /proc/keys \| /proc/acpi \| /sys/firmware \| /proc/sys ' /proc/self/mountinfo || true
echo paddock > /proc/sys/kernel/hostname 2>&1 && hostname
true`)
		if strings.Contains(out, "Read-only file system") {
			t.Errorf("privileged: a read-only /proc/sys:\n%s", out)
		}
		if f := strings.Split(out, "\n"); len(f) < 2 || f[1] != "0" {
			t.Errorf("privileged: masks or read-only paths are mounted:\n%s", out)
		}
		if !testutil.Rootless() && !strings.Contains(out, "\npaddock\n") {
			t.Errorf("privileged rootful: the hostname was not written:\n%s", out)
		}
	})
}

func TestRootWritesStayInUpper(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		name := fmt.Sprintf("/paddock-fs-test-%d", os.Getpid())
		out := sh(t, nil, "echo hi > "+name+" && cat "+name)
		if out != "hi\n" {
			t.Fatalf("write at / inside: %q", out)
		}
		if _, err := os.Lstat(name); err == nil {
			os.Remove(name)
			t.Fatalf("%s written inside the sandbox appeared on the host", name)
		}
	})
}

// mountSnapshot returns this process's mount table as text, for before/after
// comparisons, without other test binaries' mounts (testutil.MountTable).
func mountSnapshot(t *testing.T) string {
	t.Helper()
	return testutil.MountTable(t)
}

// leavesNothing runs f and checks that the host's mount table, this process's
// descriptors and children are as before.
func leavesNothing(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	// The first descriptor the runtime's poller opens stays open: warm it up.
	if tpl, err := sandbox.NewBuilder().Build(); err == nil {
		tpl.Close()
	}
	// The peers of earlier tests leave orphans that end as this process's
	// children (it is a child subreaper): Podman's conmon. Reap those that ended.
	for {
		var ws syscall.WaitStatus
		if pid, _ := syscall.Wait4(-1, &ws, syscall.WNOHANG|syscall.WALL, nil); pid <= 0 {
			break
		}
	}
	mounts, fds := mountSnapshot(t), testutil.OpenFDs(t)
	f(t)
	if after := mountSnapshot(t); after != mounts {
		t.Errorf("the host's mount table changed:\nbefore\n%s\nafter\n%s", mounts, after)
	}
	if after := testutil.OpenFDs(t); after != fds {
		t.Errorf("descriptors: %d before, %d after", fds, after)
	}
	testutil.NoChildren(t)
}

func TestFilesystemFailures(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Run("bind of a missing source", func(t *testing.T) {
			leavesNothing(t, func(t *testing.T) {
				_, err := sandbox.NewBuilder(sandbox.WithBind("/no/such/source", "/mnt/x", true)).Build()
				var me *mounts.MountError
				if !errors.As(err, &me) {
					t.Fatalf("want a *mounts.MountError, got %T: %v", err, err)
				}
				if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.Is(err, mounts.ErrInvalid) || !errors.Is(err, syscall.ENOENT) {
					t.Errorf("%v should match ErrInvalidSpec, mounts.ErrInvalid and ENOENT", err)
				}
				if me.Source != "/no/such/source" || me.Target != "/mnt/x" || me.FSType != "bind" || me.Flags&unix.MS_BIND == 0 {
					t.Errorf("MountError fields: %+v", me)
				}
				for _, part := range []string{"/no/such/source", "/mnt/x", "type bind", "flags 0x", "data \"\""} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("%q does not name %q", err, part)
					}
				}
			})
		})
		t.Run("overlay lower is a file", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(file, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			leavesNothing(t, func(t *testing.T) {
				_, err := sandbox.NewBuilder(sandbox.WithRootfs(file)).Build()
				var le *overlay.LayerError
				if !errors.As(err, &le) || le.Role != "lower" || le.Path != file {
					t.Fatalf("want an *overlay.LayerError for the lower %s, got %T: %v", file, err, err)
				}
				if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.Is(err, overlay.ErrInvalid) {
					t.Errorf("%v should match ErrInvalidSpec and overlay.ErrInvalid", err)
				}
			})
		})
		t.Run("mask with /dev/null replaced", func(t *testing.T) {
			// A bind over the sandbox's /dev/null (CVE-2025-31133): masking with it
			// would bind an ordinary file over /proc's files. The step that opens
			// the source of the masks checks that it is the 1:3 device and fails.
			fake := filepath.Join(t.TempDir(), "null")
			if err := os.WriteFile(fake, []byte("not a device"), 0o644); err != nil {
				t.Fatal(err)
			}
			leavesNothing(t, func(t *testing.T) {
				ce := startFails(t, []sandbox.Option{sandbox.WithBind(fake, "/dev/null", false)}, []string{"/bin/true"}, "mount", syscall.EPERM)
				if !strings.Contains(ce.Step, "/dev/null") || !strings.Contains(ce.Step, "1:3") {
					t.Errorf("the failing step is %q, want the check of /dev/null", ce.Step)
				}
			})
		})
		t.Run("fuse driver", func(t *testing.T) {
			if ferr := overlay.FuseAvailable(); ferr != nil {
				// Without fuse-overlayfs (or access to /dev/fuse) the forced driver fails in Build.
				leavesNothing(t, func(t *testing.T) {
					_, err := sandbox.NewBuilder(sandbox.WithOverlayDriver(overlay.Fuse)).Build()
					if !errors.Is(err, overlay.ErrNotSupported) || !errors.Is(err, sandbox.ErrNotSupported) {
						t.Fatalf("want an error matching overlay.ErrNotSupported and sandbox.ErrNotSupported, got %T: %v", err, err)
					}
					if !strings.Contains(err.Error(), `driver "fuse"`) {
						t.Errorf("%v does not name the driver", err)
					}
				})
				return
			}
			// fuse-overlayfs failing at start (its work directory gone since Build) is
			// a ChildError of the root filesystem stage with its message, and leaves
			// no mount, descriptor, child or daemon behind.
			base := t.TempDir()
			upper, work := filepath.Join(base, "upper"), filepath.Join(base, "work")
			for _, d := range []string{upper, work} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			tpl, err := sandbox.NewBuilder(sandbox.WithOverlayDriver(overlay.Fuse), sandbox.WithOverlayUpper(upper, work)).Build()
			if err != nil {
				t.Fatalf("Build with the fuse driver: %v", err)
			}
			defer tpl.Close()
			if err := os.Remove(work); err != nil {
				t.Fatal(err)
			}
			leavesNothing(t, func(t *testing.T) {
				_, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
				var ce *sandbox.ChildError
				if !errors.As(err, &ce) || ce.Stage != "root filesystem" || !strings.Contains(err.Error(), "overlay: fuse-overlayfs -f") {
					t.Fatalf("want a *ChildError of the root filesystem with the error of fuse-overlayfs, got %T: %v", err, err)
				}
				if !errors.Is(err, sandbox.ErrSetup) || !strings.Contains(ce.Step, "fuse-overlayfs") {
					t.Errorf("%v: should match ErrSetup and name fuse-overlayfs", err)
				}
				t.Logf("expected failure: %v", err)
			})
		})
	})
}

// upperDirs makes an upper and a work directory for a persistent overlay layer,
// removed (whatever overlayfs left in them) when t ends.
func upperDirs(t *testing.T) (upper, work string) {
	t.Helper()
	base := t.TempDir()
	upper, work = filepath.Join(base, "upper"), filepath.Join(base, "work")
	for _, d := range []string{upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { overlay.RemoveAll(base) })
	return upper, work
}

func TestPersistentUpper(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		upper, work := upperDirs(t)
		// A directory of the lower layer (the host's /tmp) with files to change.
		dir, err := os.MkdirTemp("", "paddock-fs-lower-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		for _, f := range []string{"keep", "change", "gone"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(f+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		top := fmt.Sprintf("/paddock-top-%d", os.Getpid())
		defer os.Remove(top) // only if the test fails: it must not reach the host
		// The lower directory is in the host's /tmp, which the default hides.
		opts := []sandbox.Option{sandbox.WithOverlayUpper(upper, work), sandbox.WithHostRoot(mounts.HostRoot{})}
		sh(t, opts, fmt.Sprintf("cd %s && echo added > added && echo more >> change && rm gone && echo top > %s", dir, top))

		if _, err := os.Lstat(filepath.Join(dir, "added")); err == nil {
			t.Errorf("%s/added reached the host", dir)
		}
		if _, err := os.Lstat(top); err == nil {
			t.Errorf("%s reached the host", top)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "change")); string(b) != "change\n" {
			t.Errorf("the host's file was modified: %q", b)
		}
		if _, err := os.Stat(filepath.Join(dir, "gone")); err != nil {
			t.Errorf("the host's file was deleted: %v", err)
		}
		ch, err := overlay.Diff(upper, "/")
		if err != nil {
			t.Fatal(err)
		}
		wantAdded := []string{filepath.Join(dir, "added")}
		if !testutil.Rootless() {
			// Rootless, a new top-level entry lives in the root tmpfs, not the upper.
			wantAdded = append(wantAdded, top)
		}
		for _, w := range wantAdded {
			if !slices.Contains(ch.Added, w) {
				t.Errorf("Diff: %s not in Added %q", w, ch.Added)
			}
		}
		if !slices.Contains(ch.Modified, filepath.Join(dir, "change")) {
			t.Errorf("Diff: change not in Modified %q", ch.Modified)
		}
		if !slices.Equal(ch.Deleted, []string{filepath.Join(dir, "gone")}) {
			t.Errorf("Diff: Deleted %q, want only %s/gone", ch.Deleted, dir)
		}
		if slices.Contains(ch.Added, filepath.Join(dir, "keep")) || slices.Contains(ch.Modified, filepath.Join(dir, "keep")) {
			t.Errorf("Diff reports the untouched file: %+v", ch)
		}

		// A second sandbox on the same upper sees the first one's changes.
		out := sh(t, opts, fmt.Sprintf("cd %s && cat added change; ls; cat %s 2>/dev/null || echo no top", dir, top))
		want := "added\nchange\nmore\nadded\nchange\nkeep\n"
		if testutil.Rootless() {
			want += "no top\n"
		} else {
			want += "top\n"
		}
		if out != want {
			t.Errorf("second run: got %q, want %q", out, want)
		}
	})
}

func TestBinds(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		rw, ro := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(ro, "f"), []byte("ro\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := sh(t, []sandbox.Option{sandbox.WithBind(rw, "/mnt/rw", false), sandbox.WithBind(ro, "/srv/deep/ro", true)}, `
echo written > /mnt/rw/f && echo rw ok
cat /srv/deep/ro/f
echo x 2>&1 > /srv/deep/ro/f || true
echo x 2>&1 > /srv/deep/ro/new || true
grep -E ' /mnt/rw | /srv/deep/ro ' /proc/self/mountinfo | cut -d' ' -f5,6`)
		if b, err := os.ReadFile(filepath.Join(rw, "f")); err != nil || string(b) != "written\n" {
			t.Errorf("write through the rw bind is not on the host: %q %v\n%s", b, err, out)
		}
		if strings.Count(out, "Read-only file system") != 2 {
			t.Errorf("writes through the ro bind should fail with EROFS:\n%s", out)
		}
		if !strings.Contains(out, "rw ok\nro\n") || !strings.Contains(out, "/mnt/rw rw,") || !strings.Contains(out, "/srv/deep/ro ro,") {
			t.Errorf("binds inside:\n%s", out)
		}
		if b, _ := os.ReadFile(filepath.Join(ro, "f")); string(b) != "ro\n" {
			t.Errorf("the ro source changed: %q", b)
		}
	})
}

func TestTmpfs(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithTmpfs("/scratch", "2m", 0o750)},
			"grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch; echo x > /scratch/f && echo ok")
		line, _, _ := strings.Cut(out, "\n")
		f := strings.Fields(line)
		if len(f) < 10 {
			t.Fatalf("no /scratch mount:\n%s", out)
		}
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		opts, fstype, super := f[5], f[len(f)-3], f[len(f)-1]
		if fstype != "tmpfs" {
			t.Errorf("type %s, want tmpfs:\n%s", fstype, out)
		}
		for _, o := range []string{"rw", "nosuid", "nodev", "noexec"} {
			if !slices.Contains(strings.Split(opts, ","), o) {
				t.Errorf("mount options %s lack %s", opts, o)
			}
		}
		for _, o := range []string{"size=2048k", "mode=750"} {
			if !slices.Contains(strings.Split(super, ","), o) {
				t.Errorf("tmpfs options %s lack %s", super, o)
			}
		}
		if !strings.HasSuffix(out, "750\nok\n") {
			t.Errorf("mode or write:\n%s", out)
		}
	})
}

func TestReadonlyRootfs(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithReadonlyRootfs()}, `
for p in /x /tmp/x /usr/x /etc/x /dev/x /dev/shm/x; do
	if touch $p 2>/dev/null; then echo "$p writable"; else echo "$p $(touch $p 2>&1 | grep -c 'Read-only file system')"; fi
done
echo paddock > /proc/self/comm && echo "/proc writable"`)
		// /tmp is a tmpfs of its own on the default root, writable as Podman's
		// --read-only keeps it.
		for _, want := range []string{"/x 1", "/tmp/x writable", "/usr/x 1", "/dev/x writable", "/dev/shm/x writable", "/proc writable"} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
		if !testutil.Rootless() && !strings.Contains(out, "/etc/x 1\n") {
			t.Errorf("/etc should be read-only:\n%s", out)
		}
	})
}

func TestMaskOption(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithMask("/etc/hostname", "/opt", "/no/such/path")}, `
echo "hostname $(wc -c < /etc/hostname)"
echo "opt $(ls -A /opt | wc -l) $(touch /opt/x 2>&1 | grep -c 'Read-only file system')"
echo "keys $(wc -c < /proc/keys)"`)
		for _, want := range []string{"hostname 0", "opt 0 1", "keys 0"} {
			if !strings.Contains(out, want+"\n") {
				t.Errorf("want %q in:\n%s", want, out)
			}
		}
	})
}

func TestBusyboxRootfs(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		host := hostMounts(t)
		out := sh(t, []sandbox.Option{sandbox.WithRootfs(dir)}, `
ls -A /
cat /etc/hostname
[ -e /usr/bin/go ] || [ -e /etc/passwd ] || [ -e /work ] && echo HOST-VISIBLE
echo new > /tmp/new && cat /tmp/new
echo @@
cat /proc/self/mountinfo`)
		listing, table, _ := strings.Cut(out, "@@\n")
		if strings.Contains(listing, "HOST-VISIBLE") {
			t.Errorf("host files are visible in the busybox root:\n%s", listing)
		}
		got := strings.Fields(listing)
		for _, w := range []string{"bin", "busybox", "dev", "etc", "new", "proc", "sys", "tmp", "run"} {
			if !slices.Contains(got, w) {
				t.Errorf("%q missing from the sandbox's view:\n%s", w, listing)
			}
		}
		for _, h := range []string{"work", "home", "var", "root"} {
			if slices.Contains(got, h) {
				t.Errorf("the host's /%s is in the busybox root:\n%s", h, listing)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "tmp/new")); err == nil {
			t.Errorf("a write inside reached the lower layer")
		}
		ms, err := mountinfo.GetMountsFromReader(strings.NewReader(table), nil)
		if err != nil {
			t.Fatal(err)
		}
		hostInstances(t, host, ms, false)
		if len(ms) == 0 || ms[0].Mountpoint != "/" || ms[0].FSType != "overlay" || !strings.Contains(ms[0].VFSOptions, "lowerdir="+dir) {
			t.Errorf("root mount: %+v", ms[0])
		}
	})
}

func TestSuperPrivileged(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		hostname, err := os.ReadFile("/etc/hostname")
		if err != nil {
			t.Skipf("no /etc/hostname on this host: %v", err)
		}
		var marker string
		if !testutil.Rootless() {
			// A file created under /run from outside is visible inside.
			d, err := os.MkdirTemp("/run", "paddock-fs-"+testutil.RunID()+"-")
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(d)
			marker = filepath.Join(d, "marker")
			if err := os.WriteFile(marker, []byte("from the host\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		netNS, err := os.Readlink("/proc/self/ns/net")
		if err != nil {
			t.Fatal(err)
		}
		script := fmt.Sprintf(`
cat /host/etc/hostname
[ -d /proc/%d ] && echo sees-test-process
readlink /proc/self/ns/net
echo run: $(ls -A /run)
echo varlog: $(ls -A /var/log)
[ -z "%s" ] || cat "%s"
echo @@
cat /proc/self/mountinfo`, os.Getpid(), marker, marker)
		out := sh(t, []sandbox.Option{sandbox.SuperPrivileged()}, script)
		text, table, _ := strings.Cut(out, "@@\n")
		lines := strings.Split(text, "\n")
		if len(lines) < 5 {
			t.Fatalf("output:\n%s", out)
		}
		if lines[0]+"\n" != string(hostname) {
			t.Errorf("/host/etc/hostname is %q, the host's %q", lines[0], hostname)
		}
		if lines[1] != "sees-test-process" {
			t.Errorf("pid %d (this test) is not in the sandbox's /proc:\n%s", os.Getpid(), text)
		}
		if lines[2] != netNS {
			t.Errorf("net namespace inside %s, host %s", lines[2], netNS)
		}
		for i, d := range []string{"/run", "/var/log"} {
			ents, err := os.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			// /run/paddock holds the liveness lock of this process while its
			// Template is open (Reclaim), so it comes and goes with the sandbox.
			drop := func(n string) bool { return d == "/run" && n == "paddock" }
			names = slices.DeleteFunc(names, drop)
			if got := slices.DeleteFunc(strings.Fields(strings.SplitN(lines[3+i], ":", 2)[1]), drop); !slices.Equal(got, names) {
				t.Errorf("%s inside %q, on the host %q", d, got, names)
			}
		}
		if marker != "" && !strings.Contains(text, "from the host\n") {
			t.Errorf("%s created on the host is not visible inside:\n%s", marker, text)
		}
		// Every host mount appears under /host.
		ms, err := mountinfo.GetMountsFromReader(strings.NewReader(table), nil)
		if err != nil {
			t.Fatal(err)
		}
		inside := map[string]bool{}
		for _, m := range ms {
			inside[m.Mountpoint] = true
		}
		for _, m := range hostMounts(t) {
			if mp := filepath.Join("/host", m.Mountpoint); !inside[mp] {
				t.Errorf("the host's %s is not at %s", m.Mountpoint, mp)
			}
		}
		// Privileged: nothing masked or read-only among the kernel filesystems.
		for _, m := range ms {
			if strings.HasPrefix(m.Mountpoint, "/proc/") || m.Mountpoint == "/sys" {
				if readOnly(m) || m.FSType == "tmpfs" {
					t.Errorf("a mask or read-only path in a super-privileged sandbox: %s %s %s", m.Mountpoint, m.FSType, m.Options)
				}
			}
		}
	})
}

// TestClosedTopLevelDirs checks, as uid 65534 on the host's "/", the top-level
// directories the caller may not search (/root and /lost+found, 0700 root): bound
// as they are rather than overlaid, they answer as on the host, with the host's
// mode, and take no write, also in a read-only root.
func TestClosedTopLevelDirs(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if !testutil.Rootless() {
			return // root may search everything: every directory is an overlay
		}
		host := hostMounts(t)
		var closed []string
		for _, d := range splitRootDirs(t, host) {
			if splitRootType(host, d) != "overlay" {
				closed = append(closed, d)
			}
		}
		if len(closed) == 0 {
			t.Skip("no top-level directory of this host is closed to uid 65534")
		}
		for _, opts := range [][]sandbox.Option{nil, {sandbox.WithReadonlyRootfs()}} {
			for _, d := range closed {
				fi, err := os.Stat(d)
				if err != nil {
					t.Fatal(err)
				}
				out := sh(t, opts, fmt.Sprintf("stat -c %%a %[1]s; ls %[1]s >/dev/null 2>&1 && echo listed; touch %[1]s/paddock-probe 2>/dev/null && echo wrote; echo done", d))
				want := fmt.Sprintf("%o\ndone\n", fi.Mode().Perm())
				if out != want {
					t.Errorf("%s in the sandbox (read-only root %v): got %q, want %q", d, opts != nil, out, want)
				}
			}
		}
	})
}
