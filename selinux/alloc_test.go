package selinux

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestAllocatorConcurrentUnique(t *testing.T) {
	a := NewAllocator(0)
	const workers, each = 8, 500
	var mu sync.Mutex
	seen := make(map[Categories]bool)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c, err := a.Allocate()
				if err != nil {
					errs <- err
					return
				}
				if c[0] >= c[1] || c[1] > MaxCategory {
					errs <- &CategoriesError{Categories: c, N: 1024, Err: ErrInvalid}
					return
				}
				mu.Lock()
				dup := seen[c]
				seen[c] = true
				mu.Unlock()
				if dup {
					errs <- &CategoriesError{Categories: c, N: 1024, Err: ErrInUse}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := a.InUse(); n != workers*each {
		t.Fatalf("InUse = %d, want %d", n, workers*each)
	}
}

func TestAllocatorExhaustionReleaseReuse(t *testing.T) {
	a := NewAllocator(4) // c0..c3: 6 pairs
	got := make(map[Categories]bool)
	for range 6 {
		c, err := a.Allocate()
		if err != nil {
			t.Fatalf("Allocate after %d: %v", len(got), err)
		}
		if got[c] {
			t.Fatalf("pair %v handed out twice", c)
		}
		got[c] = true
	}
	_, err := a.Allocate()
	var ce *CategoriesError
	if !errors.Is(err, ErrInUse) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "all category pairs of c0..c") {
		t.Fatalf("Allocate when full = %v, want a *CategoriesError matching ErrInUse", err)
	}
	a.Release(Categories{3, 1}) // either order
	c, err := a.Allocate()
	if err != nil || c != (Categories{1, 3}) {
		t.Fatalf("Allocate after Release = %v, %v; want c1,c3", c, err)
	}
	a.Release(Categories{0, 2})
	a.Release(Categories{0, 2}) // releasing twice is harmless
	if n := a.InUse(); n != 5 {
		t.Fatalf("InUse = %d, want 5", n)
	}
}

func TestAllocatorReserve(t *testing.T) {
	a := NewAllocator(3) // c0..c2: 3 pairs
	if err := a.Reserve(Categories{2, 0}); err != nil {
		t.Fatal(err)
	}
	if err := a.Reserve(Categories{0, 2}); !errors.Is(err, ErrInUse) {
		t.Fatalf("second Reserve = %v, want ErrInUse", err)
	}
	for _, c := range []Categories{{1, 1}, {0, 3}} {
		if err := a.Reserve(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("Reserve(%v) = %v, want ErrInvalid", c, err)
		}
	}
	if err := a.ReserveLabel("system_u:system_r:container_t:s0:c1,c2"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"system_u:system_r:spc_t:s0", "system_u:system_r:spc_t", "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023"} {
		if err := a.ReserveLabel(l); err != nil {
			t.Errorf("ReserveLabel(%q) = %v, want nil (nothing to reserve)", l, err)
		}
	}
	if err := a.ReserveLabel("bogus"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReserveLabel(bogus) = %v, want ErrInvalid", err)
	}
	// Only c0,c1 is left: Allocate must find it.
	c, err := a.Allocate()
	if err != nil || c != (Categories{0, 1}) {
		t.Fatalf("Allocate = %v, %v; want c0,c1", c, err)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrInUse) {
		t.Fatalf("Allocate = %v, want ErrInUse", err)
	}
}

func TestAllocatorTooFewCategories(t *testing.T) {
	if _, err := NewAllocator(1).Allocate(); !errors.Is(err, ErrInUse) {
		t.Fatalf("Allocate with one category = %v, want ErrInUse", err)
	}
}
