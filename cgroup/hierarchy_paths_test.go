package cgroup

import (
	"reflect"
	"testing"
)

// TestMembershipPaths: the v1 controllers by name, and "unified" only where a
// v2 line was present.
func TestMembershipPaths(t *testing.T) {
	m := Membership{V1: map[string]string{"memory": "/a", "pids": "/b"}, V2: "/c", HasV2: true}
	want := map[string]string{"memory": "/a", "pids": "/b", "unified": "/c"}
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("Paths = %v, want %v", got, want)
	}
	m.HasV2 = false
	delete(want, "unified")
	if got := m.Paths(); !reflect.DeepEqual(got, want) {
		t.Errorf("without v2: Paths = %v, want %v", got, want)
	}
}
