package exposure

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// ErrUnknownMechanism is matched by the error of FromSpec or FromReport when a
// mechanism of the sandbox cannot be derived (a Spec that Build would refuse, a
// report whose capabilities or seccomp mode could not be read).
var ErrUnknownMechanism = errors.New("mechanism cannot be derived")

// deriveErr is the error of a mechanism, named by its field in the Spec or
// Report ("seccomp", "capabilities"), that could not be derived: it matches
// ErrUnknownMechanism and wraps the reason.
func deriveErr(field string, err error) error {
	return fmt.Errorf("exposure: deriving %s: %w (%w)", field, err, ErrUnknownMechanism)
}

// FromSpec derives the Mechanisms of a sandbox built from s by the calling
// process: those of its Plan (sandbox.Spec.Plan), as FromPlan reads them. The
// error, matching ErrUnknownMechanism, names the part of s that Build would also
// refuse.
func FromSpec(s *sandbox.Spec) (Mechanisms, error) {
	if s == nil {
		return Mechanisms{}, deriveErr("spec", errors.New("nil Spec"))
	}
	p, err := s.Plan()
	if err != nil {
		field := "spec"
		if se := (*sandbox.SpecError)(nil); errors.As(err, &se) {
			field = se.Field
		}
		return Mechanisms{}, deriveErr(field, err)
	}
	return FromPlan(p)
}

// FromPlan derives the Mechanisms of a sandbox from its Plan, as Build applies
// them on the host that made it:
//
//   - the namespaces that are the sandbox's own (new, or joined and not the
//     caller's), the host uid that root inside maps to (-1 where the maps of a
//     joined namespace cannot be read) and whether any uid inside maps to host
//     uid 0;
//   - the capability sets the target holds after its execve (the Plan's
//     Capabilities.Exec): a privileged Spec's "all" is bounded by the caller's
//     own bounding set; root gets its bounding and inheritable sets, any other
//     user only its ambient set (capabilities(7));
//   - the seccomp filter compiled from the Plan's profile, none for
//     unconfined and privileged;
//   - no_new_privs, set by the Spec or inherited from the caller;
//   - masked and read-only paths: the Plan's lists as the Spec gives them,
//     read-only binds and the kernel filesystems the Plan mounts read-only. A
//     read-only root is not listed, since /proc, /dev and /sys stay writable
//     mounts of their own;
//   - host paths: every bind, and the host's / at / where the sandbox keeps the
//     host's root. The default overlay root on the host's "/" is not a host path:
//     it is read-only underneath and writes go to the sandbox's own layer;
//   - device rules: those the Plan's cgroup enforces (root on a v1 or hybrid
//     host), none otherwise; the device nodes of the Plan's /dev;
//   - the SELinux process type, the Landlock rules where the child enforces
//     them, the kernel's release and the i386 gate;
//   - the running kernel's settings (HostFacts) where the Plan was made on it.
func FromPlan(p *plan.Plan) (Mechanisms, error) {
	if p == nil {
		return Mechanisms{}, deriveErr("plan", errors.New("nil Plan"))
	}
	m := Mechanisms{Name: p.Kind, Namespaces: map[namespace.Kind]namespace.Mode{}, Kernel: p.Kernel, I386: p.I386}
	if m.Name == "" {
		m.Name = "spec"
	}
	m.hostFacts()
	m.planNamespaces(p)
	x := p.Capabilities.Exec
	m.Bounding, m.Effective, m.Permitted = x.Bounding, x.Effective, x.Permitted
	if prof := p.Seccomp.Profile; prof != nil {
		f, err := seccomp.Compile(*prof)
		if err != nil {
			return Mechanisms{}, deriveErr("seccomp", err)
		}
		m.Seccomp = f
	}
	m.NoNewPrivs = p.NoNewPrivs.On()
	m.planFilesystem(p.Filesystem, p.New(namespace.Mount))
	m.Devices = slices.Clone(p.Cgroup.Devices)
	m.SELinux.Enabled = p.SELinux.Enabled
	if l, err := selinux.ParseLabel(p.SELinux.Labels.Process); err == nil && p.SELinux.Enabled {
		m.SELinux.Type = l.Type
	}
	if p.Landlock.Enforced {
		m.Landlock = slices.Clone(p.Landlock.Rules)
	}
	m.KernelCode = runningKernelCode(p.Kernel)
	return m, nil
}

