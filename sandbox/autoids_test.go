package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// testRange is an automatic range given through the API: two blocks of
// AutoSize IDs from 300000, with its own lock directory, so that the tests
// neither read /etc/subuid nor meet other holders.
func testRange(t *testing.T) namespace.AutoRange {
	ranges := []namespace.SubIDRange{{Start: 300000, Count: 2 * namespace.AutoSize}}
	return namespace.AutoRange{UID: ranges, GID: ranges, LockDir: filepath.Join(t.TempDir(), "ids")}
}

// requireRootCaller skips t unless the test runs as root, the only caller that
// may write the maps of an automatic range.
func requireRootCaller(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("an automatic ID range needs a root caller; TestAutoUserNSNotRoot is the rootless half")
	}
}

// secretDir returns a directory that every user may search, holding a file
// "secret" that only host root may read.
func secretDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// outsideRoot returns the host ID that root of process pid's user namespace is.
func outsideRoot(t *testing.T, pid int, file string) uint32 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		t.Fatal(err)
	}
	m, err := namespace.ParseIDMap(b)
	if err != nil || len(m) != 1 || m[0].ContainerID != 0 {
		t.Fatalf("%s of %d: %q (%v), want one map from 0", file, pid, b, err)
	}
	return m[0].HostID
}

// TestAutoUserNS: as root, a sandbox of an automatic range is root inside and an
// unprivileged block outside; it cannot read host root's 0600 file on a plain
// bind, and can on an idmapped one.
func TestAutoUserNS(t *testing.T) {
	requireRootCaller(t)
	dir := secretDir(t)
	r := testRange(t)
	out, st := run(t, []sandbox.Option{sandbox.WithAutoUserNS(r), sandbox.WithBind(dir, "/x", true)},
		"/bin/sh", "-c", "cat /proc/self/uid_map; id -u; head -c1 /x/secret 2>/dev/null || echo refused")
	f := strings.Fields(out)
	if !st.Success() || len(f) < 5 || f[0] != "0" || f[1] != "300000" || f[2] != "65536" || f[3] != "0" || f[4] != "refused" {
		t.Fatalf("%v: %q; want the map 0 300000 65536, uid 0 and the secret refused", st, out)
	}
	if a, err := namespace.Allocate(r); err != nil || a.UIDMap[0].HostID != 300000 {
		t.Errorf("after Wait: %v %v, want the block free again", a, err)
	} else {
		a.Release()
	}

	if err := mounts.IDMapSupported(dir, true); errors.Is(err, mounts.ErrNotSupported) {
		t.Skipf("idmapped binds: %v", err)
	}
	out, st = run(t, []sandbox.Option{sandbox.WithAutoUserNS(r), sandbox.WithIDMappedBind(dir, "/x", true)},
		"/bin/sh", "-c", "stat -c %u /x/secret; cat /x/secret; touch /x/new 2>/dev/null || echo read-only")
	if want := "0\ns3cret" + "read-only\n"; !st.Success() || out != want {
		t.Errorf("idmapped bind: %v: %q, want %q", st, out, want)
	}
}

