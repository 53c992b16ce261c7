package namespace

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSubIDRanges(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subuid")
	content := `# comment
alice:100000:65536
1000:300000:1000
bob:165536:65536

alice:400000:10
malformed line
alice:x:10
alice:500000:0
alice:4294967290:10
:600000:10
`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := SubIDRanges(file, "alice", 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []SubIDRange{{100000, 65536}, {300000, 1000}, {400000, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SubIDRanges(alice, 1000) = %v, want %v", got, want)
	}
	got, err = SubIDRanges(file, "bob", -1)
	if err != nil || !reflect.DeepEqual(got, []SubIDRange{{165536, 65536}}) {
		t.Fatalf("SubIDRanges(bob) = %v, %v", got, err)
	}
	if got, err := SubIDRanges(file, "carol", 2000); err != nil || len(got) != 0 {
		t.Fatalf("SubIDRanges(carol) = %v, %v, want none", got, err)
	}
	if got, err := SubIDRanges(filepath.Join(t.TempDir(), "missing"), "alice", 1000); err != nil || got != nil {
		t.Fatalf("SubIDRanges(missing file) = %v, %v, want nothing", got, err)
	}
}

func TestRangeMaps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "subuid")
	if err := os.WriteFile(file, []byte("alice:100000:65536\n1000:300000:1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := rangeMaps(file, "alice", 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []IDMap{{0, 1000, 1}, {1, 100000, 65536}, {65537, 300000, 1000}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rangeMaps = %v, want %v", got, want)
	}
	s := &Spec{UIDMap: got}
	s.Set(User, Config{Mode: New})
	if err := s.validate(0, 0, validator{}); err != nil {
		t.Fatalf("default range maps do not validate: %v", err)
	}
	// Grants that reach above MaxID are cut at it, or left out.
	if err := os.WriteFile(file, []byte("alice:2147483000:1000\nalice:3000000000:10\nalice:100000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = rangeMaps(file, "alice", 1000, 1000)
	want = []IDMap{{0, 1000, 1}, {1, 2147483000, 648}, {649, 100000, 65536}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("rangeMaps above MaxID = %v, %v, want %v", got, err, want)
	}
	s.UIDMap = got
	if err := s.validate(0, 0, validator{}); err != nil {
		t.Fatalf("range maps cut at MaxID do not validate: %v", err)
	}
	if _, err := rangeMaps(file, "bob", 2000, 2000); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("rangeMaps(bob) = %v, want ErrNotSupported", err)
	}
}

func TestDefaultRangeMaps(t *testing.T) {
	uidMap, gidMap, err := DefaultRangeMaps(os.Getuid(), os.Getgid())
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("this host grants no subordinate IDs to uid %d: %v", os.Getuid(), err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if uidMap[0] != (IDMap{0, uint32(os.Getuid()), 1}) || gidMap[0] != (IDMap{0, uint32(os.Getgid()), 1}) {
		t.Fatalf("DefaultRangeMaps = %v %v: container 0 is not the caller", uidMap, gidMap)
	}
}
