package caps

import (
	"encoding/json"
	"testing"
)

// TestSetJSON: a set marshals to its names and reads back from them, and from
// its bits as a number.
func TestSetJSON(t *testing.T) {
	s := Sets{Bounding: Of(Chown, Kill)}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bounding":["CAP_CHOWN","CAP_KILL"],"effective":[],"permitted":[],"inheritable":[],"ambient":[]}`
	if string(b) != want {
		t.Errorf("marshal: %s, want %s", b, want)
	}
	var back Sets
	if err := json.Unmarshal(b, &back); err != nil || back != s {
		t.Errorf("unmarshal: %v %+v, want %+v", err, back, s)
	}
	var n Set
	if err := json.Unmarshal([]byte("3"), &n); err != nil || n != 3 {
		t.Errorf("unmarshal a number: %v %d", err, n)
	}
	if err := json.Unmarshal([]byte(`["CAP_NOPE"]`), &n); err == nil {
		t.Error("an unknown name is read")
	}
}