// hostFacts sets Host and KernelDistribution from the running kernel's settings
// when m.Kernel is the running kernel (or unknown, which it then becomes); a Plan
// made on another kernel keeps them unknown.
func (m *Mechanisms) hostFacts() {
	h := ReadHost()
	if m.Kernel != "" && m.Kernel != h.Release {
		return
	}
	m.Kernel, m.KernelDistribution, m.Host = h.Release, h.Distribution, h
}

// planNamespaces sets the namespaces the sandbox has of its own and who root
// inside a new user namespace is outside.
func (m *Mechanisms) planNamespaces(p *plan.Plan) {
	for _, k := range namespace.Kinds {
		mode := namespace.Host
		if p.New(k) {
			mode = namespace.New
		}
		if k == namespace.User {
			m.UserNS = mode
			continue
		}
		m.Namespaces[k] = mode
	}
	if m.UserNS == namespace.New {
		m.specRoot(p.IDs.UIDMap)
	}
}

// maxMapped caps counts of mapped IDs so that they fit an int everywhere.
const maxMapped = 1<<31 - 1

// mappedIDs is how many IDs idMap maps, at most maxMapped.
func mappedIDs(idMap []namespace.IDMap) int {
	var n uint64
	for _, e := range idMap {
		n += uint64(e.Size)
	}
	return int(min(n, maxMapped))
}

// specRoot sets who root inside is outside, by uidMap, and whether the map
// reaches host root.
func (m *Mechanisms) specRoot(uidMap []namespace.IDMap) {
	if id, ok := namespace.MapToHost(uidMap, 0); ok {
		m.RootUID = int(id)
	} else {
		m.RootUID = -1
	}
	for _, e := range uidMap {
		if e.HostID == 0 && e.Size > 0 {
			m.MapsHostRoot = true
		}
	}
	m.MappedUIDs = mappedIDs(uidMap)
}

// planFilesystem sets the masked and read-only paths, the host paths and the
// device nodes of the Plan.
func (m *Mechanisms) planFilesystem(fs plan.Filesystem, newMount bool) {
	if newMount {
		m.Masked, m.ReadOnly = slices.Clone(fs.Masked), slices.Clone(fs.ReadOnly)
		// What the child mounts or binds read-only inside the new root (sysfs and
		// its cgroup mount in an unprivileged sandbox, read-only binds).
		for _, st := range fs.Steps {
			ro := (st.Action == mounts.ActMount || st.Action == mounts.ActBind) && st.Flags&unix.MS_RDONLY != 0
			if ro && st.InRoot && st.FSType != "tmpfs" && !slices.Contains(m.ReadOnly, st.Path) {
				m.ReadOnly = append(m.ReadOnly, st.Path)
			}
		}
	}
	for _, h := range fs.HostPaths {
		m.HostPaths = append(m.HostPaths, HostPath{Sandbox: h.Sandbox, Host: h.Host})
		if h.ReadOnly && !slices.Contains(m.ReadOnly, h.Sandbox) {
			m.ReadOnly = append(m.ReadOnly, h.Sandbox)
		}
	}
	m.DeviceNodes = slices.Clone(fs.DeviceNodes)
}

// i386Gate returns the state of the i386 gate for sandboxes this process starts,
// or "" (unknown) where the probe fails.
func i386Gate() seccomp.I386 {
	g, err := seccomp.I386Gate()
	if err != nil {
		return ""
	}
	return g
}

// hostI386Gate is i386Gate for another process: what the kernel decides. A filter
// that closes the gate to this process says nothing of the other's.
func hostI386Gate() seccomp.I386 {
	if g := i386Gate(); g != seccomp.I386Filtered {
		return g
	}
	return ""
}

// ReportOptions says what FromReportWith assumes for what a Report cannot show.
type ReportOptions struct {
	// Seccomp is the profile taken as loaded when the process is in seccomp's
	// filter mode, resolved as given (not against the capabilities). Nil means
	// Docker's default profile resolved against the process's bounding set,
	// which is what a Paddock sandbox of every non-privileged preset, Docker and
	// Podman (up to ENOSYS for unknown calls) load.
	Seccomp *seccomp.Profile
	// Landlock are the Landlock rules taken as enforced: the kernel does not show
	// a process's Landlock domain, so none are assumed by default.
	Landlock []landlock.Rule
}

