package oci_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestHooksOf: the hooks of a configuration come out checked, in their order,
// named by their field; Convert accepts them and leaves them out of the Spec.
func TestHooksOf(t *testing.T) {
	two := 2
	cfg, bundle := base(t)
	cfg.Hooks = &specs.Hooks{
		//lint:ignore SA1019 the deprecated field is still run
		Prestart:        []specs.Hook{{Path: "/bin/pre"}},
		CreateRuntime:   []specs.Hook{{Path: "/bin/a", Args: []string{"a", "-x"}, Env: []string{"K=V"}, Timeout: &two}, {Path: "/bin/b"}},
		CreateContainer: []specs.Hook{{Path: "/bin/c"}},
		StartContainer:  []specs.Hook{{Path: "/bin/d"}},
		Poststart:       []specs.Hook{{Path: "/bin/e"}},
		Poststop:        []specs.Hook{{Path: "/bin/f"}},
	}
	h, err := oci.HooksOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := &oci.Hooks{
		Prestart: []oci.Hook{{Field: "hooks.prestart[0]", Path: "/bin/pre"}},
		CreateRuntime: []oci.Hook{
			{Field: "hooks.createRuntime[0]", Path: "/bin/a", Args: []string{"a", "-x"}, Env: []string{"K=V"}, Timeout: 2 * time.Second},
			{Field: "hooks.createRuntime[1]", Path: "/bin/b"},
		},
		CreateContainer: []oci.Hook{{Field: "hooks.createContainer[0]", Path: "/bin/c"}},
		StartContainer:  []oci.Hook{{Field: "hooks.startContainer[0]", Path: "/bin/d"}},
		Poststart:       []oci.Hook{{Field: "hooks.poststart[0]", Path: "/bin/e"}},
		Poststop:        []oci.Hook{{Field: "hooks.poststop[0]", Path: "/bin/f"}},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("HooksOf:\n got %+v\nwant %+v", h, want)
	}
	if got := h.CreateRuntime[1].Argv(); !reflect.DeepEqual(got, []string{"/bin/b"}) {
		t.Errorf("Argv without args: %q", got)
	}
	if _, _, err := oci.Convert(cfg, bundle); err != nil {
		t.Errorf("Convert with hooks: %v", err)
	}
	cfg.Hooks = &specs.Hooks{}
	if h, err := oci.HooksOf(cfg); h != nil || err != nil {
		t.Errorf("HooksOf of empty hooks: %v, %v", h, err)
	}
}

// TestHooksRefused: each wrong hook fails HooksOf and Convert naming its field.
func TestHooksRefused(t *testing.T) {
	zero, neg := 0, -1
	for _, tc := range []struct {
		hooks *specs.Hooks
		field string
	}{
		{&specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}, {Path: "bin/true"}}}, "hooks.poststop[1].path"},
		{&specs.Hooks{CreateRuntime: []specs.Hook{{}}}, "hooks.createRuntime[0].path"},
		{&specs.Hooks{StartContainer: []specs.Hook{{Path: "/x", Args: []string{"x", "a\x00b"}}}}, "hooks.startContainer[0].args[1]"},
		{&specs.Hooks{Poststart: []specs.Hook{{Path: "/x", Env: []string{"NOEQUALS"}}}}, "hooks.poststart[0].env[0]"},
		{&specs.Hooks{CreateContainer: []specs.Hook{{Path: "/x", Env: []string{"=v"}}}}, "hooks.createContainer[0].env[0]"},
		{&specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/x", Timeout: &zero}}}, "hooks.createRuntime[0].timeout"},
		{&specs.Hooks{Poststop: []specs.Hook{{Path: "/x", Timeout: &neg}}}, "hooks.poststop[0].timeout"},
	} {
		cfg, bundle := base(t)
		cfg.Hooks = tc.hooks
		_, err := oci.HooksOf(cfg)
		var fe *oci.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Errorf("HooksOf(%+v): %v; want a FieldError of %s", tc.hooks, err, tc.field)
		}
		if _, _, err := oci.Convert(cfg, bundle); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("Convert with %s: %v", tc.field, err)
		}
	}
}
