package oci

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hooks are programs that an OCI runtime runs at points of a container's life
// cycle, around the sandbox rather than in it: a Spec does not describe them, so
// Convert only checks them and HooksOf hands them to the runtime.
//
// The runtime-spec's points (POSIX-platform Hooks), in the order they come:
//   - prestart (deprecated) and createRuntime: once the container is set up,
//     before its process runs, in the runtime's namespaces;
//   - createContainer: then, in the container's namespaces, with the path
//     resolved in the runtime's;
//   - startContainer: at start, in the container, before its process runs, with
//     the path resolved in the container;
//   - poststart: once the process runs;
//   - poststop: once the container is deleted.
//
// Each gets the container's state (specs.State, as JSON) on its standard input.
// A failure of one of the first four fails the container; of the last two, it is
// a warning.
type Hooks struct {
	Prestart, CreateRuntime, CreateContainer, StartContainer, Poststart, Poststop []Hook
}

// BeforePivot reports whether hs has hooks that run while the container waits
// before pivot_root (prestart, createRuntime, createContainer): a runtime then
// builds with sandbox.WithHoldBeforePivot. A nil *Hooks has none.
func (hs *Hooks) BeforePivot() bool {
	return hs != nil && len(hs.Prestart)+len(hs.CreateRuntime)+len(hs.CreateContainer) > 0
}

// A Hook is one hook of a configuration, checked.
type Hook struct {
	// Field is its path in the configuration, as "hooks.createRuntime[1]".
	Field string `json:"field"`
	// Path is the program, an absolute path.
	Path string `json:"path"`
	// Args is its argument vector, argv[0] first; empty means Path alone.
	Args []string `json:"args,omitempty"`
	// Env is its whole environment, KEY=VALUE entries.
	Env []string `json:"env,omitempty"`
	// Timeout, when not zero, is how long it may run before it is killed and
	// fails.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Argv returns the argument vector of h: Args, or Path alone where Args is
// empty.
func (h Hook) Argv() []string {
	if len(h.Args) == 0 {
		return []string{h.Path}
	}
	return h.Args
}

// Empty reports whether h has no hook at all.
func (h *Hooks) Empty() bool {
	return h == nil || len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+
		len(h.StartContainer)+len(h.Poststart)+len(h.Poststop) == 0
}

// HooksOf checks the hooks of cfg and returns them, nil where it has none. A
// hook whose path is not absolute, whose arguments or environment hold a NUL,
// whose environment entry is not KEY=VALUE, or whose timeout is not above zero
// fails with a *FieldError naming it (hooks.poststop[2].timeout) that matches
// sandbox.ErrInvalidSpec.
func HooksOf(cfg *specs.Spec) (*Hooks, error) {
	if cfg == nil || cfg.Hooks == nil {
		return nil, nil
	}
	h := cfg.Hooks
	out := &Hooks{}
	for _, k := range []struct {
		name string
		in   []specs.Hook
		out  *[]Hook
	}{
		//lint:ignore SA1019 a configuration may still list prestart hooks, which the runtime runs
		{"prestart", h.Prestart, &out.Prestart},
		{"createRuntime", h.CreateRuntime, &out.CreateRuntime}, {"createContainer", h.CreateContainer, &out.CreateContainer},
		{"startContainer", h.StartContainer, &out.StartContainer}, {"poststart", h.Poststart, &out.Poststart},
		{"poststop", h.Poststop, &out.Poststop},
	} {
		for i, in := range k.in {
			hk, err := checkHook(fmt.Sprintf("hooks.%s[%d]", k.name, i), in)
			if err != nil {
				return nil, err
			}
			*k.out = append(*k.out, hk)
		}
	}
	if out.Empty() {
		return nil, nil
	}
	return out, nil
}

// checkHook checks the hook in of the configuration at field.
func checkHook(field string, in specs.Hook) (Hook, error) {
	h := Hook{Field: field, Path: in.Path, Args: in.Args, Env: in.Env}
	switch {
	case in.Path == "":
		return h, invalid(field+".path", "a hook needs a path")
	case !filepath.IsAbs(in.Path):
		return h, invalid(field+".path", "%q is not an absolute path", in.Path)
	case strings.IndexByte(in.Path, 0) >= 0:
		return h, invalid(field+".path", "a NUL in the path")
	}
	for i, a := range in.Args {
		if strings.IndexByte(a, 0) >= 0 {
			return h, invalid(fmt.Sprintf("%s.args[%d]", field, i), "a NUL in an argument")
		}
	}
	for i, e := range in.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" || strings.IndexByte(e, 0) >= 0 {
			return h, invalid(fmt.Sprintf("%s.env[%d]", field, i), "%q is not KEY=VALUE", e)
		}
	}
	if in.Timeout != nil {
		if *in.Timeout <= 0 {
			return h, invalid(field+".timeout", "%d: a timeout must be above zero seconds", *in.Timeout)
		}
		h.Timeout = time.Duration(*in.Timeout) * time.Second
	}
	return h, nil
}
