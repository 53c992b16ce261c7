package landlock

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseAccess(t *testing.T) {
	good := map[string]Access{
		"r": Read, "ro": Read, "rw": Read | Write, "wr": Read | Write, "x": Execute,
		"rx": Read | Execute, "rox": Read | Execute, "xr": Read | Execute, "rwx": Read | Write | Execute,
		"w": Write, "wx": Write | Execute,
	}
	for in, want := range good {
		got, err := ParseAccess(in)
		if err != nil || got != want {
			t.Errorf("ParseAccess(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseAccess(got.String()); err != nil || back != got {
			t.Errorf("ParseAccess(%q) does not round-trip: %v, %v", got.String(), back, err)
		}
	}
	for _, in := range []string{"", "o", "or", "rr", "rwo", "row", "rwxr", "read", "RW", "a", "r-x"} {
		_, err := ParseAccess(in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("access %q", in)) {
			t.Errorf("ParseAccess(%q) = %v, want an error matching ErrInvalid naming it", in, err)
		}
	}
	names := map[Access]string{Read: "ro", Read | Write: "rw", Execute: "x", Read | Execute: "rx", Read | Write | Execute: "rwx"}
	for a, want := range names {
		if a.String() != want {
			t.Errorf("%d.String() = %q, want %q", a, a.String(), want)
		}
	}
}

func TestParseOption(t *testing.T) {
	got, err := ParseOption("ro:/usr,rw:/tmp,rx:/bin,strict")
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Rules: []Rule{{"/usr", Read}, {"/tmp", Read | Write}, {"/bin", Read | Execute}}, Strict: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseOption = %+v, want %+v", got, want)
	}
	bad := []struct {
		in    string
		index int
	}{
		{"", 0},
		{"ro:/usr,", 1},
		{"/usr", 0},
		{"ro:/usr,rq:/tmp", 1},
		{"ro:usr", 0},
		{"ro:/usr/../etc", 0},
		{"ro:/usr/", 0},
		{"ro:/usr,rw:/usr", 1},
		{"ro:", 0},
	}
	for _, c := range bad {
		_, err := ParseOption(c.in)
		var re *RuleError
		if !errors.As(err, &re) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseOption(%q) = %v, want a *RuleError", c.in, err)
			continue
		}
		if re.Index != c.index {
			t.Errorf("ParseOption(%q) blames rule %d, want %d (%v)", c.in, re.Index, c.index, err)
		}
	}
	if _, err := ParseOption("ro:/usr,rq:/tmp"); !strings.Contains(fmt.Sprint(err), `access "rq": unknown letter 'q'`) {
		t.Errorf("unknown access: %v, want an error naming rq", err)
	}
}

func TestValidate(t *testing.T) {
	if err := (Spec{}).Validate(); err != nil {
		t.Errorf("zero Spec: %v", err)
	}
	bad := []Spec{
		{Rules: []Rule{{"/usr", 0}}},
		{Rules: []Rule{{"/usr", 8}}},
		{Rules: []Rule{{"relative", Read}}},
		{Rules: []Rule{{"/a\x00b", Read}}},
		{Rules: []Rule{{"/", Read}, {"//", Read}}},
	}
	for _, s := range bad {
		if err := s.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v.Validate() = %v, want ErrInvalid", s, err)
		}
	}
}

func TestSpecJSON(t *testing.T) {
	s := Spec{Rules: []Rule{{"/usr", Read | Execute}, {"/tmp", Read | Write}}, Strict: true}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"rules":[{"path":"/usr","access":"rx"},{"path":"/tmp","access":"rw"}],"strict":true}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("round trip: %+v", back)
	}
	err = json.Unmarshal([]byte(`{"rules":[{"path":"/usr","access":"rq"}]}`), &back)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown access in JSON = %v, want ErrInvalid", err)
	}
}
