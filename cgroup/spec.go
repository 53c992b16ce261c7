package cgroup

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3"
)

// Mode is the cgroup layout of the host.
type Mode int

// The layouts Detect reports.
const (
	// Unavailable means no cgroup filesystem is mounted at /sys/fs/cgroup.
	Unavailable Mode = iota
	// V1 is the legacy layout: one hierarchy per controller.
	V1
	// Hybrid has the v1 hierarchies plus a v2 hierarchy at /sys/fs/cgroup/unified.
	Hybrid
	// V2 is the unified layout: a single v2 hierarchy at /sys/fs/cgroup.
	V2
)

// String implements fmt.Stringer.
func (m Mode) String() string {
	switch m {
	case V1:
		return "v1"
	case Hybrid:
		return "hybrid"
	case V2:
		return "v2"
	}
	return "unavailable"
}

// Detect reports the host's cgroup layout. The answer is computed once.
func Detect() Mode {
	switch cgroups.Mode() {
	case cgroups.Legacy:
		return V1
	case cgroups.Hybrid:
		return Hybrid
	case cgroups.Unified:
		return V2
	}
	return Unavailable
}

// Wildcard stands for every major or minor number in a DeviceRule.
const Wildcard = -1

// A DeviceRule allows or denies access to devices, as a line of the v1 devices
// controller's devices.allow or devices.deny.
type DeviceRule struct {
	// Allow is true for an allow rule, false for a deny rule.
	Allow bool `json:"allow"`
	// Type is 'a' (all devices), 'c' (character) or 'b' (block).
	Type string `json:"type"`
	// Major and Minor are device numbers, or Wildcard.
	Major int64 `json:"major"`
	Minor int64 `json:"minor"`
	// Access is a combination of 'r' (read), 'w' (write) and 'm' (mknod).
	Access string `json:"access"`
}

// String returns the rule in the kernel's format, e.g. "c 1:3 rwm" or "a".
func (d DeviceRule) String() string {
	if d.Type == "a" {
		return "a"
	}
	num := func(n int64) string {
		if n == Wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%s %s:%s %s", d.Type, num(d.Major), num(d.Minor), d.Access)
}

// validate checks d; field names it in the error.
func (d DeviceRule) validate(field string) error {
	bad := func(reason string) error { return &ResourceError{Field: field, Value: d.String(), Reason: reason} }
	switch d.Type {
	case "a", "b", "c":
	default:
		return bad(fmt.Sprintf("type %q is not a, b or c", d.Type))
	}
	if d.Type == "a" {
		return nil
	}
	if d.Major < Wildcard || d.Minor < Wildcard {
		return bad("negative device number")
	}
	if d.Access == "" {
		return bad("empty access")
	}
	for _, c := range d.Access {
		if !strings.ContainsRune("rwm", c) {
			return bad(fmt.Sprintf("access %q is not a combination of r, w and m", d.Access))
		}
	}
	return nil
}

// DefaultDevices returns Docker's (moby's) device rules: deny everything, allow mknod
// of any device node (opening one still needs an allow rule), and allow reading and
// writing /dev/null, zero, full, random, urandom, tty, console, ptmx and the
// pseudo-terminals /dev/pts/*.
func DefaultDevices() []DeviceRule {
	rwm := func(major, minor int64) DeviceRule {
		return DeviceRule{Allow: true, Type: "c", Major: major, Minor: minor, Access: "rwm"}
	}
	return []DeviceRule{
		{Allow: false, Type: "a"},
		{Allow: true, Type: "c", Major: Wildcard, Minor: Wildcard, Access: "m"},
		{Allow: true, Type: "b", Major: Wildcard, Minor: Wildcard, Access: "m"},
		rwm(1, 3),          // null
		rwm(1, 5),          // zero
		rwm(1, 7),          // full
		rwm(1, 8),          // random
		rwm(1, 9),          // urandom
		rwm(5, 0),          // tty
		rwm(5, 1),          // console
		rwm(5, 2),          // ptmx
		rwm(136, Wildcard), // pts
	}
}

// DefaultParentName is the directory, below the caller's own cgroup, in which sandbox
// cgroups are created when Spec.Parent is empty.
const DefaultParentName = "paddock"

// Spec is the cgroup part of a sandbox.
type Spec struct {
	// Parent is the cgroup path below which each sandbox gets its cgroup. An absolute
	// path ("/paddock") is the same path in every hierarchy; a relative one is below
	// the caller's own cgroup of each hierarchy. Empty means DefaultParentName below
	// the caller's own cgroup. Missing directories are created and left in place.
	Parent string `json:"parent,omitempty"`
	// Resources are the limits; nil limits nothing.
	Resources *Resources `json:"resources,omitempty"`
	// Devices are the device rules, applied in order. Nil means DefaultDevices.
	Devices []DeviceRule `json:"devices,omitempty"`
	// AllowAllDevices leaves device access as the parent cgroup has it (privileged),
	// ignoring Devices: no devices controller rule is written, no device program is
	// attached.
	AllowAllDevices bool `json:"allowAllDevices,omitempty"`
	// DeviceEnforcement chooses the mechanism that enforces the device rules;
	// DevicesAuto (empty) picks the cheapest one the host has.
	DeviceEnforcement DeviceEnforcement `json:"deviceEnforcement,omitempty"`
}

// DeviceRules returns the device rules that apply: none with AllowAllDevices,
// DefaultDevices when Devices is nil, Devices otherwise.
func (s *Spec) DeviceRules() []DeviceRule {
	switch {
	case s.AllowAllDevices:
		return nil
	case s.Devices == nil:
		return DefaultDevices()
	}
	return s.Devices
}

// Validate checks the parent path, the resources and the device rules.
func (s *Spec) Validate() error {
	if s.Parent != "" {
		if strings.ContainsRune(s.Parent, 0) || path.Clean(s.Parent) != s.Parent && path.Clean(s.Parent)+"/" != s.Parent {
			return &ResourceError{Field: "parent", Value: strconv.Quote(s.Parent), Reason: "not a clean path"}
		}
		for _, el := range strings.Split(s.Parent, "/") {
			if el == ".." {
				return &ResourceError{Field: "parent", Value: strconv.Quote(s.Parent), Reason: "contains .."}
			}
		}
	}
	if err := s.Resources.Validate(); err != nil {
		return err
	}
	if !s.DeviceEnforcement.valid() {
		return &ResourceError{Field: "deviceEnforcement", Value: strconv.Quote(string(s.DeviceEnforcement)), Reason: "not \"\", \"program\" or \"both\""}
	}
	if !s.AllowAllDevices {
		for i, d := range s.Devices {
			if err := d.validate(fmt.Sprintf("devices[%d]", i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// validName checks a sandbox cgroup name.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return &ResourceError{Field: "name", Value: strconv.Quote(name), Reason: "not a single path element"}
	}
	return nil
}
