package namespace

import (
	"errors"
	"reflect"
	"testing"
)

// FuzzParseIDMap: ParseIDMap never panics, refuses with an error matching
// ErrInvalid, and what it accepts survives FormatIDMap: the text formats to maps
// that parse back the same.
func FuzzParseIDMap(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		maps, err := ParseIDMap(text)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseIDMap(%q): %T %v, want an error matching ErrInvalid", text, err, err)
			}
			return
		}
		again, err := ParseIDMap(FormatIDMap(maps))
		if err != nil || len(again) != len(maps) || len(maps) > 0 && !reflect.DeepEqual(again, maps) {
			t.Fatalf("ParseIDMap(%q) = %v, but its FormatIDMap %q parses as %v, %v", text, maps, FormatIDMap(maps), again, err)
		}
	})
}

// FuzzCheckMaps: the maps a root caller may give a new user namespace, read from
// the text of a map, are exactly those whose every range is non-empty, lies in
// 0..MaxID on both sides and overlaps no other; checkMaps never panics.
func FuzzCheckMaps(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		maps, err := ParseIDMap(text)
		if err != nil {
			return
		}
		err = checkMaps("uid", maps)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("checkMaps(%v): %v does not match ErrInvalid", maps, err)
		}
		if want := mapsFit(maps); (err == nil) != want {
			t.Fatalf("checkMaps(%v) = %v, but the maps fit: %v", maps, err, want)
		}
	})
}

// mapsFit is checkMaps's rule written out with 64-bit ends: non-empty ranges within
// 0..MaxID on both sides, pairwise disjoint on both sides, few enough lines.
func mapsFit(maps []IDMap) bool {
	if len(maps) > MaxIDMapEntries || len(FormatIDMap(maps)) >= maxIDMapText {
		return false
	}
	for i, m := range maps {
		if m.Size == 0 || uint64(m.ContainerID)+uint64(m.Size) > MaxID+1 || uint64(m.HostID)+uint64(m.Size) > MaxID+1 {
			return false
		}
		for _, o := range maps[:i] {
			inside := uint64(m.ContainerID) < uint64(o.ContainerID)+uint64(o.Size) && uint64(o.ContainerID) < uint64(m.ContainerID)+uint64(m.Size)
			outside := uint64(m.HostID) < uint64(o.HostID)+uint64(o.Size) && uint64(o.HostID) < uint64(m.HostID)+uint64(m.Size)
			if inside || outside {
				return false
			}
		}
	}
	return true
}
