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

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// copyUpTree writes, below dir/data of a root, the tree that the copy-up
// tests copy: nested directories, a file with content and mode 0640, an
// executable, a FIFO, and links that point out of the root, absolutely and by
// "..", which must be copied as links and never followed.
func copyUpTree(t *testing.T, root string) {
	t.Helper()
	data := filepath.Join(root, "data")
	must(t, os.MkdirAll(filepath.Join(data, "a/b/c"), 0o755))
	must(t, os.WriteFile(filepath.Join(data, "a/b/c/file"), []byte("deep\n"), 0o640))
	must(t, os.Chmod(filepath.Join(data, "a/b/c/file"), 0o640))
	must(t, os.WriteFile(filepath.Join(data, "tool"), []byte("#!/bin/sh\necho tool\n"), 0o751))
	must(t, os.Chmod(filepath.Join(data, "tool"), 0o751))
	must(t, os.Chmod(filepath.Join(data, "a/b"), 0o711))
	must(t, os.Symlink("/etc/shadow", filepath.Join(data, "abs")))
	must(t, os.Symlink("../../../../../../../../etc/passwd", filepath.Join(data, "up")))
	must(t, syscall.Mkfifo(filepath.Join(data, "fifo"), 0o620))
	must(t, os.Chmod(filepath.Join(data, "fifo"), 0o620))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTmpfsCopyUp fills a tmpfs from a root directory and looks from inside:
// the files with their content and modes, the links as links, a FIFO, the
// owners of the copies (the sources' for a root caller, the sandbox's root
// for a rootless one), a tmpfs that takes writes which never reach the root.
func TestTmpfsCopyUp(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		copyUpTree(t, dir)
		owner := "0"
		if !testutil.Rootless() {
			must(t, os.Lchown(filepath.Join(dir, "data/a/b/c/file"), 1234, 1235))
			owner = "1234"
		}
		leavesNothing(t, func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755)}, `
cat /data/a/b/c/file
stat -c '%a %u' /data/a/b/c/file; stat -c '%a' /data/tool /data/a/b /data/fifo
readlink /data/abs; readlink /data/up
[ -L /data/abs ] && [ -L /data/up ] && echo links
[ -p /data/fifo ] && echo fifo
sh /data/tool
grep ' /data ' /proc/self/mountinfo | grep -q tmpfs && echo tmpfs
echo new > /data/new && rm /data/tool && echo written`)
			want := "deep\n640 " + owner + "\n751\n711\n620\n/etc/shadow\n../../../../../../../../etc/passwd\nlinks\nfifo\ntool\ntmpfs\nwritten\n"
			if out != want {
				t.Errorf("inside:\n%s\nwant:\n%s", out, want)
			}
		})
		if _, err := os.Stat(filepath.Join(dir, "data/new")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a write to the tmpfs reached the root: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "data/tool")); err != nil {
			t.Errorf("a removal in the tmpfs reached the root: %v", err)
		}
	})
}

// TestTmpfsCopyUpHostileMountPoint: a root whose mount point is a link out of
// it gets the tmpfs, and its copy, at the link's target inside the root; the
// host directory of the same path is neither covered nor copied.
func TestTmpfsCopyUpHostileMountPoint(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		host := testutil.SharedTempDir(t, "paddock-canary-")
		must(t, os.WriteFile(filepath.Join(host, "host-secret"), []byte("secret\n"), 0o644))
		must(t, os.MkdirAll(filepath.Join(dir, host), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, host, "in-root"), []byte("in root\n"), 0o644))
		must(t, os.Symlink("/../../../.."+host, filepath.Join(dir, "evil")))
		leavesNothing(t, func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/evil", "1m", 0o755)},
				`ls -A /evil/; grep -c ' `+host+` ' /proc/self/mountinfo`)
			if out != "in-root\n1\n" {
				t.Errorf("inside: %q, want the root's own file, and the tmpfs on %s", out, host)
			}
		})
		if names, _ := os.ReadDir(host); len(names) != 1 {
			t.Errorf("the host's %s was touched: %v", host, names)
		}
	})
}

