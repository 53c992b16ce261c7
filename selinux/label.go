package selinux

import (
	"strconv"
	"strings"
)

// MaxCategory is the highest MCS category of the targeted policy (c0..c1023).
const MaxCategory = 1023

// MaxSensitivity is the highest sensitivity this package accepts (s0..s15, the MLS
// policy's range; the targeted policy knows only s0).
const MaxSensitivity = 15

// A Label is a security context: user:role:type[:level]. Level may be empty on a policy
// without MLS/MCS.
type Label struct {
	User  string `json:"user"`
	Role  string `json:"role"`
	Type  string `json:"type"`
	Level string `json:"level,omitempty"`
}

// ParseLabel parses and validates a context such as "system_u:system_r:container_t:s0:c1,c2".
// The level, everything after the third colon, is optional.
func ParseLabel(s string) (Label, error) {
	f := strings.SplitN(s, ":", 4)
	if len(f) < 3 {
		return Label{}, invalid("label", s, "want user:role:type[:level]")
	}
	l := Label{User: f[0], Role: f[1], Type: f[2]}
	if len(f) == 4 {
		if f[3] == "" {
			return Label{}, invalid("label", s, "empty level after the third colon")
		}
		l.Level = f[3]
	}
	if err := l.Validate(); err != nil {
		return Label{}, err
	}
	return l, nil
}

// Validate checks each field of l: user, role and type are identifiers, the level (if
// any) parses with ParseLevel.
func (l Label) Validate() error {
	for _, f := range [...]struct{ name, v string }{{"user", l.User}, {"role", l.Role}, {"type", l.Type}} {
		if err := checkIdent(f.name, f.v); err != nil {
			return err
		}
	}
	if l.Level != "" {
		if _, err := ParseLevel(l.Level); err != nil {
			return err
		}
	}
	return nil
}

// String returns the context as the kernel reads it.
func (l Label) String() string {
	s := l.User + ":" + l.Role + ":" + l.Type
	if l.Level != "" {
		s += ":" + l.Level
	}
	return s
}

// checkIdent validates a user, role or type name: letters, digits, '_', '.', '-', not
// starting with a digit, '.' or '-'.
func checkIdent(what, s string) error {
	if s == "" {
		return invalid(what, s, "empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9') || c == '.' || c == '-':
			if i == 0 {
				return invalid(what, s, "must start with a letter or '_'")
			}
		default:
			return invalid(what, s, "character %q not allowed", c)
		}
	}
	return nil
}

// A CategoryRange is one item of a category set: a single category (From == To) or a
// range cFrom.cTo.
type CategoryRange struct {
	From, To uint16
}

// String implements fmt.Stringer.
func (r CategoryRange) String() string {
	if r.From == r.To {
		return "c" + strconv.Itoa(int(r.From))
	}
	return "c" + strconv.Itoa(int(r.From)) + ".c" + strconv.Itoa(int(r.To))
}

// A SensitivityLevel is one end of a level: a sensitivity and its category set, as in
// "s0:c1,c2" or "s0:c0.c1023".
type SensitivityLevel struct {
	Sensitivity uint16
	Categories  []CategoryRange
}

