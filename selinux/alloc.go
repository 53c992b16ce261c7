package selinux

import (
	"math/rand/v2"
	"sync"
)

// DefaultAllocator is the process-wide Allocator over c0..c1023, used by Resolve when it
// is given none.
var DefaultAllocator = NewAllocator(0)

// An Allocator hands out MCS category pairs so that no two live sandboxes share one. It
// is safe for concurrent use. Pairs in use by other programs (containers started by
// Podman, earlier runs) can be declared with Reserve.
type Allocator struct {
	n    int // categories c0..c(n-1)
	mu   sync.Mutex
	used map[Categories]struct{}
}

// NewAllocator returns an Allocator over the categories c0..c(n-1). n <= 0 or above
// MaxCategory+1 means all 1024 categories of the targeted policy. With n categories
// there are n*(n-1)/2 pairs.
func NewAllocator(n int) *Allocator {
	if n <= 0 || n > MaxCategory+1 {
		n = MaxCategory + 1
	}
	return &Allocator{n: n, used: make(map[Categories]struct{})}
}

// randomTries is how many random pairs Allocate draws before it scans for a free one.
const randomTries = 32

// Allocate reserves and returns a free pair, chosen at random among the free ones as
// go-selinux does. When every pair is in use it returns a *CategoriesError matching
// ErrInUse.
func (a *Allocator) Allocate() (Categories, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n >= 2 {
		for range randomTries {
			x, y := rand.IntN(a.n), rand.IntN(a.n-1)
			if y >= x {
				y++
			}
			c := Categories{uint16(x), uint16(y)}.normalize()
			if _, ok := a.used[c]; !ok {
				a.used[c] = struct{}{}
				return c, nil
			}
		}
		// Nearly full: scan every pair, starting at a random first category.
		start := rand.IntN(a.n)
		for i := range a.n {
			x := (start + i) % a.n
			for y := x + 1; y < a.n; y++ {
				c := Categories{uint16(x), uint16(y)}
				if _, ok := a.used[c]; !ok {
					a.used[c] = struct{}{}
					return c, nil
				}
			}
		}
	}
	return Categories{}, &CategoriesError{N: a.n, Err: ErrInUse}
}

// Reserve marks c as in use, for a pair that something else already holds. It fails
// with ErrInUse if c is already reserved and with ErrInvalid if c is not two distinct
// categories within the Allocator's range.
func (a *Allocator) Reserve(c Categories) error {
	c = c.normalize()
	if c[0] == c[1] || int(c[1]) >= a.n {
		return &CategoriesError{Categories: c, N: a.n, Err: ErrInvalid}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.used[c]; ok {
		return &CategoriesError{Categories: c, N: a.n, Err: ErrInUse}
	}
	a.used[c] = struct{}{}
	return nil
}

// ReserveLabel reserves the category pair of a context such as
// "system_u:system_r:container_t:s0:c1,c2" (from Inspect of a running container). A
// label without a pair (no level, "s0", a range) reserves nothing and returns nil.
func (a *Allocator) ReserveLabel(label string) error {
	l, err := ParseLabel(label)
	if err != nil {
		return err
	}
	if l.Level == "" {
		return nil
	}
	lv, err := ParseLevel(l.Level)
	if err != nil {
		return err
	}
	if c, ok := lv.Pair(); ok {
		return a.Reserve(c)
	}
	return nil
}

// Release returns c to the free pairs. Releasing a pair that is not reserved does
// nothing.
func (a *Allocator) Release(c Categories) {
	a.mu.Lock()
	delete(a.used, c.normalize())
	a.mu.Unlock()
}

// InUse returns the number of reserved pairs.
func (a *Allocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.used)
}
