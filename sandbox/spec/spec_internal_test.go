package spec

import "testing"

// TestSpecChecksOrder: validate's checks have distinct names, and the namespaces,
// which resolve an automatic ID range, come before the checks that read it.
func TestSpecChecksOrder(t *testing.T) {
	at := map[string]int{}
	for i, sc := range specChecks {
		if _, dup := at[sc.name]; dup || sc.name == "" || sc.check == nil {
			t.Fatalf("check %d: name %q empty, repeated or without a function", i, sc.name)
		}
		at[sc.name] = i
	}
	for _, later := range []string{"user", "spawn"} {
		i, ok := at[later]
		if !ok || i < at["namespaces"] {
			t.Errorf("check %q runs before the namespaces resolve the ID range (or is missing)", later)
		}
	}
}
