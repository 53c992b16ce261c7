package namespace

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// envAllocHold makes the test binary hold one allocation of the range in
// PADDOCK_ALLOC_DIR and print its first uid until killed.
const envAllocHold = "PADDOCK_ALLOC_HOLD"

func init() {
	if os.Getenv(envAllocHold) != "1" {
		return
	}
	a, err := Allocate(AutoRange{UID: testRanges, GID: testRanges, Size: 1000, LockDir: os.Getenv("PADDOCK_ALLOC_DIR")})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString(FormatIDMapLine(a.UIDMap[0]) + "\n")
	select {}
}

var testRanges = []SubIDRange{{Start: 0, Count: 5000}, {Start: 3000000000, Count: 5000}, {Start: 200000, Count: 2500}}

// FormatIDMapLine is one entry of FormatIDMap, without its newline.
func FormatIDMapLine(m IDMap) string {
	return strings.TrimSpace(string(FormatIDMap([]IDMap{m})))
}

// TestAllocate: blocks come from the usable ranges only (not host ID 0, nothing
// above MaxID), aligned so that holders never overlap; a released block, and the
// block of a holder that was killed, are free again; when none is left the error
// says why and what to add.
func TestAllocate(t *testing.T) {
	dir := t.TempDir()
	r := AutoRange{UID: testRanges, GID: testRanges, Size: 1000, LockDir: dir}
	a, err := Allocate(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Allocate(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatIDMapLine(a.UIDMap[0]) + " / " + FormatIDMapLine(b.UIDMap[0]); got != "0 200000 1000 / 0 201000 1000" {
		t.Errorf("two allocations: %s", got)
	}
	if _, err := Allocate(r); !errors.Is(err, ErrNoSubIDs) || !strings.Contains(err.Error(), "all 2 blocks") {
		t.Errorf("a third allocation: %v", err)
	}
	a.Release()
	c, err := Allocate(r)
	if err != nil || c.UIDMap[0].HostID != 200000 {
		t.Fatalf("after a release: %v %v", c, err)
	}
	c.Release()
	b.Release()

	// A holder killed with SIGKILL frees its block with its death.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envAllocHold+"=1", "PADDOCK_ALLOC_DIR="+dir)
	if line := testutil.StartLine(t, cmd); line != "0 200000 1000\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the holder said %q", line)
	}
	d, err := Allocate(r)
	if err != nil || d.UIDMap[0].HostID != 201000 {
		t.Fatalf("beside a live holder: %v %v", d, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	e, err := Allocate(r)
	if err != nil || e.UIDMap[0].HostID != 200000 {
		t.Fatalf("after the holder died: %v %v", e, err)
	}
	d.Release()
	e.Release()

	_, err = Allocate(AutoRange{User: "paddock-no-such-user", LockDir: dir})
	var ne *NoRangeError
	if !errors.As(err, &ne) || ne.File != SubUIDFile || !strings.Contains(err.Error(), "paddock-no-such-user:1000000000:1000000000") {
		t.Errorf("no range: %v", err)
	}
}
