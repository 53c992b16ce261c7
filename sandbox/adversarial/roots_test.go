package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// A shape is something hostile that a root filesystem can hold where the setup
// expects a directory or a file.
type shape struct {
	name string
	// make creates it at host path p of a layer; canary is the host directory an
	// escape would reach, rel the in-root path of p (for links to itself).
	make func(p, canary, rel string) error
	// root says that only root can make it (a device node).
	root bool
}

var shapes = []shape{
	{"absolute symlink", func(p, canary, _ string) error { return os.Symlink(canary, p) }, false},
	{"relative symlink", func(p, canary, _ string) error {
		return os.Symlink(strings.Repeat("../", 16)+strings.TrimPrefix(canary, "/"), p)
	}, false},
	{"symlink loop", func(p, _, rel string) error { return os.Symlink(rel, p) }, false},
	{"relative symlink loop", func(p, _, _ string) error {
		// p -> p.b -> p: two links that lead to each other by relative names.
		b := p + ".b"
		if err := os.Symlink(filepath.Base(b), p); err != nil {
			return err
		}
		return os.Symlink(filepath.Base(p), b)
	}, false},
	{"dangling symlink", func(p, _, _ string) error { return os.Symlink("/nonexistent-paddock/deeper", p) }, false},
	{"magic link", func(p, canary, _ string) error { return os.Symlink("/proc/self/root"+canary, p) }, false},
	{"file", func(p, _, _ string) error { return os.WriteFile(p, []byte("a file\n"), 0o644) }, false},
	{"directory", func(p, _, _ string) error { return os.Mkdir(p, 0o755) }, false},
	{"fifo", func(p, _, _ string) error { return unix.Mkfifo(p, 0o644) }, false},
	{"device", func(p, _, _ string) error { return unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))) }, true},
}

// A setupPath is one way the setup touches a path inside the root: where the
// hostile shape goes (at), and the options that make the setup go there.
type setupPath struct {
	name string
	at   string
	opts func(c *corpus) []sandbox.Option
}

// setupPaths are the matrix's rows: the sandbox's own mount points (the shape at
// the target itself and at its parent), masks, read-only paths, the working
// directory, the kernel filesystems of the defaults, and /host of a
// super-privileged sandbox.
var setupPaths = func() []setupPath {
	own := []struct {
		name string
		opts func(c *corpus) []sandbox.Option
	}{
		{"bind of a directory", func(c *corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithBind(c.srcDir, "/t/x", true)} }},
		{"bind of a file", func(c *corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithBind(c.srcFile, "/t/x", true)} }},
		{"tmpfs", func(*corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithTmpfs("/t/x", "1m", 0)} }},
		{"mask", func(*corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithMask("/t/x")} }},
		{"read-only path", func(*corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithReadonlyPaths("/t/x")} }},
		{"workdir", func(*corpus) []sandbox.Option { return []sandbox.Option{sandbox.WithWorkdir("/t/x")} }},
	}
	var ps []setupPath
	for _, o := range own {
		ps = append(ps, setupPath{o.name + " (parent)", "/t", o.opts}, setupPath{o.name + " (target)", "/t/x", o.opts})
	}
	none := func(*corpus) []sandbox.Option { return nil }
	for _, d := range []string{"/proc", "/dev", "/sys"} {
		ps = append(ps, setupPath{"default mount " + d, d, none})
	}
	ps = append(ps, setupPath{"/host of a super-privileged sandbox", "/host",
		func(*corpus) []sandbox.Option { return []sandbox.Option{sandbox.SuperPrivileged()} }})
	return ps
}()

// A corpus is the battery's root filesystems, made once by the test's first
// process (root when it is) and shared with its rootless half: a base layer with
// the probe as /bin/probe, one hostile layer per case, bind sources, and the
// canary directory an escape would reach.
type corpus struct {
	dir, base, canary, srcDir, srcFile string
}

