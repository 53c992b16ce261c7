package probecache

import (
	"errors"
	"testing"
)

// TestDo: a pass and a final refusal are kept, another error is probed again.
func TestDo(t *testing.T) {
	var c Cache[string]
	calls := map[string]int{}
	final := errors.New("not supported")
	passing := errors.New("busy")
	results := map[string]error{"pass": nil, "final": final, "passing": passing}
	for range 3 {
		for key, want := range results {
			got := c.Do(key, func() error { calls[key]++; return want }, func(err error) bool { return err == final })
			if got != want {
				t.Errorf("%s: %v, want %v", key, got, want)
			}
		}
	}
	if calls["pass"] != 1 || calls["final"] != 1 || calls["passing"] != 3 {
		t.Errorf("probes run: %v; want the pass and the final refusal once, the other error each time", calls)
	}
}
