package namespace

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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
	if _, err := Allocate(r); !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "all 2 blocks") {
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
	if links := openLockFiles(t); len(links) > 0 {
		t.Errorf("the lock file is still open with no block held: %v", links)
	}

	_, err = Allocate(AutoRange{User: "paddock-no-such-user", LockDir: dir})
	var ne *NoRangeError
	if !errors.As(err, &ne) || ne.File != SubUIDFile || !strings.Contains(err.Error(), `"paddock-no-such-user:1879048192:134217728"`) {
		t.Errorf("no range: %v", err)
	}
}

// TestAutoRangeResolve: defaults are filled in, given ranges are kept, and a range
// without a usable block, a relative lock directory or an oversized block is
// refused before anything is locked.
func TestAutoRangeResolve(t *testing.T) {
	r, err := AutoRange{UID: testRanges, GID: testRanges, Size: 1000}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (AutoRange{UID: testRanges, GID: testRanges}).Resolve(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("blocks of AutoSize in ranges of 5000: %v", err)
	}
	if r.User != AutoUser || r.Size != 1000 || r.LockDir != AutoLockDir || len(r.UID) != 3 {
		t.Errorf("resolved: %+v", r)
	}
	// The first block Allocate tries: not the range holding host root, nor the
	// one above MaxID.
	if start, ok := FirstBlock(testRanges, 1000); !ok || start != 200000 {
		t.Errorf("FirstBlock: %d %v, want 200000", start, ok)
	}
	if _, ok := FirstBlock(testRanges, 5000); ok {
		t.Error("FirstBlock of blocks larger than every usable range found one")
	}
	_, err = AutoRange{UID: testRanges, GID: []SubIDRange{{Start: 0, Count: 1 << 20}}, Size: 1000}.Resolve()
	var ne *NoRangeError
	if !errors.As(err, &ne) || ne.File != SubGIDFile || !errors.Is(err, ErrNotSupported) {
		t.Errorf("a gid range holding host root only: %v", err)
	}
	if _, err := (AutoRange{UID: testRanges, GID: testRanges, Size: 1 << 20}).Resolve(); !errors.As(err, &ne) || ne.Line() != "containers:1879048192:134217728" {
		t.Errorf("blocks larger than every range: %v", err)
	}
	if _, err := (AutoRange{UID: testRanges, GID: testRanges, LockDir: "ids"}).Resolve(); !errors.Is(err, ErrInvalid) {
		t.Errorf("a relative lock directory: %v", err)
	}
}

// TestValidateAuto: an automatic range needs a new user namespace, no maps of its
// own, a root caller and a usable block.
func TestValidateAuto(t *testing.T) {
	user := map[Kind]Config{User: {Mode: New}}
	auto := &AutoRange{UID: testRanges, GID: testRanges, Size: 1000}
	for _, c := range []struct {
		name string
		spec Spec
		uid  int
		want error
	}{
		{"root", Spec{NS: user, Auto: auto}, 0, nil},
		{"no user namespace", Spec{Auto: auto}, 0, ErrInvalid},
		{"with maps", Spec{NS: user, Auto: auto, UIDMap: OwnIDMap(0)}, 0, ErrInvalid},
		{"unprivileged", Spec{NS: user, Auto: auto}, 1000, ErrNotSupported},
		{"no block", Spec{NS: user, Auto: &AutoRange{UID: []SubIDRange{{Start: 0, Count: 10}}, GID: testRanges}}, 0, ErrNotSupported},
	} {
		err := c.spec.Validate(c.uid, c.uid)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	c := (&Spec{NS: user, Auto: auto}).Clone()
	c.Auto.UID[0].Start = 1
	if auto.UID[0].Start != 0 {
		t.Error("Clone shares the automatic range's ranges")
	}
}

// TestKeepMaps: the caller's own ID is itself inside, the subordinate ranges fill
// the IDs around it from 0 up, and it is mapped past a gap where they end below it.
func TestKeepMaps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(file, []byte("alice:200000:65536\nalice:300000:10\nbob:400000:100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := keepMaps(file, "alice", 1000, 1000)
	want := []IDMap{{0, 200000, 1000}, {1000, 1000, 1}, {1001, 201000, 64536}, {65537, 300000, 10}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("alice (1000): %v %v, want %v", got, err, want)
	}
	if err := checkMaps("uid", got); err != nil {
		t.Error(err)
	}
	got, err = keepMaps(file, "bob", 65534, 65534)
	want = []IDMap{{0, 400000, 100}, {65534, 65534, 1}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("bob (65534): %v %v, want %v", got, err, want)
	}
	if _, err := keepMaps(file, "carol", 2000, 2000); !errors.Is(err, ErrNotSupported) {
		t.Errorf("no ranges: %v", err)
	}
	if _, _, err := KeepIDMaps(0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("root: %v", err)
	}
}

// BenchmarkAllocate measures what an automatic range costs each start: taking a
// block (its lock files) and releasing it.
func BenchmarkAllocate(b *testing.B) {
	// On a tmpfs, as /run is: PADDOCK_BENCH_LOCKDIR=/run/some-dir.
	dir := os.Getenv("PADDOCK_BENCH_LOCKDIR")
	if dir == "" {
		dir = b.TempDir()
	}
	r, err := AutoRange{UID: testRanges, GID: testRanges, Size: 1000, LockDir: filepath.Join(dir, "ids")}.Resolve()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a, err := Allocate(r)
		if err != nil {
			b.Fatal(err)
		}
		a.Release()
	}
}

// openLockFiles lists this process's descriptors of lock files of allocations.
func openLockFiles(t *testing.T) []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasSuffix(l, "/"+LockFileName) {
			out = append(out, l)
		}
	}
	return out
}