const envCorpus = "PADDOCK_ADVERSARIAL_CORPUS"

func (c *corpus) layer(sp setupPath, sh shape) string {
	return filepath.Join(c.dir, "cases", strings.NewReplacer(" ", "-", "/", "_", "(", "", ")", "").Replace(sp.name+"--"+sh.name))
}

// makeCorpus builds the corpus under a directory that uid 65534 can use, owned
// by it so that a rootless sandbox may create its mount points in the layers.
func makeCorpus(t *testing.T) string {
	t.Helper()
	probe := testutil.BuildForNobody(t, "github.com/paddock-sandbox/paddock/internal/testutil/sysprobe", "probe")
	dir := testutil.SharedTempDir(t, "paddock-adversarial-")
	c := &corpus{dir: dir, base: filepath.Join(dir, "base"), canary: filepath.Join(dir, "canary"),
		srcDir: filepath.Join(dir, "src"), srcFile: filepath.Join(dir, "src-file")}
	for _, d := range []string{"base/bin", "base/proc", "base/sys", "base/dev", "base/tmp", "base/etc", "canary/inside", "src", "cases"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	data, err := os.ReadFile(probe)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(c.base, "bin/probe"), data, 0o755))
	must(t, os.WriteFile(filepath.Join(c.canary, "secret"), []byte("host canary\n"), 0o600))
	must(t, os.WriteFile(c.srcFile, []byte("bind source\n"), 0o644))
	for _, sp := range setupPaths {
		for _, sh := range shapes {
			if sh.root && os.Geteuid() != 0 {
				continue
			}
			l := c.layer(sp, sh)
			at := filepath.Join(l, sp.at)
			must(t, os.MkdirAll(filepath.Dir(at), 0o755))
			must(t, sh.make(at, c.canary, sp.at))
		}
	}
	if os.Geteuid() == 0 {
		filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err == nil {
				os.Lchown(p, testutil.Nobody, testutil.Nobody)
			}
			return nil
		})
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot describes a tree: every entry's path, type, mode, size and mtime.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", p, err)
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) == nil {
			fmt.Fprintf(&b, "%s %o %d %d.%d\n", p, st.Mode, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
		}
		return nil
	})
	return b.String()
}

// hostMounts returns the mounts of this process's mount namespace (the host's)
// that lie in or below dir, the battery's corpus with the canary: where an
// escaping mount would land. Test binaries of other packages mount elsewhere at
// the same time.
func hostMounts(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	must(t, err)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestHostileRoots runs every setup path against every hostile shape, in
// rootful and rootless sandboxes, and checks that each either fails with a typed
// error, before the target runs, or runs; and that none changes the host: the
// canary directory an escape would reach, the host's mounts there, and the layers
// of the root filesystem stay as they were.
func TestHostileRoots(t *testing.T) {
	testutil.ModesWith(t, envCorpus, makeCorpus, func(t *testing.T, dir string) {
		c := &corpus{dir: dir, base: filepath.Join(dir, "base"), canary: filepath.Join(dir, "canary"),
			srcDir: filepath.Join(dir, "src"), srcFile: filepath.Join(dir, "src-file")}
		mounts := hostMounts(t, dir)
		ran, refused := 0, 0
		for _, sp := range setupPaths {
			for _, sh := range shapes {
				l := c.layer(sp, sh)
				if _, err := os.Lstat(l); err != nil {
					continue // a shape this corpus's maker could not make
				}
				t.Run(sp.name+"/"+sh.name, func(t *testing.T) {
					before := snapshot(t, dir)
					// The setup path's options, then this shape's layers on top.
					err := attack(t, append(sp.opts(c), sandbox.WithLayers(l, c.base), sandbox.WithoutCgroup()))
					if err == nil {
						ran++
					} else {
						refused++
						t.Log(err)
					}
					if after := snapshot(t, dir); after != before {
						t.Errorf("the layers, the canary or the bind sources changed:\n%s", diffText(before, after))
					}
					if now := hostMounts(t, dir); now != mounts {
						t.Errorf("a mount appeared on the host in the corpus:\n%s", diffText(mounts, now))
					}
				})
			}
		}
		t.Logf("%d attacks ran inside their root, %d were refused with a typed error", ran, refused)
	})
}

// attack builds and runs a sandbox with opts, and returns nil when the target
// ran, the typed error when it was refused, and fails t on anything else.
func attack(t *testing.T, opts []sandbox.Option) error {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		if !errors.Is(err, sandbox.ErrInvalidSpec) && !errors.Is(err, sandbox.ErrNotSupported) {
			t.Fatalf("Build failed with an untyped error: %T %v", err, err)
		}
		return err
	}
	defer tpl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out strings.Builder
	st, err := tpl.Run(ctx, sandbox.Command{Args: []string{"/bin/probe", "call", "39"}, Stdout: &out, Stderr: &out})
	if err != nil {
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || !errors.Is(err, sandbox.ErrSetup) {
			t.Fatalf("Start failed with an untyped error: %T %v", err, err)
		}
		return err
	}
	if !st.Success() || out.String() != "0\n" {
		t.Fatalf("the probe ran but said %v: %q", st, out.String())
	}
	return nil
}

