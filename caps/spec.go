package caps

import "fmt"

// Spec is the capability part of a sandbox: the five capability sets of its first process,
// by name, with the JSON layout of the OCI runtime spec's process.capabilities. Names take any
// form Parse accepts, and "ALL" stands for every capability of the running kernel. The zero
// Spec grants nothing: every capability is dropped, even from the bounding set.
type Spec struct {
	Bounding    []string `json:"bounding,omitempty"`
	Effective   []string `json:"effective,omitempty"`
	Permitted   []string `json:"permitted,omitempty"`
	Inheritable []string `json:"inheritable,omitempty"`
	Ambient     []string `json:"ambient,omitempty"`
}

// SpecFromSet returns the Spec that grants s the way Docker does: s as the bounding,
// effective and permitted sets, and empty inheritable and ambient sets. A root process
// keeps s across execve; a non-root process gets no capabilities.
func SpecFromSet(s Set) Spec {
	return Spec{Bounding: s.Names(), Effective: s.Names(), Permitted: s.Names()}
}

// Validate reports the first entry of s that is unknown or that the kernel would refuse,
// as a *SpecError matching ErrInvalidSpec. See Sets.Validate for the rules.
func (s Spec) Validate() error {
	_, err := s.Sets()
	return err
}

// Sets resolves s to bit masks and validates the result as Validate does.
func (s Spec) Sets() (Sets, error) {
	var r Sets
	for _, f := range []struct {
		set   string
		names []string
		dst   *Set
	}{
		{"bounding", s.Bounding, &r.Bounding},
		{"effective", s.Effective, &r.Effective},
		{"permitted", s.Permitted, &r.Permitted},
		{"inheritable", s.Inheritable, &r.Inheritable},
		{"ambient", s.Ambient, &r.Ambient},
	} {
		m, name, err := parseSet(f.names)
		if err != nil {
			return Sets{}, &SpecError{Set: f.set, Name: name, Err: err}
		}
		*f.dst = m
	}
	if err := r.Validate(); err != nil {
		return Sets{}, err
	}
	return r, nil
}

// Sets holds the five capability sets of a process as bit masks.
type Sets struct {
	Bounding    Set `json:"bounding"`
	Effective   Set `json:"effective"`
	Permitted   Set `json:"permitted"`
	Inheritable Set `json:"inheritable"`
	Ambient     Set `json:"ambient"`
}

// Validate checks the rules the kernel enforces when the sets are applied in the order
// of the package documentation, and returns a *SpecError naming the first capability
// that breaks one:
//
//   - effective ⊆ permitted (capset refuses an effective capability that is not permitted);
//   - inheritable ⊆ bounding (capset refuses to add to the inheritable set a capability
//     outside the bounding set);
//   - ambient ⊆ permitted ∩ inheritable (PR_CAP_AMBIENT_RAISE refuses anything else).
//
// Permitted capabilities outside the bounding set are allowed, as the kernel allows them,
// but a root process loses them at execve.
func (s Sets) Validate() error {
	for _, r := range []struct {
		set, of  string
		sub, sup Set
	}{
		{"effective", "permitted", s.Effective, s.Permitted},
		{"inheritable", "bounding", s.Inheritable, s.Bounding},
		{"ambient", "permitted", s.Ambient, s.Permitted},
		{"ambient", "inheritable", s.Ambient, s.Inheritable},
	} {
		if extra := r.sub &^ r.sup; extra != 0 {
			return &SpecError{Set: r.set, Name: extra.List()[0].String(), Reason: "not in " + r.of}
		}
	}
	return nil
}

// Spec returns s by name, each set in ascending order.
func (s Sets) Spec() Spec {
	return Spec{
		Bounding:    s.Bounding.Names(),
		Effective:   s.Effective.Names(),
		Permitted:   s.Permitted.Names(),
		Inheritable: s.Inheritable.Names(),
		Ambient:     s.Ambient.Names(),
	}
}

// String returns the five sets by name on one line, such as
// "bounding=[CAP_CHOWN,CAP_KILL] effective=[] permitted=[] inheritable=[] ambient=[]".
func (s Sets) String() string {
	return fmt.Sprintf("bounding=[%v] effective=[%v] permitted=[%v] inheritable=[%v] ambient=[%v]",
		s.Bounding, s.Effective, s.Permitted, s.Inheritable, s.Ambient)
}
