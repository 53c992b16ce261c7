package overlay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/bootcache"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a kernel overlay on the host needs root (CAP_SYS_ADMIN)")
	}
}

func layers(t *testing.T, names ...string) map[string]string {
	t.Helper()
	base := t.TempDir()
	m := map[string]string{}
	for _, n := range names {
		p := filepath.Join(base, n)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		m[n] = p
	}
	return m
}

func TestValidate(t *testing.T) {
	d := layers(t, "lower", "upper", "work", "upper/nested")
	file := filepath.Join(d["lower"], "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// An upper layer reached through a link, and a work directory below a linked
	// parent: the kernel would follow them at every start.
	linkUpper, linkParent := filepath.Join(d["lower"], "up-link"), filepath.Join(d["lower"], "parent-link")
	if err := os.Symlink(d["upper"], linkUpper); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(d["work"]), linkParent); err != nil {
		t.Fatal(err)
	}
	linkWork := filepath.Join(linkParent, filepath.Base(d["work"]))
	for _, tc := range []struct {
		name  string
		spec  Spec
		bad   string // the path a *LayerError should name, or "" for a plain ErrInvalid
		valid bool
	}{
		{"ephemeral", Spec{Lower: []string{d["lower"], "/"}}, "", true},
		{"persistent", Spec{Lower: []string{d["lower"]}, Upper: d["upper"], Work: d["work"]}, "", true},
		{"no lower", Spec{}, "", false},
		{"relative lower", Spec{Lower: []string{"rootfs"}}, "rootfs", false},
		{"missing lower", Spec{Lower: []string{"/nonexistent/paddock"}}, "/nonexistent/paddock", false},
		{"file lower", Spec{Lower: []string{file}}, file, false},
		{"upper without work", Spec{Lower: []string{"/"}, Upper: d["upper"]}, "", false},
		{"relative work", Spec{Lower: []string{"/"}, Upper: d["upper"], Work: "work"}, "work", false},
		{"work inside upper", Spec{Lower: []string{"/"}, Upper: d["upper"], Work: d["upper/nested"]}, d["upper/nested"], false},
		{"linked upper", Spec{Lower: []string{"/"}, Upper: linkUpper, Work: d["work"]}, linkUpper, false},
		{"work below a link", Spec{Lower: []string{"/"}, Upper: d["upper"], Work: linkWork}, linkWork, false},
		{"bad driver", Spec{Lower: []string{"/"}, Driver: "zfs"}, "", false},
		{"bad size", Spec{Lower: []string{"/"}, Size: "12q"}, "", false},
		{"size that wraps", Spec{Lower: []string{"/"}, Size: "17179869185g"}, "", false},
		{"octal size", Spec{Lower: []string{"/"}, Size: "010m"}, "", false},
		{"zero size", Spec{Lower: []string{"/"}, Size: "0"}, "", false},
		{"newline", Spec{Lower: []string{"/tmp/a\nb"}}, "/tmp/a\nb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if tc.valid {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want an error matching ErrInvalid", err)
			}
			var le *LayerError
			if tc.bad != "" && (!errors.As(err, &le) || le.Path != tc.bad) {
				t.Fatalf("got %v, want a *LayerError naming %q", err, tc.bad)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	s := Spec{Lower: []string{"/a,b", "/c:d", `/e\f`}, Upper: "/u", Work: "/w"}
	got, err := s.Options(true)
	if err != nil {
		t.Fatal(err)
	}
	want := `lowerdir=/a\,b:/c\:d:/e\\f,upperdir=/u,workdir=/w,userxattr`
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	long := Spec{Lower: []string{"/" + strings.Repeat("x", 5000)}}
	if _, err := long.Options(false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a 5000-byte option string: got %v, want ErrInvalid", err)
	}
}

// TestOptionsEscapedMount checks the escaping against the kernel's parser.
func TestOptionsEscapedMount(t *testing.T) {
	requireRoot(t)
	d := layers(t, "low,er", "low:er2", "upper", "work", "merged")
	os.WriteFile(filepath.Join(d["low,er"], "a"), []byte("a"), 0o644)
	os.WriteFile(filepath.Join(d["low:er2"], "b"), []byte("b"), 0o644)
	s := Spec{Lower: []string{d["low,er"], d["low:er2"]}, Upper: d["upper"], Work: d["work"]}
	data, err := s.Options(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("overlay", d["merged"], "overlay", 0, data); err != nil {
		t.Fatalf("mount %q: %v", data, err)
	}
	defer unix.Unmount(d["merged"], unix.MNT_DETACH)
	for _, n := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(d["merged"], n)); err != nil {
			t.Error(err)
		}
	}
}

