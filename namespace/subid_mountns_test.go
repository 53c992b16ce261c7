package namespace

import (
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// reexec runs test run again in a copy of the test binary that uid nobody can
// run, with the probe environment set and process attributes attr, and reports its
// outcome as t's (a skip there is a skip here).
func reexec(t *testing.T, run, probe string, attr *syscall.SysProcAttr) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Rerun{
		Pattern: "^" + run + "$",
		Env:     []string{probeEnv + "=" + probe, "PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir},
		Attr:    attr,
		Dir:     dir,
		Label:   run,
	}.Run(t)
}

// TestSubIDRanges_MountNS tests newuidmap and newgidmap with real ranges without
// touching the host's /etc/subuid: a probe in a private mount namespace (os/exec
// makes / private recursively with CLONE_NEWNS) bind-mounts test files over
// /etc/subuid and /etc/subgid; the mounts die with that namespace.
func TestSubIDRanges_MountNS(t *testing.T) {
	requireRoot(t)
	requireHelpers(t)
	for _, f := range []string{SubUIDFile, SubGIDFile} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("%s missing, nothing to bind over: %v", f, err)
		}
	}
	reexec(t, "TestSubIDProbe", "mountns", &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS})
}

// TestSubIDProbe runs only inside TestSubIDRanges_MountNS, as root in a private mount
// namespace.
func TestSubIDProbe(t *testing.T) {
	if os.Getenv(probeEnv) != "mountns" {
		t.Skip("runs only when re-executed in a private mount namespace by TestSubIDRanges_MountNS")
	}
	// Never bind over the host's files: make sure this is another mount namespace.
	if inode(t, Mount.Path(0)) == inode(t, Mount.Path(os.Getppid())) {
		t.Fatal("probe shares its parent's mount namespace")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	grants := "root:100000:65536\nnobody:200000:65536\nnobody:300000:1000\n"
	for _, target := range []string{SubUIDFile, SubGIDFile} {
		src := filepath.Join(dir, filepath.Base(target))
		if err := os.WriteFile(src, []byte(grants), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("bind %s over %s: %v", src, target, err)
		}
	}

	// Root with newuidmap and a range.
	uid, gid, err := DefaultRangeMaps(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []IDMap{{0, 0, 1}, {1, 100000, 65536}}; !reflect.DeepEqual(uid, want) {
		t.Fatalf("DefaultRangeMaps(0) = %v, want %v", uid, want)
	}
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := RunNewIDMap(c.pid(), uid, gid); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(c.pid())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.UIDMap, uid) || !reflect.DeepEqual(info.GIDMap, gid) || info.Setgroups != SetgroupsAllow {
		t.Fatalf("after newuidmap: uid_map %v gid_map %v setgroups %q", info.UIDMap, info.GIDMap, info.Setgroups)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}

	// The rootless path proper: nobody, granted two ranges.
	reexec(t, "TestSubIDNobodyProbe", "mountns-nobody", &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: nobody, Gid: nobody},
	})
}

// TestSubIDNobodyProbe runs only inside TestSubIDProbe, as uid nobody with
// subordinate ranges granted.
func TestSubIDNobodyProbe(t *testing.T) {
	if os.Getenv(probeEnv) != "mountns-nobody" {
		t.Skip("runs only when re-executed as nobody by TestSubIDProbe")
	}
	uid, gid := os.Getuid(), os.Getgid()
	uidMap, gidMap, err := DefaultRangeMaps(uid, gid)
	if err != nil {
		t.Fatal(err)
	}
	want := []IDMap{{0, uint32(uid), 1}, {1, 200000, 65536}, {65537, 300000, 1000}}
	if !reflect.DeepEqual(uidMap, want) {
		t.Fatalf("DefaultRangeMaps = %v, want %v", uidMap, want)
	}
	s := &Spec{UIDMap: uidMap, GIDMap: gidMap}
	s.Set(User, Config{Mode: New})
	if err := s.Validate(uid, gid); err != nil {
		t.Fatalf("Validate(granted ranges) = %v", err)
	}
	if !UseHelper(uid, gid, uidMap, gidMap) {
		t.Fatal("granted ranges do not call for the helpers")
	}
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := RunNewIDMap(c.pid(), uidMap, gidMap); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(c.pid())
	if err != nil {
		t.Fatal(err)
	}
	// newgidmap leaves setgroups allowed for a range, so the child can drop groups.
	if !reflect.DeepEqual(info.UIDMap, uidMap) || !reflect.DeepEqual(info.GIDMap, gidMap) || info.Setgroups != SetgroupsAllow {
		t.Fatalf("after newuidmap: uid_map %v gid_map %v setgroups %q", info.UIDMap, info.GIDMap, info.Setgroups)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}
}
