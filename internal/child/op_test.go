package child

import (
	"slices"
	"testing"
)

// TestSplice: a spliced Program has the ops and steps of p with [from, to) replaced
// by q's, and p is left as it was, for a child that may still run it.
func TestSplice(t *testing.T) {
	mk := func(names ...string) *Program {
		p := &Program{}
		for _, n := range names {
			p.Syscall("s", n, 0, 0, p.CString(n))
		}
		return p
	}
	p, q := mk("a", "b", "c", "d"), mk("x", "y", "z")
	n := p.Splice(1, 3, q)
	whats := func(p *Program) []string {
		var w []string
		for _, s := range p.Steps {
			w = append(w, s.What)
		}
		return w
	}
	if got, want := whats(n), []string{"a", "x", "y", "z", "d"}; !slices.Equal(got, want) {
		t.Errorf("spliced steps %v, want %v", got, want)
	}
	if len(n.Ops) != 5 || n.Ops[1].Args[0] != q.Ops[0].Args[0] || n.Ops[4].Args[0] != p.Ops[3].Args[0] {
		t.Errorf("spliced ops do not follow the steps")
	}
	if got, want := whats(p), []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("the original changed: %v", got)
	}
	p.Detach(Detached{Path: "/old"})
	q.Detach(Detached{Path: "/new"})
	if n := p.Splice(1, 3, q); len(n.Detached) != 1 || n.Detached[0].Path != "/new" || len(p.Detached) != 1 {
		t.Errorf("the spliced program's detached mounts: %v, want q's", n.Detached)
	}
	if len(n.keep) != len(p.keep)+len(q.keep) {
		t.Errorf("the spliced program keeps %d objects alive, want %d", len(n.keep), len(p.keep)+len(q.keep))
	}
}