func TestFuseCommand(t *testing.T) {
	st := "/tmp/st"
	c, err := (Spec{Lower: []string{"/"}}).FuseCommand(Env{Staging: st})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fuse-overlayfs", "-f", "-o", "lowerdir=/,upperdir=/tmp/st/upper,workdir=/tmp/st/work", "/tmp/st/root"}
	if !slices.Equal(c.Args(), want) {
		t.Errorf("ephemeral: %q, want %q", c.Args(), want)
	}
	c, err = (Spec{Lower: []string{"/a", "/b"}, Upper: "/u", Work: "/w"}).FuseCommand(Env{Staging: st})
	if err != nil || c.Options != "lowerdir=/a:/b,upperdir=/u,workdir=/w" {
		t.Errorf("persistent: %+v %v", c, err)
	}
	for _, bad := range []string{"/a,b", "/a:b", `/a\b`} {
		var le *LayerError
		if _, err := (Spec{Lower: []string{bad}}).FuseCommand(Env{Staging: st}); !errors.As(err, &le) || le.Path != bad {
			t.Errorf("lower %q: got %v, want a *LayerError naming it", bad, err)
		}
	}
}

// waitingNS starts a shell in a private mount namespace (unshare(1), not this test
// binary) that mounts a staging tmpfs with root, upper and work in it, as the child
// does before its checkpoint, and waits on its stdin. It returns the shell's pid.
func waitingNS(t *testing.T, staging string) int {
	t.Helper()
	script := fmt.Sprintf("mount -t tmpfs paddock %[1]s && mount --make-shared %[1]s && mkdir %[1]s/root %[1]s/upper %[1]s/work && echo ready && read x", staging)
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare(1): %v", err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	b := make([]byte, 6)
	if _, err := io.ReadFull(out, b); err != nil || string(b) != "ready\n" {
		t.Fatalf("the namespace did not get ready: %q %v", b, err)
	}
	return cmd.Process.Pid
}

func fuseProcesses(t *testing.T, pid int) bool {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(b)) == "fuse-overlayfs"
}

func TestStartFuse(t *testing.T) {
	if err := FuseAvailable(); err != nil {
		t.Skipf("fuse driver: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("unshare --mount needs root; the sandbox's fuse tests cover the rootless case")
	}
	staging := t.TempDir()
	pid := waitingNS(t, staging)
	c, err := (Spec{Lower: []string{"/usr"}}).FuseCommand(Env{Staging: staging})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.StartFuse(pid, FuseNamespaces{})
	if err != nil {
		t.Fatal(err)
	}
	dpid := d.Pid()
	if !fuseProcesses(t, dpid) {
		t.Errorf("pid %d is not fuse-overlayfs", dpid)
	}
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mi), " "+NewRoot(staging)+" ") || !strings.Contains(string(mi), "fuse.fuse-overlayfs") {
		t.Errorf("no fuse mount at %s in the namespace:\n%s", NewRoot(staging), mi)
	}
	if host, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(host), staging) {
		t.Errorf("the mount reached the host's namespace")
	}
	if err := d.Stop(); err != nil {
		t.Error(err)
	}
	if d.Pid() != -1 || fuseProcesses(t, dpid) {
		t.Errorf("the daemon %d survived Stop", dpid)
	}

	// A failing fuse-overlayfs is an error naming the command, with its stderr, and
	// leaves nothing.
	c.Options = "lowerdir=/no/such/dir,upperdir=" + staging + "/upper,workdir=" + staging + "/work"
	c.Mountpoint = NewRoot(staging) + "2"
	_, err = c.StartFuse(pid, FuseNamespaces{})
	if err == nil || !strings.HasPrefix(err.Error(), "overlay: "+strings.Join(c.Args(), " ")+": ") {
		t.Fatalf("want an error naming %v, got %T: %v", c.Args(), err, err)
	}
	t.Logf("expected failure: %v", err)
	if err := fuseError([]string{"fuse-overlayfs"}, "bad lowerdir\n", syscall.EINVAL); !errors.Is(err, syscall.EINVAL) || !strings.HasSuffix(err.Error(), ": bad lowerdir") {
		t.Errorf("fuseError: %v, want it to wrap the errno and end with what the daemon printed", err)
	}
}

func TestKernelInUserNS(t *testing.T) {
	// The probe works in a tmpfs of its own mount namespace: nothing it creates may
	// appear in the host's temporary directory.
	var existed []string
	for _, n := range []string{"lower", "upper", "work", "merged"} {
		if _, err := os.Lstat(filepath.Join(os.TempDir(), n)); err == nil {
			existed = append(existed, n)
		}
	}
	before := testutil.MountTable(t)
	if a, err := probeKernelInUserNS(); err == nil && a.err() == nil {
		// Its tmpfs and overlay are mounts of its own namespace: none reaches the host.
		if after := testutil.MountTable(t); after != before {
			t.Errorf("the host's mount table changed across the probe:\n%s\nthen\n%s", before, after)
		}
		for _, n := range []string{"lower", "upper", "work", "merged"} {
			if _, err := os.Lstat(filepath.Join(os.TempDir(), n)); err == nil && !slices.Contains(existed, n) {
				t.Errorf("the probe left %s in %s", n, os.TempDir())
			}
		}
	}
	err := KernelInUserNS()
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("kernel overlayfs in a user namespace: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err2 := KernelInUserNS(); err2 != nil {
		t.Fatalf("cached probe changed its answer: %v", err2)
	}
}