// diffText lists the lines only in a or only in b.
func diffText(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var d []string
	for l := range ma {
		if !mb[l] {
			d = append(d, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			d = append(d, "+ "+l)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// TestEscapeTarget is the reproduction of the reported escape: a root filesystem
// whose etc is a symbolic link to a host directory that does not exist, and a
// bind on /etc/deep/planted. The child must not create the host directory.
func TestEscapeTarget(t *testing.T) {
	testutil.ModesWith(t, envCorpus, makeCorpus, func(t *testing.T, dir string) {
		target := filepath.Join(os.TempDir(), "escape-target")
		layer := t.TempDir()
		must(t, os.Chmod(layer, 0o755))
		must(t, os.Symlink(target, filepath.Join(layer, "etc")))
		base := filepath.Join(dir, "base")
		err := attack(t, []sandbox.Option{sandbox.WithLayers(layer, base), sandbox.WithoutCgroup(),
			sandbox.WithBind(filepath.Join(dir, "src"), "/etc/deep/planted", true)})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Path != "/etc/deep/planted" {
			t.Errorf("want a *ChildError naming /etc/deep/planted, got %v", err)
		}
		if _, err := os.Lstat(target); err == nil {
			os.RemoveAll(target)
			t.Fatalf("%s was created on the host", target)
		}
	})
}

// TestBaseRuns guards the battery's own setup: the probe runs in the base layer
// alone, so that a refusal in the matrix is the hostile shape's doing.
func TestBaseRuns(t *testing.T) {
	testutil.ModesWith(t, envCorpus, makeCorpus, func(t *testing.T, dir string) {
		if err := attack(t, []sandbox.Option{sandbox.WithRootfs(filepath.Join(dir, "base")), sandbox.WithoutCgroup()}); err != nil {
			t.Fatalf("the base layer alone: %v", err)
		}
	})
}

// TestDevNullReplaced: a file bound over the sandbox's /dev/null, the source of
// every mask of a file, would put its content over /proc's files
// (CVE-2025-31133). The step that opens the source checks that it is the device
// 1:3 and fails, and the target never runs.
func TestDevNullReplaced(t *testing.T) {
	testutil.ModesWith(t, envCorpus, makeCorpus, func(t *testing.T, dir string) {
		err := attack(t, []sandbox.Option{sandbox.WithRootfs(filepath.Join(dir, "base")), sandbox.WithoutCgroup(),
			sandbox.WithBind(filepath.Join(dir, "src-file"), "/dev/null", true)})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || !errors.Is(err, unix.EPERM) || !strings.Contains(ce.Step, "/dev/null") {
			t.Fatalf("want a *ChildError with EPERM naming /dev/null, got %v", err)
		}
	})
}
