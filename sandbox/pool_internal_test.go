package sandbox

import (
	"context"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestPoolAllocs counts the parent's allocations of a pooled Start+Wait, the
// refill left out (the pool is not refilled while it counts), beside an
// unpooled one of the same Template: a pooled one makes no more.
func TestPoolAllocs(t *testing.T) {
	testutil.Modes(t, testPoolAllocs)
}

func testPoolAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"nocgroup", []Option{WithoutCgroup()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := NewBuilder(c.opts...).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			const runs = 5
			if err := tpl.Pool(context.Background(), runs+1); err != nil {
				t.Fatal(err)
			}
			for tpl.Warm() != runs+1 {
				time.Sleep(time.Millisecond)
			}
			pl := tpl.pool.Load()
			pl.mu.Lock()
			pl.n = 0 // no refill while counting
			pl.mu.Unlock()
			ctx := context.Background()
			cmd := Command{Args: []string{"/bin/true"}}
			run := func() {
				p, err := tpl.Start(ctx, cmd)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			pooled := testing.AllocsPerRun(runs, run)
			if tpl.Warm() != 0 {
				t.Fatalf("%d warm left: not every start was pooled", tpl.Warm())
			}
			unpooled := testing.AllocsPerRun(runs, run)
			t.Logf("allocations per Start+Wait: pooled %.0f, unpooled %.0f", pooled, unpooled)
			if pooled > unpooled {
				t.Errorf("a pooled start allocates more than an unpooled one")
			}
		})
	}
}
