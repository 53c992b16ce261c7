package caps

import (
	"encoding/json"
	"strconv"
)

// MarshalJSON writes the set as the list of its capabilities' names
// (["CAP_CHOWN", ...]), which people can read.
func (s Set) MarshalJSON() ([]byte, error) {
	names := s.Names()
	if names == nil {
		names = []string{}
	}
	return json.Marshal(names)
}

// UnmarshalJSON reads a list of names, as MarshalJSON writes it, or the set's
// bits as a number.
func (s *Set) UnmarshalJSON(b []byte) error {
	if n, err := strconv.ParseUint(string(b), 10, 64); err == nil {
		*s = Set(n)
		return nil
	}
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	set, err := ParseSet(names)
	if err != nil {
		return err
	}
	*s = set
	return nil
}
