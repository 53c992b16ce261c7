package owner

import "testing"

// TestIDIn: an owner ID is read only from a name of the form prefix, 16
// hexadecimal digits, a dash.
func TestIDIn(t *testing.T) {
	for _, c := range []struct {
		name, id string
		ok       bool
	}{
		{StagingPrefix + "0123456789abcdef-42", "0123456789abcdef", true},
		{StagingPrefix + "0123456789abcdef", "", false},
		{StagingPrefix + "0123456789ABCDEF-1", "", false},
		{StagingPrefix + "0123456789abcde-1", "", false},
		{CgroupPrefix + "0123456789abcdef-1", "", false},
		{"x" + StagingPrefix + "0123456789abcdef-1", "", false},
	} {
		if id, ok := IDIn(c.name, StagingPrefix); id != c.id || ok != c.ok {
			t.Errorf("IDIn(%q) = %q, %v; want %q, %v", c.name, id, ok, c.id, c.ok)
		}
	}
}
