package cgroup

import (
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Need is what Create will do for a Spec and a caller, decided before anything is
// created.
type Need struct {
	// Version is 1 when Create uses the v1 hierarchies (root on a V1 or Hybrid host),
	// 2 when it uses the unified hierarchy (V2 host, as root or in a delegated
	// subtree), and 0 when it creates no cgroup at all (no limits were asked and the
	// caller cannot create cgroups).
	Version int `json:"version"`
	// Controllers are the controllers the cgroup is created in (v1) or enabled for
	// (v2).
	Controllers []string `json:"controllers,omitempty"`
	// Unified is true when, on a Hybrid host, the sandbox also gets a cgroup in the v2
	// hierarchy: it groups the processes and kills them with cgroup.kill.
	Unified bool `json:"unified,omitempty"`
	// Devices is true when the device rules are enforced, by the v1 devices
	// controller ("devices" is then among Controllers), by a device program
	// (DeviceProgram), or both. On a v2 host an unprivileged caller cannot load a
	// device program: its rules are not enforced, and the sandbox's user namespace
	// (no mknod, no host device nodes unless bound in) is the guard.
	Devices bool `json:"devices,omitempty"`
	// DeviceProgram is true when a BPF_CGROUP_DEVICE program compiled from the
	// device rules is attached to the sandbox's v2 directory (see
	// DeviceEnforcement).
	DeviceProgram bool `json:"deviceProgram,omitempty"`
	// Reason explains a Version of 0.
	Reason string `json:"reason,omitempty"`
}

// wanted returns the controllers that r's limits need, by v1 name.
func wanted(r *Resources) []string {
	var c []string
	if r == nil {
		return nil
	}
	if r.Memory > 0 || r.MemorySwap > 0 || (r.Memory == 0 && r.MemorySwap != 0) {
		c = append(c, "memory")
	}
	if r.Pids > 0 {
		c = append(c, "pids")
	}
	if r.CPUQuota != 0 || r.CPUs != 0 || r.CPUShares != 0 || r.CPUWeight != 0 || r.CPUPeriod != 0 {
		c = append(c, "cpu")
	}
	if r.Cpuset != "" {
		c = append(c, "cpuset")
	}
	if r.IOWeight != 0 {
		c = append(c, "blkio")
	}
	for _, f := range r.fineWanted() {
		if !slices.Contains(c, f) {
			c = append(c, f)
		}
	}
	return c
}

// v2Name returns the v2 name of v1 controller c.
func v2Name(c string) string {
	if c == "blkio" {
		return "io"
	}
	return c
}

// Plan validates spec and decides what Create does for a caller with effective user
// ID euid. It fails with an error matching ErrNotSupported when spec asks for limits
// that this host or caller cannot have.
func Plan(spec *Spec, euid int) (Need, error) {
	if err := spec.Validate(); err != nil {
		return Need{}, err
	}
	want := wanted(spec.Resources)
	mode := Detect()
	l, err := loadLayout()
	if err != nil {
		return Need{}, fileError("read", "/proc/self/mountinfo", "", err)
	}
	if mode == V1 || mode == Hybrid {
		// The finer settings first, so that a refusal names the field.
		if err := spec.Resources.checkFineHost(1, l, nil, euid); err != nil {
			return Need{}, err
		}
	}
	switch {
	case mode == Unavailable:
		return noCgroup(spec, want, "no cgroup filesystem is mounted")
	case (mode == V1 || mode == Hybrid) && euid != 0:
		return noCgroup(spec, want, "cgroup v1 cannot be delegated to an unprivileged user")
	case mode == V1 || mode == Hybrid:
		return planV1(spec, l, want, mode == Hybrid && l.v2 != nil)
	}
	return planV2(spec, l, want, euid)
}

// noCgroup is the Need of a Spec that gets no cgroup, for reason: an error
// where it asks for limits (want), else no cgroup, and an exact path ignored
// as runc ignores a cgroup it cannot make when no resources are set.
func noCgroup(spec *Spec, want []string, reason string) (Need, error) {
	what := "resource limits (" + strings.Join(want, ", ") + ")"
	if spec.Path != "" {
		what += " in cgroup " + spec.Path
	}
	if len(want) > 0 {
		return Need{}, unsupported(what, reason)
	}
	if spec.Path != "" {
		reason = "cgroup " + spec.Path + " ignored, as no limits are asked: " + reason
	}
	return Need{Reason: reason}, nil
}

// planV1 is Plan on a cgroup v1 (or hybrid, with unified) host, as root.
func planV1(spec *Spec, l *layout, want []string, unified bool) (Need, error) {
	n := Need{Version: 1, Unified: unified}
	for _, c := range want {
		if l.v1[c] == nil {
			return Need{}, unsupported("controller "+c, "not mounted")
		}
	}
	// Base controllers: accounting (Stats) and freezing (KillAll) when mounted.
	for _, c := range []string{"memory", "pids", "cpuacct", "freezer"} {
		if l.v1[c] != nil && !slices.Contains(want, c) {
			want = append(want, c)
		}
	}
	if len(spec.DeviceRules()) > 0 {
		ctrl, prog, err := deviceMechanisms(spec.DeviceEnforcement, l.v1["devices"] != nil, n.Unified)
		if err != nil {
			return Need{}, err
		}
		if ctrl {
			want = append(want, "devices")
		}
		n.Devices, n.DeviceProgram = true, prog
	} else if spec.Path != "" && l.v1["devices"] != nil {
		// An exact cgroup is the same path in every hierarchy, as runc
		// makes it and as an OCI runtime's exec joins it. A new devices
		// cgroup copies its parent's rules: with none to write, access
		// stays the parent's.
		want = append(want, "devices")
	}
	n.Controllers = want
	return n, nil
}

// planV2 is Plan on a cgroup v2 host.
func planV2(spec *Spec, l *layout, want []string, euid int) (Need, error) {
	if l.v2 == nil {
		return noCgroup(spec, want, "the unified hierarchy is not mounted")
	}
	own, err := ReadMembership(0)
	if err != nil {
		return Need{}, err
	}
	target := path.Dir(spec.PathFor(own.V2, "sandbox"))
	if spec.Path != "" {
		target = spec.PathFor(own.V2, "")
	}
	dir := nearestExisting(l.v2.dir(target))
	if euid != 0 && unix.Access(dir, unix.W_OK) != nil {
		return noCgroup(spec, want, "no delegated cgroup v2 subtree: "+dir+" is not writable")
	}
	avail := readFields(filepath.Join(dir, "cgroup.controllers"))
	if err := spec.Resources.checkFineHost(2, l, avail, euid); err != nil {
		return Need{}, err
	}
	n := Need{Version: 2}
	for _, c := range want {
		if !slices.Contains(avail, v2Name(c)) {
			return Need{}, unsupported("controller "+v2Name(c), "not available in "+dir)
		}
		n.Controllers = append(n.Controllers, v2Name(c))
	}
	if len(spec.DeviceRules()) > 0 {
		switch {
		case euid == 0:
			n.Devices, n.DeviceProgram = true, true
		case spec.DeviceEnforcement == DevicesProgram:
			return Need{}, unsupported("device program", "loading a BPF program needs root")
		}
	}
	return n, nil
}

// deviceMechanisms decides, on a v1 or hybrid host, whether the device rules go to
// the v1 devices controller and whether a device program is attached to the unified
// directory.
func deviceMechanisms(e DeviceEnforcement, haveCtrl, haveUnified bool) (ctrl, prog bool, err error) {
	noCtrl := unsupported("device rules", "the devices controller is not mounted")
	noProg := unsupported("device program", "no unified hierarchy to attach it to")
	switch e {
	case DevicesProgram:
		if !haveUnified {
			return false, false, noProg
		}
		return false, true, nil
	case DevicesBoth:
		if !haveCtrl {
			return false, false, noCtrl
		}
		if !haveUnified {
			return false, false, noProg
		}
		return true, true, nil
	}
	switch {
	case haveCtrl:
		return true, false, nil
	case haveUnified:
		return false, true, nil
	}
	return false, false, unsupported("device rules", "the devices controller is not mounted and there is no unified hierarchy")
}

// nearestExisting returns dir or its closest existing ancestor.
func nearestExisting(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || dir == "/" || dir == "." {
			return dir
		}
		dir = path.Dir(dir)
	}
}

// readFields returns the space-separated words of a file, nil when it is unreadable.
func readFields(p string) []string {
	b, err := readFile(p)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}
