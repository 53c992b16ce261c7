package namespace

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// probeEnv makes the re-executed test binary run the unprivileged probe.
const probeEnv = "PADDOCK_NAMESPACE_PROBE"

// nobody is the unprivileged uid and gid the probe runs as.
const nobody = 65534

// TestUnprivileged re-executes the test binary as uid and gid 65534 so that
// Validate and RunNewIDMap take the real rootless paths, and the kernel's rule for
// a map written by the caller itself is checked.
func TestUnprivileged(t *testing.T) {
	requireRoot(t)
	reexec(t, "TestUnprivilegedProbe", "unprivileged", &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: nobody, Gid: nobody},
	})
}

// TestUnprivilegedProbe runs only inside TestUnprivileged.
func TestUnprivilegedProbe(t *testing.T) {
	if os.Getenv(probeEnv) != "unprivileged" {
		t.Skip("runs only when re-executed as an unprivileged uid by TestUnprivileged")
	}
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		t.Fatal("probe runs as root")
	}
	newUser := map[Kind]Config{User: {Mode: New}}

	// A range without /etc/subuid entries is refused, naming the entry.
	if r, _ := SubIDRanges(SubUIDFile, userName(uid), uid); len(r) > 0 {
		t.Skipf("%s grants ranges to uid %d: the refusal cannot be tested", SubUIDFile, uid)
	}
	rangeSpec := spec(newUser, []IDMap{{0, uint32(uid), 1}, {1, 100000, 65536}}, nil)
	err := rangeSpec.Validate(uid, gid)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "uid map entry 1 ") {
		t.Fatalf("Validate(range) = %v, want an error on uid entry 1", err)
	}
	t.Log(err)
	if _, _, err := DefaultRangeMaps(uid, gid); !errors.Is(err, ErrNotSupported) {
		t.Errorf("DefaultRangeMaps = %v, want ErrNotSupported", err)
	}

	// The single own-ID map is accepted and needs no helper.
	own := spec(newUser, OwnIDMap(uid), OwnIDMap(gid))
	if err := own.Validate(uid, gid); err != nil {
		t.Fatalf("Validate(own ID) = %v", err)
	}
	if UseHelper(uid, gid, own.UIDMap, own.GIDMap) {
		t.Error("UseHelper(own ID) = true")
	}

	// Writing it directly works with setgroups "deny"...
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := writeMaps(c.pid(), own.UIDMap, own.GIDMap, SetgroupsDeny); err != nil {
		t.Fatal(err)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}

	// ...and the kernel refuses the GID map with "allow".
	c = startWaiting(t, syscall.CLONE_NEWUSER)
	err = writeMaps(c.pid(), own.UIDMap, own.GIDMap, SetgroupsAllow)
	var pe *os.PathError
	if !errors.As(err, &pe) || !strings.HasSuffix(pe.Path, "/gid_map") || !errors.Is(err, syscall.EPERM) {
		t.Fatalf("writing the own-ID maps with setgroups allow as uid %d = %v, want EPERM on gid_map", uid, err)
	}

	// newuidmap refuses the range too, and says why.
	requireHelpers(t)
	c = startWaiting(t, syscall.CLONE_NEWUSER)
	err = RunNewIDMap(c.pid(), rangeSpec.UIDMap, nil)
	if !helperSaid(err, "newuidmap") {
		t.Fatalf("RunNewIDMap(range) = %v, want an error naming newuidmap with what it printed", err)
	}
	t.Log(err)
}