// TestAutoUserNSDisjoint: sandboxes running at once hold blocks that do not
// overlap; a third finds every block held and says so; once they end, the
// blocks are free again.
func TestAutoUserNSDisjoint(t *testing.T) {
	requireRootCaller(t)
	r := testRange(t)
	tpl, err := sandbox.NewBuilder(sandbox.WithAutoUserNS(r), sandbox.WithoutCgroup()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	var procs []*sandbox.Process
	seen := map[uint32]bool{}
	for range 2 {
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		u, g := outsideRoot(t, p.Pid(), "uid_map"), outsideRoot(t, p.Pid(), "gid_map")
		if u == 0 || seen[u] || u != g || (u != 300000 && u != 300000+namespace.AutoSize) {
			t.Errorf("start %d: uid block %d, gid block %d; want a block of its own of the range", len(procs), u, g)
		}
		seen[u] = true
	}
	_, err = tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
	var ne *namespace.NoRangeError
	if !errors.As(err, &ne) || !errors.Is(err, namespace.ErrNotSupported) || !strings.Contains(err.Error(), "all 2 blocks") {
		t.Errorf("a third start: %v, want a NoRangeError saying every block is held", err)
	}
	for _, p := range procs {
		p.Kill()
		p.Wait()
	}
	a, err := namespace.Allocate(r)
	if err != nil || a.UIDMap[0].HostID != 300000 {
		t.Fatalf("after both ended: %v %v, want the first block free", a, err)
	}
	a.Release()
}

// TestAutoUserNSCallerKilled: a caller killed while its sandbox runs holds its
// block no longer, and the sandbox dies with it (its parent-death signal).
func TestAutoUserNSCallerKilled(t *testing.T) {
	if lockDir := os.Getenv("PADDOCK_AUTO_CALLER"); lockDir != "" {
		ranges := []namespace.SubIDRange{{Start: 300000, Count: 2 * namespace.AutoSize}}
		r := namespace.AutoRange{UID: ranges, GID: ranges, LockDir: lockDir}
		tpl, err := sandbox.NewBuilder(sandbox.WithAutoUserNS(r), sandbox.WithoutCgroup()).Build()
		if err != nil {
			t.Fatal(err)
		}
		p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("started %d\n", p.Pid())
		time.Sleep(time.Minute) // until the test kills this process
		return
	}
	requireRootCaller(t)
	r := testRange(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestAutoUserNSCallerKilled$")
	cmd.Env = append(os.Environ(), "PADDOCK_AUTO_CALLER="+r.LockDir)
	line := testutil.StartLine(t, cmd)
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "started ")))
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the caller printed %q", line)
	}
	defer syscall.Kill(pid, syscall.SIGKILL) // whatever happens below
	if u := outsideRoot(t, pid, "uid_map"); u != 300000 {
		t.Errorf("the sandbox's block: %d, want 300000", u)
	}
	cmd.Process.Kill()
	cmd.Wait()
	a, err := namespace.Allocate(r)
	if err != nil || a.UIDMap[0].HostID != 300000 {
		t.Fatalf("after the caller was killed: %v %v, want the first block free", a, err)
	}
	a.Release()
	defer sandbox.Reclaim() // the killed caller's staging directory (and cgroups, had it any)
	// The sandbox, orphaned, comes to this process (testutil.Main makes it a
	// subreaper), which reaps it once it died.
	for i := 0; ; i++ {
		var ws syscall.WaitStatus
		if wpid, _ := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); wpid == pid || syscall.Kill(pid, 0) != nil {
			break
		}
		if i == 100 {
			t.Fatalf("the sandbox %d outlived its caller by 10 s", pid)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAutoUserNSBusybox: a busybox root owned by host root, idmapped, is owned by
// the sandbox's root under an automatic range: its files read as root's, root's
// 0600 file is readable, and nothing on the host was chowned. Kept as it is
// (WithoutIDMappedLayers), the same files are 65534's and the secret is closed.
func TestAutoUserNSBusybox(t *testing.T) {
	requireRootCaller(t)
	bb := testutil.BusyboxRoot(t)
	if err := os.WriteFile(filepath.Join(bb, "etc/secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := overlay.IDMappedLayers(bb); errors.Is(err, overlay.ErrNotSupported) {
		t.Skipf("idmapped lower layers: %v", err)
	}
	r := testRange(t)
	script := "cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox; cat /etc/secret 2>/dev/null && echo || echo refused; touch /etc/new && stat -c %u /etc/new"
	out, st := run(t, []sandbox.Option{sandbox.WithAutoUserNS(r), sandbox.WithRootfs(bb)}, "/bin/sh", "-c", script)
	if f := strings.Fields(out); !st.Success() || len(f) != 7 || f[1] != "300000" || f[3] != "0" || f[4] != "0" || f[5] != "s3cret" || f[6] != "0" {
		t.Errorf("idmapped: %v: %q; want block 300000, root, files of root, the secret readable", st, out)
	}
	out, st = run(t, []sandbox.Option{sandbox.WithAutoUserNS(r), sandbox.WithRootfs(bb), sandbox.WithoutIDMappedLayers()}, "/bin/sh", "-c", script)
	if f := strings.Fields(out); len(f) < 6 || f[4] != "65534" || f[5] != "refused" {
		t.Errorf("not idmapped: %v: %q; want files of 65534 and the secret refused", st, out)
	}
	var hst syscall.Stat_t
	if err := syscall.Stat(filepath.Join(bb, "bin/busybox"), &hst); err != nil || hst.Uid != 0 {
		t.Errorf("the image on the host: owner %d (%v), want 0: nothing chowned", hst.Uid, err)
	}
}

// TestRootlessAsRoot: Rootless used by root draws from the subordinate IDs of
// namespace.AutoUser (testutil.Main grants them a range for the run): root inside
// is never root outside, and Describe calls the sandbox rootless.
func TestRootlessAsRoot(t *testing.T) {
	requireRootCaller(t)
	opts := []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}
	out, st := run(t, opts, "/bin/sh", "-c", "cat /proc/self/uid_map; id -u")
	f := strings.Fields(out)
	if !st.Success() || len(f) != 4 || f[0] != "0" || f[1] == "0" || f[3] != "0" {
		t.Fatalf("%v: %q; want root inside mapped to a block that is not host root", st, out)
	}
	spec := sandbox.NewBuilder(opts...).Spec()
	rep, err := spec.Describe()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kind != inspect.KindRootless || !rep.Rootless || len(rep.UIDMap) != 1 || rep.UIDMap[0].HostID == 0 {
		t.Errorf("Describe: %s (rootless %v), uid map %v; want rootless with a block", rep.Kind, rep.Rootless, rep.UIDMap)
	}
}

// TestAutoUserNSRefused: what Build refuses of an automatic range, before
// anything starts: no range for the user (naming the file and the line to add),
// vfork mode, in which the parent cannot write the maps, a user outside the
// block, and a persistent writable layer, whose files no later block would own.
func TestAutoUserNSRefused(t *testing.T) {
	requireRootCaller(t)
	_, err := sandbox.NewBuilder(sandbox.WithAutoUserNS(namespace.AutoRange{User: "paddock-no-such-user"})).Build()
	var ne *namespace.NoRangeError
	if !errors.As(err, &ne) || ne.File != namespace.SubUIDFile || !strings.Contains(err.Error(), `"paddock-no-such-user:1879048192:134217728"`) {
		t.Errorf("no range: %v, want a NoRangeError naming /etc/subuid and the line to add", err)
	}
	sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithAutoUserNS(testRange(t)), sandbox.WithSpawnMode(sandbox.SpawnVfork)}, "spawn", "parent write ID maps")
	sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithAutoUserNS(testRange(t)), sandbox.WithUser(70000, 0)}, "user.uid", "not mapped")
	upper, work := t.TempDir(), t.TempDir()
	sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithAutoUserNS(testRange(t)), sandbox.WithOverlayUpper(upper, work)}, "rootfs.upper", "block of IDs of its own")
}

// TestAutoUserNSNotRoot: a caller other than root may not write the maps of an
// automatic range, and an idmapped bind needs a user namespace whose maps root
// writes.
func TestAutoUserNSNotRoot(t *testing.T) {
	testutil.AsNobody(t, func(t *testing.T) {
		_, err := sandbox.NewBuilder(sandbox.WithAutoUserNS(testRange(t))).Build()
		if !errors.Is(err, namespace.ErrNotSupported) || !strings.Contains(err.Error(), "root caller") {
			t.Errorf("an automatic range for uid %d: %v, want ErrNotSupported", os.Geteuid(), err)
		}
		_, err = sandbox.NewBuilder(sandbox.WithIDMappedBind(t.TempDir(), "/x", true)).Build()
		if !errors.Is(err, mounts.ErrNotSupported) || !strings.Contains(err.Error(), "only root") {
			t.Errorf("an idmapped bind for uid %d: %v, want ErrNotSupported", os.Geteuid(), err)
		}
	})
}
