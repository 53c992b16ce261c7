package landlock

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Access is what a rule grants beneath its path: any combination of Read, Write and
// Execute. It is written "ro", "rw", "x", "rx", "rwx" (see ParseAccess).
type Access uint8

// The kinds of Access.
const (
	// Read allows reading files and listing directories.
	Read Access = 1 << iota
	// Write allows writing, truncating, creating, removing, renaming and linking files
	// and directories, and ioctl on devices.
	Write
	// Execute allows executing files.
	Execute
)

// ParseAccess parses an access string made of the letters r (read), w (write) and x
// (execute), each at most once, in any order; "ro" means read-only and is the same as
// "r" ("rox" is "rx").
func ParseAccess(s string) (Access, error) {
	if s == "" {
		return 0, accessError(s, "empty")
	}
	var a Access
	for i := 0; i < len(s); i++ {
		var bit Access
		switch s[i] {
		case 'r':
			bit = Read
		case 'w':
			bit = Write
		case 'x':
			bit = Execute
		case 'o':
			if i == 0 || s[i-1] != 'r' {
				return 0, accessError(s, "'o' (only) must follow 'r'")
			}
			continue
		default:
			return 0, accessError(s, fmt.Sprintf("unknown letter %q", s[i]))
		}
		if a&bit != 0 {
			return 0, accessError(s, fmt.Sprintf("letter %q given twice", s[i]))
		}
		a |= bit
	}
	if strings.Contains(s, "o") && a&Write != 0 {
		return 0, accessError(s, "read-only and write at once")
	}
	return a, nil
}

// String returns the canonical form: "ro", "rw", "x", "rx", "rwx", "w", "wx".
func (a Access) String() string {
	switch a {
	case 0:
		return ""
	case Read:
		return "ro"
	}
	var b strings.Builder
	if a&Read != 0 {
		b.WriteByte('r')
	}
	if a&Write != 0 {
		b.WriteByte('w')
	}
	if a&Execute != 0 {
		b.WriteByte('x')
	}
	if a&^(Read|Write|Execute) != 0 {
		fmt.Fprintf(&b, "?%#x", uint8(a&^(Read|Write|Execute)))
	}
	return b.String()
}

// Valid reports whether a is a non-empty combination of Read, Write and Execute.
func (a Access) Valid() bool { return a != 0 && a&^(Read|Write|Execute) == 0 }

// MarshalText returns the canonical form.
func (a Access) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, accessError(a.String(), "no such access")
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses with ParseAccess.
func (a *Access) UnmarshalText(b []byte) error {
	v, err := ParseAccess(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// A Rule grants Access beneath Path (a directory: everything under it; a file: that
// file). Path is as the sandbox sees it, after pivot_root.
type Rule struct {
	Path   string `json:"path"`
	Access Access `json:"access"`
}

// String implements fmt.Stringer.
func (r Rule) String() string { return r.Access.String() + ":" + r.Path }

// Spec is the Landlock part of a sandbox: the filesystem hierarchies it may use and
// how. When Rules is non-empty, every filesystem access outside them is denied. The zero
// Spec applies no Landlock ruleset.
type Spec struct {
	Rules []Rule `json:"rules,omitempty"`
	// Strict makes a kernel without Landlock an error (ErrNotSupported) instead of
	// running the sandbox without the ruleset.
	Strict bool `json:"strict,omitempty"`
}

// ParseOption parses a comma-separated list of ACCESS:PATH rules, such as
// "ro:/usr,rx:/bin,rw:/tmp"; the word "strict" in the list sets Strict. The result is
// validated. Paths containing a comma cannot be written this way; build the Spec
// directly.
func ParseOption(s string) (Spec, error) {
	var spec Spec
	for i, item := range strings.Split(s, ",") {
		if item == "strict" {
			spec.Strict = true
			continue
		}
		acc, path, ok := strings.Cut(item, ":")
		if !ok {
			return Spec{}, &RuleError{Index: i, Rule: item, Err: fmt.Errorf("%w: want ACCESS:PATH or strict", ErrInvalid)}
		}
		a, err := ParseAccess(acc)
		if err != nil {
			return Spec{}, &RuleError{Index: i, Rule: item, Err: err}
		}
		spec.Rules = append(spec.Rules, Rule{Path: path, Access: a})
	}
	if err := spec.Validate(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// Validate checks every rule: a valid access, an absolute, clean path without NUL, and
// no path given twice (write one rule with the combined access instead).
func (s Spec) Validate() error {
	seen := make(map[string]int, len(s.Rules))
	for i, r := range s.Rules {
		bad := func(format string, args ...any) error {
			return &RuleError{Index: i, Rule: r.String(), Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
		}
		if !r.Access.Valid() {
			return &RuleError{Index: i, Rule: r.String(), Err: accessError(r.Access.String(), "no such access")}
		}
		switch {
		case !filepath.IsAbs(r.Path):
			return bad("path %q is not absolute", r.Path)
		case strings.IndexByte(r.Path, 0) >= 0:
			return bad("path %q contains NUL", r.Path)
		case filepath.Clean(r.Path) != r.Path:
			return bad("path %q is not clean (want %q)", r.Path, filepath.Clean(r.Path))
		}
		if j, dup := seen[r.Path]; dup {
			return bad("path %q already has rule %d", r.Path, j)
		}
		seen[r.Path] = i
	}
	return nil
}
