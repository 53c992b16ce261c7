package child

import "testing"

// TestProbe checks that this kernel has what every start needs; a kernel that lacks
// it fails Build with the feature's name.
func TestProbe(t *testing.T) {
	if err := Probe(); err != nil {
		t.Fatalf("Probe: %v", err)
	}
}