// String implements fmt.Stringer.
func (s SensitivityLevel) String() string {
	var b strings.Builder
	b.WriteString("s")
	b.WriteString(strconv.Itoa(int(s.Sensitivity)))
	for i, c := range s.Categories {
		if i == 0 {
			b.WriteByte(':')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// A Level is an MLS/MCS level "low[-high]". High is nil when the level is a single one,
// as container labels are ("s0:c1,c2").
type Level struct {
	Low  SensitivityLevel
	High *SensitivityLevel
}

// String implements fmt.Stringer.
func (l Level) String() string {
	if l.High == nil {
		return l.Low.String()
	}
	return l.Low.String() + "-" + l.High.String()
}

// Pair returns the categories of l when l is a single level with exactly two distinct
// single categories, as the labels an Allocator hands out are, smallest first.
func (l Level) Pair() (Categories, bool) {
	if l.High != nil || len(l.Low.Categories) != 2 {
		return Categories{}, false
	}
	a, b := l.Low.Categories[0], l.Low.Categories[1]
	if a.From != a.To || b.From != b.To || a.From == b.From {
		return Categories{}, false
	}
	return Categories{a.From, b.From}.normalize(), true
}

// ParseLevel parses and validates a level: "s0", "s0:c1,c2", "s0:c0.c1023",
// "s0-s0:c0.c1023". Sensitivities go up to MaxSensitivity, categories up to MaxCategory;
// a range must go upwards, no category may appear twice, and the high end of a range must
// not be below the low end.
func ParseLevel(s string) (Level, error) {
	lo, hi, ranged := strings.Cut(s, "-")
	var l Level
	var err error
	if l.Low, err = parseSensitivityLevel(s, lo); err != nil {
		return Level{}, err
	}
	if ranged {
		h, err := parseSensitivityLevel(s, hi)
		if err != nil {
			return Level{}, err
		}
		if h.Sensitivity < l.Low.Sensitivity {
			return Level{}, invalid("level", s, "high sensitivity s%d below low s%d", h.Sensitivity, l.Low.Sensitivity)
		}
		if !h.covers(l.Low) {
			return Level{}, invalid("level", s, "high categories do not include the low ones")
		}
		l.High = &h
	}
	return l, nil
}

func parseSensitivityLevel(whole, s string) (SensitivityLevel, error) {
	sens, cats, hasCats := strings.Cut(s, ":")
	var out SensitivityLevel
	n, err := parseNumber(sens, 's', MaxSensitivity)
	if err != nil {
		return out, invalid("level", whole, "sensitivity %q: %s", sens, err)
	}
	out.Sensitivity = n
	if !hasCats {
		return out, nil
	}
	seen := make(map[uint16]bool)
	for _, item := range strings.Split(cats, ",") {
		from, to, isRange := strings.Cut(item, ".")
		a, err := parseNumber(from, 'c', MaxCategory)
		if err != nil {
			return out, invalid("level", whole, "category %q: %s", item, err)
		}
		b := a
		if isRange {
			if b, err = parseNumber(to, 'c', MaxCategory); err != nil {
				return out, invalid("level", whole, "category %q: %s", item, err)
			}
			if b <= a {
				return out, invalid("level", whole, "category range %q does not go upwards", item)
			}
		}
		for c := a; ; c++ {
			if seen[c] {
				return out, invalid("level", whole, "category c%d appears twice", c)
			}
			seen[c] = true
			if c == b {
				break
			}
		}
		out.Categories = append(out.Categories, CategoryRange{a, b})
	}
	return out, nil
}

// covers reports whether the categories of s include all of those of o.
func (s SensitivityLevel) covers(o SensitivityLevel) bool {
	for _, r := range o.Categories {
		for c := int(r.From); c <= int(r.To); c++ {
			in := false
			for _, q := range s.Categories {
				if c >= int(q.From) && c <= int(q.To) {
					in = true
					break
				}
			}
			if !in {
				return false
			}
		}
	}
	return true
}

type parseErr string

// Error implements the error interface.
func (e parseErr) Error() string { return string(e) }

// parseNumber parses prefix followed by a decimal number no larger than max, without
// sign or leading zeros.
func parseNumber(s string, prefix byte, max int) (uint16, error) {
	if len(s) < 2 || s[0] != prefix {
		return 0, parseErr("want " + string(prefix) + "N")
	}
	d := s[1:]
	if len(d) > 1 && d[0] == '0' {
		return 0, parseErr("leading zero")
	}
	n, err := strconv.ParseUint(d, 10, 16)
	if err != nil {
		return 0, parseErr("not a number")
	}
	if int(n) > max {
		return 0, parseErr("above " + string(prefix) + strconv.Itoa(max))
	}
	return uint16(n), nil
}

// Categories is a pair of MCS categories, the unit that keeps two sandboxes apart. An
// Allocator hands them out with the smaller one first.
type Categories [2]uint16

func (c Categories) normalize() Categories {
	if c[0] > c[1] {
		c[0], c[1] = c[1], c[0]
	}
	return c
}

// String returns "cA,cB".
func (c Categories) String() string {
	return "c" + strconv.Itoa(int(c[0])) + ",c" + strconv.Itoa(int(c[1]))
}

// Level returns the level "s0:cA,cB" of a container with this pair.
func (c Categories) Level() string { return "s0:" + c.String() }

// ParseCategories parses "cA,cB" or a level "s0:cA,cB" into a pair.
func ParseCategories(s string) (Categories, error) {
	lv := s
	if !strings.HasPrefix(s, "s") {
		lv = "s0:" + s
	}
	l, err := ParseLevel(lv)
	if err != nil {
		return Categories{}, err
	}
	c, ok := l.Pair()
	if !ok {
		return Categories{}, invalid("categories", s, "want exactly two distinct categories, as in s0:c1,c2")
	}
	return c, nil
}