// FromReport derives the Mechanisms of a live process from its Report
// (inspect.Process or ProcessAgainst), assuming Docker's default seccomp
// profile when the process is in filter mode: see FromReportWith.
func FromReport(r *inspect.Report) (Mechanisms, error) { return FromReportWith(r, ReportOptions{}) }

// FromReportWith derives the Mechanisms of a live process from its Report:
//
//   - namespaces from their states (a namespace that could not be judged
//     counts as the host's, the less isolated choice), the user namespace and
//     the host uid of root inside from its uid map;
//   - the three capability sets and no_new_privs as the report read them;
//   - seccomp: the kernel shows only the mode and the number of filters, never
//     the program. Mode "disabled" is no filter; "strict" is read, write, exit
//     and rt_sigreturn only; "filter" is opts.Seccomp, or by default Docker's
//     profile resolved against the bounding set. A process under another
//     filter must be judged with the profile given by the caller;
//   - masked and read-only paths that the report found in force (it checks the
//     default lists only), and the host's / wherever the report saw it. A path
//     of the default lists that the kernel lacks (such as
//     /sys/devices/virtual/powercap without RAPL) counts as masked or
//     read-only: it cannot be opened either, and the verdicts then match those
//     of FromSpec, whose lists name it;
//   - the device cgroup rules read now from the process's v1 devices cgroup
//     (devices.list), none when it has none; the device nodes now present in
//     its /dev (through /proc/PID/root);
//   - the SELinux type of its label; Landlock from opts (unknowable); the
//     running kernel's release and settings (HostFacts).
//
// The process must still be alive for the device parts. The error, matching
// ErrUnknownMechanism, names a part the report could not read.
func FromReportWith(r *inspect.Report, opts ReportOptions) (Mechanisms, error) {
	if r == nil {
		return Mechanisms{}, deriveErr("report", errors.New("nil Report"))
	}
	m := Mechanisms{Name: r.Kind, Namespaces: map[namespace.Kind]namespace.Mode{}, Kernel: inspect.KernelRelease(), I386: hostI386Gate()}
	m.KernelCode = runningKernelCode(m.Kernel)
	if m.Name == "" {
		m.Name = fmt.Sprintf("pid %d", r.PID)
	}
	m.hostFacts()
	for _, n := range r.Namespaces {
		mode := namespace.Host
		if n.State == inspect.NSNew {
			mode = namespace.New
		}
		if n.Kind == namespace.User {
			m.UserNS = mode
			continue
		}
		m.Namespaces[n.Kind] = mode
	}
	if m.UserNS == namespace.New {
		m.RootUID = -1
		if id, ok := namespace.MapToHost(r.UIDMap, 0); ok {
			m.RootUID = int(id)
		}
		for _, e := range r.UIDMap {
			if e.HostID == 0 && e.Size > 0 {
				m.MapsHostRoot = true
			}
		}
		m.MappedUIDs = mappedIDs(r.UIDMap)
	}

	c := r.Capabilities
	if c.Err != "" {
		return Mechanisms{}, deriveErr("capabilities", errors.New(c.Err))
	}
	var err error
	for _, x := range []struct {
		names []string
		dst   *caps.Set
	}{{c.Bounding, &m.Bounding}, {c.Effective, &m.Effective}, {c.Permitted, &m.Permitted}} {
		if *x.dst, err = caps.ParseSet(x.names); err != nil {
			return Mechanisms{}, deriveErr("capabilities", err)
		}
	}
	m.NoNewPrivs = r.NoNewPrivs

	if r.Seccomp.Err != "" {
		return Mechanisms{}, deriveErr("seccomp", errors.New(r.Seccomp.Err))
	}
	var prof *seccomp.Profile
	switch r.Seccomp.Mode {
	case "disabled":
	case "strict":
		p := strictProfile()
		prof = &p
	case "filter":
		if opts.Seccomp != nil {
			prof = opts.Seccomp
		} else {
			p := seccomp.Default(m.Bounding.Names())
			prof = &p
		}
	default:
		return Mechanisms{}, deriveErr("seccomp", fmt.Errorf("mode %q", r.Seccomp.Mode))
	}
	if prof != nil {
		if m.Seccomp, err = seccomp.Compile(*prof); err != nil {
			return Mechanisms{}, deriveErr("seccomp", err)
		}
	}

	if r.Mounts.Err != "" {
		return Mechanisms{}, deriveErr("mounts", errors.New(r.Mounts.Err))
	}
	m.Masked = append([]string(nil), r.Mounts.Masked...)
	m.Masked = append(m.Masked, missing(mounts.DefaultMasked, r.Mounts.Masked, r.Mounts.Unmasked)...)
	m.ReadOnly = append([]string(nil), r.Mounts.ReadOnly...)
	m.ReadOnly = append(m.ReadOnly, missing(mounts.DefaultReadOnly, r.Mounts.ReadOnly, r.Mounts.Writable)...)
	for _, p := range r.Mounts.HostRoot {
		m.HostPaths = append(m.HostPaths, HostPath{Sandbox: p, Host: "/"})
	}

	m.Devices = liveDeviceRules(r.PID)
	m.DeviceNodes = liveDeviceNodes(r.PID)

	m.SELinux.Enabled = r.SELinux.Enabled
	if r.SELinux.Label != "" {
		if l, err := selinux.ParseLabel(r.SELinux.Label); err == nil {
			m.SELinux.Type = l.Type
		}
	}
	m.Landlock = append([]landlock.Rule(nil), opts.Landlock...)
	return m, nil
}

