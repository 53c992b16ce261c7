package selinux

import (
	"errors"
	"testing"
)

func TestParseLabel(t *testing.T) {
	good := []struct {
		in   string
		want Label
	}{
		{"system_u:system_r:container_t:s0:c1,c2", Label{"system_u", "system_r", "container_t", "s0:c1,c2"}},
		{"system_u:object_r:container_file_t:s0", Label{"system_u", "object_r", "container_file_t", "s0"}},
		{"unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023", Label{"unconfined_u", "unconfined_r", "unconfined_t", "s0-s0:c0.c1023"}},
		{"user_u:user_r:user_t", Label{"user_u", "user_r", "user_t", ""}},
	}
	for _, c := range good {
		got, err := ParseLabel(c.in)
		if err != nil {
			t.Errorf("ParseLabel(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseLabel(%q) = %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.in {
			t.Errorf("ParseLabel(%q).String() = %q", c.in, got.String())
		}
	}
	bad := []string{
		"", "container_t", "system_u:system_r", "system_u::container_t", ":system_r:container_t",
		"system_u:system_r:container t:s0", "system_u:system_r:9t:s0", "system_u:system_r:container_t:",
		"system_u:system_r:container_t:s0:c1,c1", "system_u:system_r:container_t:s0:c1024",
		"system_u:system_r:container_t:x0", "system_u:system_r:container_t;rm:s0",
	}
	for _, in := range bad {
		_, err := ParseLabel(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseLabel(%q) = %v, want an error matching ErrInvalid", in, err)
		}
	}
}

func TestParseLevel(t *testing.T) {
	good := map[string]string{
		"s0":             "s0",
		"s0:c1,c2":       "s0:c1,c2",
		"s0:c0.c1023":    "s0:c0.c1023",
		"s0-s0:c0.c1023": "s0-s0:c0.c1023",
		"s0:c1,c3.c5":    "s0:c1,c3.c5",
		"s15:c1023":      "s15:c1023",
		"s0:c2,c1":       "s0:c2,c1",
		"s0:c1-s1:c1,c2": "s0:c1-s1:c1,c2",
	}
	for in, want := range good {
		l, err := ParseLevel(in)
		if err != nil {
			t.Errorf("ParseLevel(%q): %v", in, err)
			continue
		}
		if l.String() != want {
			t.Errorf("ParseLevel(%q).String() = %q, want %q", in, l.String(), want)
		}
	}
	bad := []string{
		"", "0", "s", "s-1", "s16", "s01", "s0:", "s0:c", "s0:c1,", "s0:c1,,c2", "s0:1,2",
		"s0:c1024", "s0:c5.c5", "s0:c5.c2", "s0:c1,c0.c3", "s0:c1,c1", "s1-s0", "s0:c1-s0:c2",
		"s0:c99999", "s0:c1 ", " s0",
	}
	for _, in := range bad {
		if _, err := ParseLevel(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseLevel(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

func TestLevelPair(t *testing.T) {
	cases := map[string]struct {
		c  Categories
		ok bool
	}{
		"s0:c1,c2":       {Categories{1, 2}, true},
		"s0:c9,c3":       {Categories{3, 9}, true},
		"s0":             {},
		"s0:c1":          {},
		"s0:c1,c2,c3":    {},
		"s0:c1.c2":       {},
		"s0-s0:c1,c2":    {},
		"s0:c0,c1023":    {Categories{0, 1023}, true},
		"s0:c0.c1023":    {},
		"s0:c1,c2-s0:c1": {},
	}
	for in, want := range cases {
		l, err := ParseLevel(in)
		if err != nil {
			if want.ok {
				t.Errorf("ParseLevel(%q): %v", in, err)
			}
			continue
		}
		c, ok := l.Pair()
		if c != want.c || ok != want.ok {
			t.Errorf("ParseLevel(%q).Pair() = %v, %v; want %v, %v", in, c, ok, want.c, want.ok)
		}
	}
}

func TestParseCategories(t *testing.T) {
	for in, want := range map[string]Categories{"c1,c2": {1, 2}, "s0:c7,c3": {3, 7}, "c0,c1023": {0, 1023}} {
		c, err := ParseCategories(in)
		if err != nil || c != want {
			t.Errorf("ParseCategories(%q) = %v, %v; want %v", in, c, err, want)
		}
	}
	for _, in := range []string{"", "c1", "c1,c1", "c1,c2,c3", "c0.c3", "s0", "c1,c1024"} {
		if _, err := ParseCategories(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseCategories(%q) = %v, want ErrInvalid", in, err)
		}
	}
	if got := (Categories{4, 17}).Level(); got != "s0:c4,c17" {
		t.Errorf("Level() = %q", got)
	}
}
