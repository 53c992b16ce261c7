package cgroup

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
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
func Detect() Mode { return detected() }

var detected = sync.OnceValue(detectMode)

// detectMode tells the layouts apart by the filesystem types at their mount
// points (the kernel's cgroup-v1 and cgroup-v2 documentation): a cgroup2
// filesystem at /sys/fs/cgroup is the unified layout; a tmpfs holding the v1
// hierarchies (or a single v1 hierarchy mounted there) is v1, or hybrid when a
// cgroup2 filesystem is also mounted at /sys/fs/cgroup/unified, as systemd does.
// Anything else, such as the bare sysfs directory, means no cgroups.
func detectMode() Mode {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return Unavailable
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return V2
	case unix.TMPFS_MAGIC, unix.CGROUP_SUPER_MAGIC:
	default:
		return Unavailable
	}
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid
	}
	return V1
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
	if d.Major > math.MaxUint32 || d.Minor > math.MaxUint32 {
		// v1's devices.allow reads each number as a u32, and so does the v2
		// device program's context.
		return bad("a device number above 32 bits")
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
	// Path, when set, is the exact cgroup of the sandbox, as runc reads an OCI
	// configuration's cgroupsPath: an absolute path ("/machine/ctr") is the same
	// path below the root of every hierarchy the sandbox uses (each v1 controller
	// it needs, the unified one), a relative one is below the caller's own cgroup
	// of each hierarchy. It is created where it is missing, with any missing
	// parents, and joined as it is where it exists (an engine may make it first);
	// the limits are written to it either way. Removal removes it only where it
	// was created, and never its parents. Parent must then be empty. Every
	// Create of a Planner with a Path returns the one cgroup: the first makes
	// it, the others join it.
	Path string `json:"path,omitempty"`
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

// Validate checks the parent path or exact path, the resources and the device
// rules.
func (s *Spec) Validate() error {
	if s.Parent != "" {
		if err := checkPath("parent", s.Parent, true); err != nil {
			return err
		}
	}
	if s.Path != "" {
		if err := checkPath("path", s.Path, false); err != nil {
			return err
		}
		if s.Parent != "" {
			return &ResourceError{Field: "path", Value: strconv.Quote(s.Path), Reason: "given with a parent " + strconv.Quote(s.Parent) + ": an exact path has none"}
		}
		if s.Path == "/" || s.Path == "." {
			return &ResourceError{Field: "path", Value: strconv.Quote(s.Path), Reason: "names the caller's own or the root cgroup, not a cgroup of the sandbox's own"}
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

// checkPath checks a cgroup path: no NUL, no "..", clean (a trailing slash
// allowed where slash is).
func checkPath(field, p string, slash bool) error {
	clean := path.Clean(p)
	if strings.ContainsRune(p, 0) || clean != p && !(slash && clean+"/" == p) {
		return &ResourceError{Field: field, Value: strconv.Quote(p), Reason: "not a clean path"}
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return &ResourceError{Field: field, Value: strconv.Quote(p), Reason: "contains .."}
		}
	}
	return nil
}

// PathFor returns the cgroup path (as /proc/PID/cgroup names it) of the sandbox
// cgroup called name, for a caller whose own path in the hierarchy is own: Path
// resolved against own, or name below the resolved Parent.
func (s *Spec) PathFor(own, name string) string {
	if s.Path != "" {
		if path.IsAbs(s.Path) {
			return s.Path
		}
		return path.Join(own, s.Path)
	}
	return path.Join(resolveParent(s.Parent, own), name)
}

// validName checks a sandbox cgroup name.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return &ResourceError{Field: "name", Value: strconv.Quote(name), Reason: "not a single path element"}
	}
	return nil
}
