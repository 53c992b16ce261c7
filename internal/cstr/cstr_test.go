package cstr

import (
	"testing"
	"unsafe"
)

// goString reads the NUL-terminated string at p.
func goString(p *byte) string {
	var b []byte
	for ; *p != 0; p = (*byte)(unsafe.Add(unsafe.Pointer(p), 1)) {
		b = append(b, *p)
	}
	return string(b)
}

// TestArrays: an array ends in NULL and holds its strings NUL-terminated; exec
// candidates are the name itself when it holds a slash, else the name in each
// directory, without a terminator.
func TestArrays(t *testing.T) {
	a := NewArray([]string{"sh", "", "-c"})
	ptrs := unsafe.Slice(a.Ptr(), 4)
	for i, want := range []string{"sh", "", "-c"} {
		if got := goString(ptrs[i]); got != want {
			t.Errorf("argv[%d] = %q, want %q", i, got, want)
		}
	}
	if ptrs[3] != nil {
		t.Error("the array does not end in NULL")
	}
	for _, c := range []struct {
		name string
		dirs []string
		want []string
	}{
		{"/bin/sh", []string{"/usr/bin"}, []string{"/bin/sh"}},
		{"./run", []string{"/usr/bin"}, []string{"./run"}},
		{"sh", []string{"/usr/bin", "."}, []string{"/usr/bin/sh", "./sh"}},
		{"sh", nil, nil},
	} {
		got := ExecCandidates(c.name, c.dirs).Ptrs()
		if len(got) != len(c.want) {
			t.Errorf("%s in %v: %d candidates, want %d", c.name, c.dirs, len(got), len(c.want))
			continue
		}
		for i, p := range got {
			if s := goString(p); s != c.want[i] {
				t.Errorf("%s in %v: candidate %d = %q, want %q", c.name, c.dirs, i, s, c.want[i])
			}
		}
	}
}