// TestTmpfsCopyUpFull: a tree larger than the tmpfs fails the start with
// ENOSPC, naming the mount, and leaves nothing behind.
func TestTmpfsCopyUpFull(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := testutil.BusyboxRoot(t)
		copyUpTree(t, dir)
		must(t, os.WriteFile(filepath.Join(dir, "data/big"), make([]byte, 1<<20), 0o644))
		leavesNothing(t, func(t *testing.T) {
			tpl, err := sandbox.NewBuilder(sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/data", "64k", 0o755)).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			_, err = tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
			var ce *sandbox.ChildError
			if !errors.As(err, &ce) || ce.Errno != syscall.ENOSPC || !strings.Contains(err.Error(), "/data") {
				t.Fatalf("Run: %v, want a *ChildError with ENOSPC naming /data", err)
			}
			t.Log(err)
		})
	})
}

// TestTmpfsCopyUpRefused: copy-up needs a root filesystem to copy from, fork
// mode and a mount point other than "/"; the refusal names the tmpfs's field.
func TestTmpfsCopyUpRefused(t *testing.T) {
	dir := t.TempDir()
	for name, opts := range map[string][]sandbox.Option{
		"host root": {sandbox.WithTmpfsCopyUp("/data", "", 0)},
		"vfork":     {sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/data", "", 0), sandbox.WithSpawnMode(sandbox.SpawnVfork)},
		"slash":     {sandbox.WithRootDir(dir), sandbox.WithTmpfsCopyUp("/", "", 0)},
	} {
		_, err := sandbox.NewBuilder(opts...).Build()
		var se *sandbox.SpecError
		if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &se) || se.Field != "mounts.tmpfs[0].copyUp" {
			t.Errorf("%s: %v, want ErrInvalidSpec naming mounts.tmpfs[0].copyUp", name, err)
		}
	}
}

// TestTmpfsCopyUpOverlay fills a tmpfs from the one layer of an overlay root
// that holds its mount point, around the Spec's own binds below it (made by
// the child in the tmpfs before the copy, as Podman's /run/.containerenv is),
// and refuses to merge a mount point that two layers hold.
func TestTmpfsCopyUpOverlay(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		base := testutil.BusyboxRoot(t)
		copyUpTree(t, base)
		top := testutil.SharedTempDir(t, "paddock-layer-")
		must(t, os.MkdirAll(filepath.Join(top, "opt"), 0o755))
		src := testutil.SharedTempDir(t, "paddock-bind-")
		must(t, os.WriteFile(filepath.Join(src, "bound"), []byte("bound\n"), 0o644))
		leavesNothing(t, func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithLayers(top, base), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755),
				sandbox.WithBind(src, "/data/a/b/c/mnt", true), sandbox.WithBind(filepath.Join(src, "bound"), "/data/x/file", true)}, `
cat /data/a/b/c/file /data/a/b/c/mnt/bound /data/x/file; stat -c '%a' /data/a/b`)
			if out != "deep\nbound\nbound\n711\n" {
				t.Errorf("inside: %q", out)
			}
		})
		must(t, os.MkdirAll(filepath.Join(top, "data"), 0o755))
		leavesNothing(t, func(t *testing.T) {
			tpl, err := sandbox.NewBuilder(sandbox.WithLayers(top, base), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755)).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			_, err = tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
			var ce *sandbox.ChildError
			if !errors.As(err, &ce) || ce.Errno != syscall.EOPNOTSUPP {
				t.Fatalf("Run with /data in two layers: %v, want a *ChildError with EOPNOTSUPP", err)
			}
		})
	})
}

