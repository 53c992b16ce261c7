package selinux

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	good := []struct {
		in   []string
		want Spec
	}{
		{nil, Spec{}},
		{[]string{"disable"}, Spec{Disable: true}},
		{[]string{"label=disable"}, Spec{Disable: true}},
		{[]string{"type:spc_t"}, Spec{Type: "spc_t"}},
		{[]string{"label=type:container_init_t", "level:s0:c100,c200"}, Spec{Type: "container_init_t", Level: "s0:c100,c200"}},
		{[]string{"user:system_u", "role:system_r", "filetype:container_ro_file_t"}, Spec{User: "system_u", Role: "system_r", FileType: "container_ro_file_t"}},
		{[]string{"type:a_t", "type:a_t"}, Spec{Type: "a_t"}},
	}
	for _, c := range good {
		got, err := ParseOptions(c.in)
		if err != nil {
			t.Errorf("ParseOptions(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseOptions(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
	bad := []struct {
		in      []string
		culprit string
	}{
		{[]string{"nested"}, "nested"},
		{[]string{"type"}, "type"},
		{[]string{"type:"}, "type:"},
		{[]string{"kind:x_t"}, "kind:x_t"},
		{[]string{"type:a_t", "type:b_t"}, "type:b_t"},
		{[]string{"type:bad type"}, "bad type"},
		{[]string{"level:s0:c1,c1"}, "s0:c1,c1"},
		{[]string{"level:c1,c2"}, "c1,c2"},
		{[]string{"disable", "type:spc_t"}, "type:spc_t"},
		{[]string{"user:9u"}, "9u"},
	}
	for _, c := range bad {
		_, err := ParseOptions(c.in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseOptions(%q) = %v, want an error matching ErrInvalid", c.in, err)
			continue
		}
		if !strings.Contains(err.Error(), strconv.Quote(c.culprit)) {
			t.Errorf("ParseOptions(%q) = %v, want it to blame %q", c.in, err, c.culprit)
		}
	}
}

func TestSpecJSON(t *testing.T) {
	s := Spec{Type: "container_init_t", Level: "s0:c1,c2", User: "system_u", Role: "system_r", FileType: "container_file_t"}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, back) {
		t.Errorf("round trip: %+v -> %s -> %+v", s, b, back)
	}
	if b, _ := json.Marshal(Spec{}); string(b) != "{}" {
		t.Errorf("zero Spec marshals to %s, want {}", b)
	}
}

func TestCheckDisabledHost(t *testing.T) {
	for _, s := range []Spec{{}, {Disable: true}} {
		if err := s.check(false); err != nil {
			t.Errorf("%+v.check(disabled) = %v, want nil", s, err)
		}
	}
	for _, s := range []Spec{{Type: "spc_t"}, {Level: "s0:c1,c2"}, {User: "system_u"}, {Role: "system_r"}, {FileType: "container_file_t"}} {
		err := s.check(false)
		if !errors.Is(err, ErrNotSupported) || !strings.Contains(fmt.Sprint(err), "SELinux is disabled") {
			t.Errorf("%+v.check(disabled) = %v, want an error matching ErrNotSupported", s, err)
		}
		if err := s.check(true); err != nil {
			t.Errorf("%+v.check(enabled) = %v, want nil", s, err)
		}
	}
}