func TestFuseAvailable(t *testing.T) {
	if err := FuseAvailable(); err != nil && !errors.Is(err, ErrNotSupported) {
		t.Fatalf("got %v, want nil or ErrNotSupported", err)
	}
}

// populate builds two lower layers:
//
//	low1 (higher): keep, edit, gone, dir/{a,b}, dir2/x
//	low2 (lower):  base, edit
func populate(t *testing.T, d map[string]string) {
	t.Helper()
	for _, f := range []string{"low1/keep", "low1/edit", "low1/gone", "low1/dir/a", "low1/dir/b", "low1/dir2/x", "low2/base", "low2/edit"} {
		p := filepath.Join(filepath.Dir(d["low1"]), f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// changeScript is what both Diff tests do through the merged view.
const changeScript = `set -e
cd "$1"
echo new > added
echo more >> edit
echo more >> base
rm gone
rm -r dir
mkdir dir && echo c > dir/c
rm dir2/x
mkdir newdir && echo y > newdir/y
`

var wantChanges = Changes{
	Added:    []string{"/added", "/dir/c", "/newdir", "/newdir/y"},
	Modified: []string{"/base", "/dir", "/edit"},
	Deleted:  []string{"/dir/a", "/dir/b", "/dir2/x", "/gone"},
	Opaque:   []string{"/dir"},
}

func TestDiffKernel(t *testing.T) {
	requireRoot(t)
	d := layers(t, "low1", "low2", "upper", "work", "merged")
	populate(t, d)
	s := Spec{Lower: []string{d["low1"], d["low2"]}, Upper: d["upper"], Work: d["work"]}
	data, err := s.Options(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("overlay", d["merged"], "overlay", 0, data); err != nil {
		t.Skipf("kernel overlayfs: mount: %v", err)
	}
	out, err := exec.Command("sh", "-c", changeScript, "sh", d["merged"]).CombinedOutput()
	if uerr := unix.Unmount(d["merged"], 0); uerr != nil {
		unix.Unmount(d["merged"], unix.MNT_DETACH)
		t.Fatal(uerr)
	}
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	checkDiff(t, d, true)
}

// TestDiffUserNS mounts the overlay with userxattr inside a new user and mount
// namespace, where whiteouts and opaque markers use the user.overlay.* attributes.
func TestDiffUserNS(t *testing.T) {
	if err := KernelInUserNS(); errors.Is(err, ErrNotSupported) {
		t.Skipf("kernel overlayfs in a user namespace: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	d := layers(t, "low1", "low2", "upper", "work", "merged")
	t.Cleanup(func() {
		if err := RemoveAll(d["work"]); err != nil {
			t.Error(err)
		}
	})
	populate(t, d)
	s := Spec{Lower: []string{d["low1"], d["low2"]}, Upper: d["upper"], Work: d["work"]}
	data, err := s.Options(true)
	if err != nil {
		t.Fatal(err)
	}
	script := "mount -n -t overlay -o '" + data + "' overlay \"$1\" && " + changeScript
	cmd := exec.Command("sh", "-c", script, "sh", d["merged"])
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !hasXattrNS(filepath.Join(d["upper"], "dir"), "user.overlay.opaque") {
		t.Error("the recreated directory carries no user.overlay.opaque")
	}
	checkDiff(t, d, true)
}

func hasXattrNS(p, name string) bool {
	_, err := unix.Lgetxattr(p, name, make([]byte, 8))
	return err == nil
}

func checkDiff(t *testing.T, d map[string]string, withLowers bool) {
	t.Helper()
	c, err := Diff(d["upper"], d["low1"], d["low2"])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*c, wantChanges) {
		t.Errorf("Diff:\n got %+v\nwant %+v", *c, wantChanges)
	}
	// Without lowers, nothing is known to be modified.
	c, err = Diff(d["upper"])
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Modified) != 0 || !reflect.DeepEqual(c.Opaque, wantChanges.Opaque) {
		t.Errorf("Diff without lowers: %+v", *c)
	}
}

func TestDiffLayerLookup(t *testing.T) {
	// A whiteout in a higher lower layer hides the entry of the layer under it.
	d := layers(t, "up", "l1", "l2")
	os.WriteFile(filepath.Join(d["l2"], "f"), nil, 0o644)
	os.WriteFile(filepath.Join(d["l1"], ".wh.f"), nil, 0o644)
	os.WriteFile(filepath.Join(d["up"], "f"), []byte("x"), 0o644)
	c, err := Diff(d["up"], d["l1"], d["l2"])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Added, []string{"/f"}) {
		t.Errorf("got %+v, want /f added (the lower one is whited out)", *c)
	}
	if _, err := Diff("relative"); !errors.Is(err, ErrInvalid) {
		t.Errorf("relative upper: got %v, want ErrInvalid", err)
	}
}

// BenchmarkKernelInUserNS measures one uncached probe (KernelInUserNS caches it).
func BenchmarkKernelInUserNS(b *testing.B) {
	for b.Loop() {
		if a, err := probeKernelInUserNS(); err != nil || a.err() != nil {
			b.Skip(err, a.err())
		}
	}
}

// TestIDMappedLayers: the probe of idmapped lower layers answers for the
// temporary directory's filesystem without touching the host's mount table, says
// no for a filesystem without idmapped mounts (sysfs), and a Spec that asks for
// idmapped layers where they cannot work does not plan.
func TestIDMappedLayers(t *testing.T) {
	requireRoot(t)
	before := testutil.MountTable(t)
	lower := t.TempDir()
	err := probeIDMappedLayer(lower)
	if after := testutil.MountTable(t); after != before {
		t.Errorf("the host's mount table changed across the probe:\n%s\nthen\n%s", before, after)
	}
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("idmapped lower layers on %s: %v", lower, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := IDMappedLayers("/sys/kernel"); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "does not support idmapped mounts") {
		t.Errorf("sysfs: %v, want ErrNotSupported", err)
	}

	staging := t.TempDir()
	for _, c := range []struct {
		name string
		spec Spec
		env  Env
	}{
		{"the host's /", Spec{Lower: []string{"/"}, IDMap: true}, Env{Staging: staging, InUserNS: true}},
		{"no user namespace", Spec{Lower: []string{lower}, IDMap: true}, Env{Staging: staging}},
		{"rootless", Spec{Lower: []string{lower}, IDMap: true}, Env{Staging: staging, InUserNS: true, Rootless: true}},
	} {
		if _, err := c.spec.Plan(c.env); err == nil {
			t.Errorf("%s: idmapped layers planned", c.name)
		}
	}
}

// TestKernelProbeBootCache: the kernel probe's answer goes to the boot cache and
// comes back from it as the same error; a refusal recorded there is believed
// without a probe, and an entry that does not parse is probed again and replaced.
func TestKernelProbeBootCache(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Setenv(bootcache.EnvOff, "")
		d := t.TempDir()
		t.Cleanup(bootcache.UseDir(d))
		a, err := probeKernelInUserNS()
		if err != nil {
			t.Fatal(err)
		}
		if got := cachedKernelInUserNS(); fmt.Sprint(got) != fmt.Sprint(a.err()) {
			t.Fatalf("first cached probe: %v, the probe says %v", got, a.err())
		}
		if v, ok := bootcache.Load(kernelCacheName); !ok || v != a.String() {
			t.Fatalf("the cache holds %q (%v), want %q", v, ok, a.String())
		}
		forged := kernelAnswer{refusal: 2, errno: syscall.EPERM}
		bootcache.Store(kernelCacheName, forged.String())
		if got := cachedKernelInUserNS(); !errors.Is(got, ErrNotSupported) || !errors.Is(got, syscall.EPERM) ||
			got.Error() != forged.err().Error() {
			t.Errorf("a recorded refusal came back as %v, want %v", got, forged.err())
		}
		bootcache.Store(kernelCacheName, "no 1 99")
		if got := cachedKernelInUserNS(); fmt.Sprint(got) != fmt.Sprint(a.err()) {
			t.Errorf("after a bad entry: %v, want the probe's %v", got, a.err())
		}
		if v, _ := bootcache.Load(kernelCacheName); v != a.String() {
			t.Errorf("the bad entry was not replaced: %q", v)
		}
	})
}

// TestKernelAnswerLines: every answer survives its cache line, and lines it never
// writes do not parse.
func TestKernelAnswerLines(t *testing.T) {
	answers := []kernelAnswer{{}}
	for i := range kernelRefusals {
		answers = append(answers, kernelAnswer{refusal: i + 1, errno: syscall.EPERM})
	}
	for _, a := range answers {
		if got, ok := parseKernelAnswer(a.String()); !ok || got != a {
			t.Errorf("%q parses as %+v, %v", a.String(), got, ok)
		}
	}
	for _, v := range []string{"", "OK", "no", "no 1", "no 0 1", "no 1 0", "no 1 5", "no -1 1", "no 01 1", "no 1 1 x", "no  1 1"} {
		if a, ok := parseKernelAnswer(v); ok {
			t.Errorf("%q parses as %+v", v, a)
		}
	}
}