// BenchmarkStartCopyUp measures Start+Wait of /bin/true in a busybox root
// directory, in fork mode without a cgroup: without copy-up, with a copy-up
// tmpfs on the root's empty /tmp (the cost of the stop before pivot_root and
// of reaching the tmpfs), and with one on /etc holding 100 small files.
func BenchmarkStartCopyUp(b *testing.B) {
	dir := testutil.BusyboxRoot(b)
	for i := range 100 {
		if err := os.WriteFile(filepath.Join(dir, "etc", "f"+strconv.Itoa(i)), []byte("some content\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	base := []sandbox.Option{sandbox.Rootful(), sandbox.WithoutCgroup(), sandbox.WithRootDir(dir), sandbox.WithSpawnMode(sandbox.SpawnFork)}
	for _, c := range []struct {
		name string
		opts []sandbox.Option
	}{
		{"none", nil},
		{"empty", []sandbox.Option{sandbox.WithTmpfsCopyUp("/tmp", "1m", 0o1777)}},
		{"etc-100-files", []sandbox.Option{sandbox.WithTmpfsCopyUp("/etc", "1m", 0o755)}},
	} {
		b.Run(c.name, func(b *testing.B) { benchStart(b, append(append([]sandbox.Option(nil), base...), c.opts...)...) })
	}
}

// TestTmpfsCopyUpInCallerMountNS: a root set up in the caller's mount
// namespace (WithRootInCallerMountNS, a root caller's) gets its copy-up tmpfs
// filled at the stop before chroot, and leaves the caller's mount table as it
// was. Rootless, Build refuses the root in the caller's namespace itself.
func TestTmpfsCopyUpInCallerMountNS(t *testing.T) {
	if testutil.Rootless() {
		t.Skip("a root in the caller's mount namespace needs CAP_SYS_ADMIN there")
	}
	dir := testutil.BusyboxRoot(t)
	copyUpTree(t, dir)
	leavesNothing(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithRootInCallerMountNS(), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755)},
			"cat /data/a/b/c/file; readlink /data/abs")
		if out != "deep\n/etc/shadow\n" {
			t.Errorf("inside: %q", out)
		}
	})
}

// TestTmpfsCopyUpRootElsewhere: a root caller's sandbox whose root is host uid
// 100000 (a user namespace of another range) gets copies it owns: a source
// owned by an ID the namespace maps keeps it (host 101234 shows as 1234), one
// owned by an unmapped ID (host root) becomes the sandbox root's; the copy is
// made on a thread of its own whose filesystem IDs are the sandbox root's.
func TestTmpfsCopyUpRootElsewhere(t *testing.T) {
	if testutil.Rootless() {
		t.Skip("a user namespace of another range is a root caller's")
	}
	dir := testutil.BusyboxRoot(t)
	copyUpTree(t, dir)
	must(t, os.Lchown(filepath.Join(dir, "data/a/b/c/file"), 101234, 101235))
	m := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	leavesNothing(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithRootDir(dir), sandbox.WithUserNS(m, m), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755)},
			"stat -c '%u:%g %a' /data/a/b/c/file /data/tool /data/a; cat /data/a/b/c/file")
		if want := "1234:1235 640\n0:0 751\n0:0 755\ndeep\n"; out != want {
			t.Errorf("inside: %q, want %q", out, want)
		}
	})
	// Every thread of the process is root again, filesystem IDs included.
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that ended
		}
		for _, l := range strings.Split(string(b), "\n") {
			if (strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:")) && strings.Fields(l)[4] != "0" {
				t.Errorf("%s: %s after the copy", task, l)
			}
		}
	}
}

// TestTmpfsCopyUpAutoIDMapped: under an automatic range, on idmapped layers
// (a file owned by n on the host shows as n inside), the copies show the
// owners their sources show: the parent gives each the host ID of the block
// that n stands for.
func TestTmpfsCopyUpAutoIDMapped(t *testing.T) {
	requireRootCaller(t)
	bb := testutil.BusyboxRoot(t)
	if err := overlay.IDMappedLayers(bb); errors.Is(err, overlay.ErrNotSupported) {
		t.Skipf("idmapped lower layers: %v", err)
	}
	copyUpTree(t, bb)
	must(t, os.Lchown(filepath.Join(bb, "data/a/b/c/file"), 1234, 1235))
	leavesNothing(t, func(t *testing.T) {
		out := sh(t, []sandbox.Option{sandbox.WithAutoUserNS(testRange(t)), sandbox.WithRootfs(bb), sandbox.WithTmpfsCopyUp("/data", "1m", 0o755)},
			"stat -c '%u:%g %a' /data/a/b/c/file /data/tool; cat /data/a/b/c/file")
		if want := "1234:1235 640\n0:0 751\ndeep\n"; out != want {
			t.Errorf("inside: %q, want %q", out, want)
		}
	})
}