// missing returns the paths of list that the report found neither in force nor
// without it: the kernel lacks them.
func missing(list, in, out []string) []string {
	var miss []string
	for _, p := range list {
		found := false
		for _, x := range append(in[:len(in):len(in)], out...) {
			if matchPath(p, x) {
				found = true
				break
			}
		}
		if !found {
			miss = append(miss, p)
		}
	}
	return miss
}

// strictProfile is seccomp's strict mode as a profile: read, write, exit and
// rt_sigreturn; anything else kills (seccomp(2), SECCOMP_SET_MODE_STRICT).
func strictProfile() seccomp.Profile {
	return seccomp.Profile{
		DefaultAction: seccomp.ActKillProcess,
		Syscalls:      []seccomp.Rule{{Names: []string{"read", "write", "exit", "rt_sigreturn"}, Action: seccomp.ActAllow}},
	}
}

// liveDeviceRules reads the v1 devices cgroup of pid: nil when the process has
// none or it allows everything; otherwise a deny-all rule followed by the
// allowed entries of devices.list.
func liveDeviceRules(pid int) []cgroup.DeviceRule {
	info, err := cgroup.Inspect(pid)
	if err != nil {
		return nil
	}
	dir := info.Dirs["devices"]
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return nil
	}
	rules := []cgroup.DeviceRule{{Allow: false, Type: "a"}}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if f[0] == "a" {
			return nil // the whole device space is allowed
		}
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		rules = append(rules, cgroup.DeviceRule{Allow: true, Type: f[0], Major: devNumber(maj), Minor: devNumber(min), Access: f[2]})
	}
	return rules
}

func devNumber(s string) int64 {
	if s == "*" {
		return cgroup.Wildcard
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil {
		return cgroup.Wildcard
	}
	return n
}

// liveDeviceNodes lists the device nodes in pid's /dev and one level below,
// following only symbolic links that stay inside /dev (ptmx -> pts/ptmx); a
// devpts instance counts as "/dev/pts/*". Nil when the /dev cannot be read.
func liveDeviceNodes(pid int) []string {
	root := fmt.Sprintf("/proc/%d/root", pid)
	var nodes []string
	isDev := func(p string) bool {
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return false
		}
		t := st.Mode & unix.S_IFMT
		return t == unix.S_IFCHR || t == unix.S_IFBLK
	}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		ents, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name())
			full := filepath.Join(root, p)
			switch {
			case e.Type()&os.ModeSymlink != 0:
				t, err := os.Readlink(full)
				if err != nil || path.IsAbs(t) {
					continue
				}
				if target := path.Join(dir, t); strings.HasPrefix(target, "/dev/") && isDev(filepath.Join(root, target)) {
					nodes = append(nodes, p)
				}
			case e.IsDir() && depth == 0:
				if p == "/dev/pts" && isDev(filepath.Join(full, "ptmx")) {
					nodes = append(nodes, "/dev/pts/*")
					continue
				}
				walk(p, 1)
			case isDev(full):
				nodes = append(nodes, p)
			}
		}
	}
	walk("/dev", 0)
	return nodes
}
