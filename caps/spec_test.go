package caps

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestSpecFromSet(t *testing.T) {
	s := SpecFromSet(DockerDefault)
	sets, err := s.Sets()
	if err != nil {
		t.Fatal(err)
	}
	want := Sets{Bounding: DockerDefault, Effective: DockerDefault, Permitted: DockerDefault}
	if sets != want {
		t.Errorf("SpecFromSet(DockerDefault).Sets() = %v, want %v", sets, want)
	}
	if !reflect.DeepEqual(sets.Spec(), s) {
		t.Errorf("Sets.Spec() = %+v, want %+v", sets.Spec(), s)
	}
}

func TestSpecJSON(t *testing.T) {
	b, err := json.Marshal(Spec{Bounding: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"bounding":["CAP_KILL"],"ambient":["CAP_KILL"]}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var s Spec
	if err := json.Unmarshal([]byte(`{"bounding":["ALL"],"effective":["net_raw"],"permitted":["NET_RAW"],"inheritable":[],"ambient":[]}`), &s); err != nil {
		t.Fatal(err)
	}
	sets, err := s.Sets()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Sets{Bounding: Full(), Effective: Of(NetRaw), Permitted: Of(NetRaw)}); sets != want {
		t.Errorf("Sets() = %v, want %v", sets, want)
	}
}

func TestValidate(t *testing.T) {
	all := []string{"ALL"}
	for _, tc := range []struct {
		name        string
		spec        Spec
		set, entry  string
		reason      string
		wantUnknown bool
	}{
		{"zero spec", Spec{}, "", "", "", false},
		{"docker", SpecFromSet(DockerDefault), "", "", "", false},
		{"permitted outside bounding is allowed",
			Spec{Bounding: []string{"KILL"}, Permitted: []string{"NET_RAW"}, Effective: []string{"NET_RAW"}}, "", "", "", false},
		{"ambient",
			Spec{Bounding: all, Permitted: []string{"NET_RAW", "KILL"}, Inheritable: []string{"NET_RAW"}, Ambient: []string{"net_raw"}}, "", "", "", false},
		{"unknown bounding", Spec{Bounding: []string{"KILL", "CAP_NOPE"}}, "bounding", "CAP_NOPE", "", true},
		{"unknown ambient", Spec{Ambient: []string{"nope"}}, "ambient", "nope", "", true},
		{"effective not permitted",
			Spec{Bounding: all, Permitted: []string{"KILL"}, Effective: []string{"KILL", "SYS_ADMIN"}}, "effective", "CAP_SYS_ADMIN", "not in permitted", false},
		{"inheritable not bounding",
			Spec{Bounding: []string{"KILL"}, Inheritable: []string{"KILL", "CHOWN"}}, "inheritable", "CAP_CHOWN", "not in bounding", false},
		{"ambient not permitted",
			Spec{Bounding: all, Inheritable: []string{"NET_RAW"}, Ambient: []string{"NET_RAW"}}, "ambient", "CAP_NET_RAW", "not in permitted", false},
		{"ambient not inheritable",
			Spec{Bounding: all, Permitted: []string{"NET_RAW"}, Ambient: []string{"NET_RAW"}}, "ambient", "CAP_NET_RAW", "not in inheritable", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if tc.set == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Validate: %v, want a *SpecError", err)
			}
			if se.Set != tc.set || se.Name != tc.entry || se.Reason != tc.reason {
				t.Errorf("Validate: %#v, want set %q entry %q reason %q", se, tc.set, tc.entry, tc.reason)
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Errorf("%v does not match ErrInvalidSpec", err)
			}
			if errors.Is(err, ErrUnknown) != tc.wantUnknown {
				t.Errorf("errors.Is(%v, ErrUnknown) = %v", err, !tc.wantUnknown)
			}
			if _, err2 := tc.spec.Sets(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Sets() error %v differs from Validate's %v", err2, err)
			}
			t.Log(err)
		})
	}
}

func TestSetsString(t *testing.T) {
	s := Sets{Bounding: Of(Chown, Kill), Effective: Of(Kill), Permitted: Of(Kill)}
	want := "bounding=[CAP_CHOWN,CAP_KILL] effective=[CAP_KILL] permitted=[CAP_KILL] inheritable=[] ambient=[]"
	if got := s.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
