package selinux

import (
	"strings"
)

// Spec is the SELinux part of a sandbox, as Podman's --security-opt label=... options
// describe it. The zero Spec asks for the default container labels where SELinux is
// enabled and for nothing where it is not.
type Spec struct {
	// Disable runs the sandbox without an SELinux label of its own: the process keeps
	// whatever label the policy gives it at execve, and mounts get no context= option.
	Disable bool `json:"disable,omitempty"`
	// Type replaces the process type (container_t, or spc_t when privileged).
	Type string `json:"type,omitempty"`
	// Level replaces the unique MCS level the sandbox would get, e.g. "s0:c1,c2".
	// Sandboxes that share a level can share files; an explicit level is not reserved
	// in the Allocator.
	Level string `json:"level,omitempty"`
	// User and Role replace the SELinux user and role of the process label.
	User string `json:"user,omitempty"`
	Role string `json:"role,omitempty"`
	// FileType replaces the type of the file label (container_file_t).
	FileType string `json:"filetype,omitempty"`
}

// ParseOptions parses Podman-style label options: "type:T", "level:L", "user:U",
// "role:R", "filetype:T" and "disable". A "label=" prefix is accepted and dropped
// ("label=type:spc_t"). The result is validated.
func ParseOptions(opts []string) (Spec, error) {
	var s Spec
	for _, o := range opts {
		opt := strings.TrimPrefix(o, "label=")
		if opt == "disable" {
			s.Disable = true
			continue
		}
		key, val, ok := strings.Cut(opt, ":")
		if !ok {
			return Spec{}, invalid("option", o, "want key:value or disable")
		}
		if val == "" {
			return Spec{}, invalid("option", o, "empty value")
		}
		var dst *string
		switch key {
		case "type":
			dst = &s.Type
		case "level":
			dst = &s.Level
		case "user":
			dst = &s.User
		case "role":
			dst = &s.Role
		case "filetype":
			dst = &s.FileType
		default:
			return Spec{}, invalid("option", o, "unknown key %q (want type, level, user, role, filetype or disable)", key)
		}
		if *dst != "" && *dst != val {
			return Spec{}, invalid("option", o, "%s given twice", key)
		}
		*dst = val
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// Validate checks the syntax of every field. Disable together with an explicit label
// field is contradictory and rejected.
func (s Spec) Validate() error {
	if s.Disable {
		if f, v := s.demand(); f != "" {
			return invalid("option", f+":"+v, "conflicts with disable")
		}
		return nil
	}
	for _, f := range [...]struct{ name, v string }{{"user", s.User}, {"role", s.Role}, {"type", s.Type}, {"filetype", s.FileType}} {
		if f.v == "" {
			continue
		}
		if err := checkIdent(f.name, f.v); err != nil {
			return err
		}
	}
	if s.Level != "" {
		if _, err := ParseLevel(s.Level); err != nil {
			return err
		}
	}
	return nil
}

// demand returns the first field that asks for a specific label, and its value.
func (s Spec) demand() (field, value string) {
	for _, f := range [...]struct{ name, v string }{{"type", s.Type}, {"level", s.Level}, {"user", s.User}, {"role", s.Role}, {"filetype", s.FileType}} {
		if f.v != "" {
			return f.name, f.v
		}
	}
	return "", ""
}

// Check reports whether this host can honour s: where SELinux is disabled, a Spec that
// demands a label (any of Type, Level, User, Role, FileType) fails with an
// error matching ErrNotSupported that names the field. Disable and the zero Spec always pass.
func (s Spec) Check() error { return s.check(Enabled()) }

func (s Spec) check(enabled bool) error {
	if s.Disable || enabled {
		return nil
	}
	if f, v := s.demand(); f != "" {
		return unsupported(f, v)
	}
	return nil
}
