package network

import (
	"testing"
	"time"
)

// TestReadyBy: the wait for a helper ends at the start's deadline where that
// comes before readyTimeout, and after readyTimeout otherwise or without one.
func TestReadyBy(t *testing.T) {
	soon := time.Now().Add(time.Second)
	if got := readyBy(soon); !got.Equal(soon) {
		t.Errorf("readyBy(a deadline in 1 s) = %v, want the deadline %v", got, soon)
	}
	for _, d := range []time.Time{{}, time.Now().Add(time.Hour)} {
		if got := readyBy(d); got.After(time.Now().Add(readyTimeout)) || got.Before(time.Now().Add(readyTimeout-time.Second)) {
			t.Errorf("readyBy(%v) = %v, want readyTimeout from now", d, got)
		}
	}
}
