package exposure

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// A Layer is one isolation mechanism that can stand between a sandbox and a flaw.
type Layer string

// The layers, in the order reports list them.
const (
	LayerSeccomp       Layer = "seccomp"
	LayerCapabilities  Layer = "capabilities"
	LayerUserNS        Layer = "user-namespace"
	LayerNamespaces    Layer = "namespaces"
	LayerMaskedPaths   Layer = "masked-paths"
	LayerReadOnlyPaths Layer = "read-only-paths"
	LayerDeviceCgroup  Layer = "device-cgroup"
	LayerSELinux       Layer = "selinux"
	LayerLandlock      Layer = "landlock"
	LayerNoNewPrivs    Layer = "no-new-privs"
	LayerKernelVersion Layer = "kernel-version"
	// LayerKernelConfig is a feature the running kernel lacks: code it was
	// built without (a classifier, a filesystem, a socket family), or IA32
	// emulation, without which no i386 system call reaches the kernel.
	LayerKernelConfig Layer = "kernel-config"
)

// Layers lists every layer in report order.
var Layers = []Layer{LayerSeccomp, LayerCapabilities, LayerUserNS, LayerNamespaces, LayerMaskedPaths,
	LayerReadOnlyPaths, LayerDeviceCgroup, LayerSELinux, LayerLandlock, LayerNoNewPrivs, LayerKernelVersion, LayerKernelConfig}

// A Verdict is the result of evaluating one flaw against one sandbox.
type Verdict struct {
	// Flaw is the flaw's ID.
	Flaw string `json:"flaw"`
	// Exposed is true when every condition of the flaw is met in the sandbox.
	Exposed bool `json:"exposed"`
	// Blockers are the layers that stop the flaw on their own: with every other
	// layer removed, the flaw would still be unreachable. A mitigated flaw with no
	// blocker is stopped only by a combination of layers.
	Blockers []Layer `json:"blockers,omitempty"`
	// Combinations lists, when no layer blocks on its own, the pairs of layers
	// that block the flaw together (every other layer removed).
	Combinations [][]Layer `json:"combinations,omitempty"`
	// VersionDependent is set when the kernel is a distribution's: its
	// version cannot tell whether the fix was backported, so the kernel-version
	// layer is not counted (the verdict holds for a kernel without the fix).
	VersionDependent bool `json:"versionDependent,omitempty"`
	// Steps is the reasoning, one plain sentence per check, in order.
	Steps []string `json:"steps"`
}

// String is "exposed", "mitigated (layer, ...)" or "mitigated (combined)".
func (v Verdict) String() string {
	if v.Exposed && v.VersionDependent {
		return "exposed (version-dependent)"
	}
	if v.Exposed {
		return "exposed"
	}
	if len(v.Blockers) == 0 {
		if len(v.Combinations) == 0 {
			return "mitigated (combined)"
		}
		c := make([]string, len(v.Combinations))
		for i, p := range v.Combinations {
			c[i] = layerList(p, "+")
		}
		return "mitigated (" + strings.Join(c, ", ") + ")"
	}
	return "mitigated (" + layerList(v.Blockers, ", ") + ")"
}

func layerList(ls []Layer, sep string) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, sep)
}

// Evaluate decides whether flaw f is reachable from inside a sandbox with
// mechanisms m, which layers block it on their own, and why (see the package
// documentation for the rules). f should be valid (Validate); unknown syscall
// names count as unreachable.
func Evaluate(m Mechanisms, f Flaw) Verdict {
	var steps []string
	ok := reach(&m, &f, func(s string) { steps = append(steps, s) })
	v := Verdict{Flaw: f.ID, Exposed: ok, Steps: steps, VersionDependent: versionDependent(&m, &f)}
	if ok {
		v.Steps = append(v.Steps, "Every condition holds: the flaw is reachable from inside the sandbox.")
		return v
	}
	quiet := func(string) {}
	for _, l := range Layers {
		r := relaxed(m, l)
		if !reach(&r, &f, quiet) {
			v.Blockers = append(v.Blockers, l)
		}
	}
	if len(v.Blockers) > 0 {
		v.Steps = append(v.Steps, fmt.Sprintf("Layers that stop it even with every other layer removed: %s.", layerList(v.Blockers, ", ")))
		return v
	}
	for i, a := range Layers {
		for _, b := range Layers[i+1:] {
			r := relaxed(m, a, b)
			if !reach(&r, &f, quiet) {
				v.Combinations = append(v.Combinations, []Layer{a, b})
			}
		}
	}
	if len(v.Combinations) == 0 {
		v.Steps = append(v.Steps, "No single layer or pair of layers stops the flaw on its own; only their combination does.")
	} else {
		c := make([]string, len(v.Combinations))
		for i, p := range v.Combinations {
			c[i] = layerList(p, " with ")
		}
		v.Steps = append(v.Steps, "No single layer stops it on its own; these pairs do, with every other layer removed: "+strings.Join(c, "; ")+".")
	}
	return v
}

// EvaluateAll evaluates every flaw against m.
func EvaluateAll(m Mechanisms, flaws []Flaw) []Verdict {
	out := make([]Verdict, len(flaws))
	for i, f := range flaws {
		out[i] = Evaluate(m, f)
	}
	return out
}

// relaxed returns the most permissive sandbox that keeps only layer keep of m:
// root of the initial user namespace with every capability, every namespace
// shared with the host (its / visible, its /dev present), no seccomp filter,
// masks, read-only paths, device cgroup, SELinux confinement or Landlock rules,
// no_new_privs off and the kernel assumed affected.
func relaxed(m Mechanisms, keep ...Layer) Mechanisms {
	full := caps.Full()
	r := Mechanisms{
		Name:        m.Name,
		UserNS:      namespace.Host,
		Bounding:    full,
		Effective:   full,
		Permitted:   full,
		HostPaths:   []HostPath{{Sandbox: "/", Host: "/"}},
		DeviceNodes: []string{"*"},
	}
	for _, k := range keep {
		r.keep(&m, k)
		r.keepCode(&m, k)
	}
	return r
}

// keep copies layer k of m into r.
func (r *Mechanisms) keep(m *Mechanisms, k Layer) {
	switch k {
	case LayerSeccomp:
		r.Seccomp = m.Seccomp
	case LayerCapabilities:
		r.Bounding, r.Effective, r.Permitted = m.Bounding, m.Effective, m.Permitted
	case LayerUserNS:
		r.UserNS, r.RootUID, r.MapsHostRoot, r.MappedUIDs = m.UserNS, m.RootUID, m.MapsHostRoot, m.MappedUIDs
	case LayerNamespaces:
		r.Namespaces, r.HostPaths, r.DeviceNodes = m.Namespaces, m.HostPaths, m.DeviceNodes
	case LayerMaskedPaths:
		r.Masked = m.Masked
	case LayerReadOnlyPaths:
		r.ReadOnly = m.ReadOnly
	case LayerDeviceCgroup:
		r.Devices = m.Devices
	case LayerSELinux:
		r.SELinux = m.SELinux
	case LayerLandlock:
		r.Landlock = m.Landlock
	case LayerNoNewPrivs:
		r.NoNewPrivs = m.NoNewPrivs
	case LayerKernelVersion:
		r.Kernel, r.KernelDistribution = m.Kernel, m.KernelDistribution
	case LayerKernelConfig:
		r.I386, r.Host = m.I386, m.Host
	}
}

// evaluator carries one evaluation.
type evaluator struct {
	m   *Mechanisms
	f   *Flaw
	say func(string)
}

func (e *evaluator) sayf(format string, a ...any) { e.say(fmt.Sprintf(format, a...)) }

// reach runs every check of f against m in order, reporting each in plain words,
// and returns whether all hold. It goes on after a failing check, so that the
// steps name every layer in the way.
func reach(m *Mechanisms, f *Flaw, say func(string)) bool {
	e := &evaluator{m: m, f: f, say: say}
	ok := true
	for _, check := range []func() bool{e.kernel, e.kernelCode, e.triggers, e.privilege, e.idMap, e.syscalls, e.host, e.paths, e.devices, e.noNewPrivs, e.selinux} {
		if !check() {
			ok = false
		}
	}
	return ok
}

func (e *evaluator) inInitialUserNS() bool { return e.m.UserNS != namespace.New }

// held reports whether the sandbox's process holds c in its own user namespace:
// effective or permitted now, or in the bounding set when no_new_privs is off
// (executing a setuid-root or file-capability program raises it).
func (e *evaluator) held(c caps.Cap) (bool, string) {
	switch {
	case e.m.Effective.Has(c) || e.m.Permitted.Has(c):
		return true, "holds"
	case e.m.Bounding.Has(c) && !e.m.NoNewPrivs:
		return true, "can gain through a setuid or file-capability program (bounding set, no_new_privs off)"
	}
	return false, "does not hold"
}

func (e *evaluator) userNSName() string {
	if e.inInitialUserNS() {
		return "the initial user namespace"
	}
	return fmt.Sprintf("its own user namespace (root maps to host uid %d)", e.m.RootUID)
}

func (e *evaluator) kernel() bool {
	if e.f.Kind != "kernel" {
		if e.f.Affects != "" {
			e.sayf("This is a %s flaw (affects %s); the verdict assumes an affected version.", e.f.Kind, e.f.Affects)
		} else {
			e.sayf("This is a %s; no version is involved.", e.f.Kind)
		}
		return true
	}
	if e.m.Kernel == "" {
		e.say("Kernel version unknown: assumed to be in the affected range " + e.f.Versions.describe() + ".")
		return true
	}
	k, err := ParseVersion(e.m.Kernel)
	if err != nil {
		e.sayf("Kernel version %q unreadable: assumed affected.", e.m.Kernel)
		return true
	}
	if d := distribution(e.m); d != "" && e.f.Versions.mainlineAffected(k) {
		e.sayf("Kernel %s is built by %s, which backports fixes under the upstream version it reports: whether it is in the affected range %s is version-dependent; taken as affected.", e.m.Kernel, d, e.f.Versions.describe())
		return true
	} else if d != "" {
		e.sayf("Kernel %s, built by %s, is based on a release outside the affected range %s: [%s] stops it.", e.m.Kernel, d, e.f.Versions.describe(), LayerKernelVersion)
		return false
	}
	if !e.f.Versions.Affected(k) {
		e.sayf("Kernel %s is outside the affected range %s: [%s] stops it.", e.m.Kernel, e.f.Versions.describe(), LayerKernelVersion)
		return false
	}
	e.sayf("Kernel %s is in the affected range %s.", e.m.Kernel, e.f.Versions.describe())
	return true
}

// distribution returns who built m's kernel when it is a distribution's.
func distribution(m *Mechanisms) string {
	if m.KernelDistribution != "" {
		return m.KernelDistribution
	}
	return Distribution(m.Kernel, "")
}

// versionDependent reports whether f's verdict on m hangs on a backport that the
// kernel's version cannot show.
func versionDependent(m *Mechanisms, f *Flaw) bool {
	if f.Kind != "kernel" || m.Kernel == "" || distribution(m) == "" {
		return false
	}
	k, err := ParseVersion(m.Kernel)
	return err == nil && f.Versions.mainlineAffected(k)
}

// mainlineAffected reports whether the upstream base k of a distribution's
// kernel lies between the release that introduced the flaw and the mainline
// release that fixed it: the stable backports do not apply, since a
// distribution reports its base release, not the stable release it tracks.
func (r VersionRange) mainlineAffected(k Version) bool {
	if r.Introduced != "" {
		if in, err := ParseVersion(r.Introduced); err == nil && k.Less(in) {
			return false
		}
	}
	if len(r.Fixed) > 0 {
		if fx, err := ParseVersion(r.Fixed[0]); err == nil && !k.Less(fx) {
			return false
		}
	}
	return true
}

func (r VersionRange) describe() string {
	from := "any release"
	if r.Introduced != "" {
		from = r.Introduced
	}
	if len(r.Fixed) == 0 {
		return "from " + from + ", not fixed"
	}
	s := "from " + from + " up to (not including) " + r.Fixed[0]
	if len(r.Fixed) > 1 {
		s += ", fixed in stable " + strings.Join(r.Fixed[1:], ", ")
	}
	return s
}

// privilege checks the capability needs and the namespaces to create, first with
// the sandbox's own capabilities, then through a new user namespace.
func (e *evaluator) privilege() bool {
	f := e.f
	if len(f.Capabilities) == 0 && len(f.Namespaces) == 0 {
		e.say("No capability is needed.")
		return true
	}
	if e.ownRoute(true) {
		return true
	}
	if len(f.Capabilities) == 0 && slices.Contains(f.Namespaces, namespace.User) {
		return false // the own route was already the new user namespace's
	}
	return e.newUserNSRoute()
}

// ownRoute checks the needs against the capabilities held in the sandbox's own
// user namespace.
func (e *evaluator) ownRoute(talk bool) bool {
	say := e.say
	if !talk {
		say = func(string) {}
	}
	ok := true
	for _, n := range e.f.Capabilities {
		c, _ := caps.Parse(n.Cap)
		has, how := e.held(c)
		switch {
		case !has:
			say(fmt.Sprintf("The sandbox %s %s in %s: [%s] stops that route.", how, c, e.userNSName(), LayerCapabilities))
			if n.Scope == ScopeInitial && !e.inInitialUserNS() {
				say(fmt.Sprintf("Even held, %s would count only in the sandbox's own user namespace, not in the initial one the kernel checks: [%s] stops that route too.", c, LayerUserNS))
			}
			ok = false
		case n.Scope == ScopeInitial && !e.inInitialUserNS():
			say(fmt.Sprintf("The sandbox %s %s, but only in its own user namespace; the kernel checks it in the initial one (capable()): [%s] stops that route.", how, c, LayerUserNS))
			ok = false
		case n.Scope == ScopeAny && !e.inInitialUserNS() && e.m.ns(n.Over) != namespace.New:
			say(fmt.Sprintf("The sandbox %s %s in its own user namespace, but shares the host's %s namespace, owned by the initial user namespace, where that capability does not reach: [%s] stops that route.", how, c, n.Over, LayerUserNS))
			ok = false
		default:
			where := e.userNSName()
			if n.Scope == ScopeAny && !e.inInitialUserNS() {
				where += ", which owns its " + string(n.Over) + " namespace"
			}
			say(fmt.Sprintf("The sandbox %s %s in %s: enough for %s.", how, c, where, scopeWords(n)))
		}
	}
	if slices.Contains(e.f.Namespaces, namespace.User) {
		ok = e.ownUserNS(say, talk) && ok
	} else if len(e.f.Namespaces) > 0 {
		has, _ := e.held(caps.SysAdmin)
		if !has {
			say(fmt.Sprintf("Creating %s namespaces needs CAP_SYS_ADMIN in the sandbox's user namespace, which it does not hold: [%s] stops that route.", kindList(e.f.Namespaces), LayerCapabilities))
			ok = false
		} else if !e.createReachable(cloneFlags(e.f.Namespaces), talk) {
			ok = false
		}
	}
	return ok
}

// ownUserNS checks the creation of the flaw's namespaces when a user namespace
// is among them: it owns the others created with it, so no capability is needed
// (user_namespaces(7)); only the filter and the kernel's settings stand in the way.
func (e *evaluator) ownUserNS(say func(string), talk bool) bool {
	if len(e.f.Namespaces) == 1 {
		say("Creating a user namespace needs no capability.")
	} else {
		say(fmt.Sprintf("Creating %s namespaces needs no capability: the new user namespace owns the others created with it.", kindList(e.f.Namespaces)))
	}
	if why := e.userNSClosed(); why != "" {
		say(fmt.Sprintf("%s: [%s] stops it.", why, LayerKernelConfig))
		return false
	}
	return e.createReachable(cloneFlags(e.f.Namespaces)|cloneNewUser, talk)
}

// idMap checks the map of more than one ID that the attack writes for a user
// namespace it creates: it needs CAP_SETUID (or CAP_SETGID, for a group map) in
// the sandbox's user namespace, held or gained through a setuid helper such as
// newuidmap, and that namespace must map the IDs itself.
func (e *evaluator) idMap() bool {
	n := e.f.MapIDs
	if n <= 1 {
		return true
	}
	c := caps.Setuid
	has, how := e.held(c)
	if !has {
		c = caps.Setgid
		has, how = e.held(c)
	}
	switch {
	case !has:
		e.sayf("A map of %d IDs for a new user namespace needs CAP_SETUID or CAP_SETGID in %s, which the sandbox does not hold (unprivileged, it can map only its own ID): [%s] stops it.", n, e.userNSName(), LayerCapabilities)
		return false
	case e.inInitialUserNS():
		e.sayf("The sandbox %s %s in the initial user namespace, which maps every ID: it can map %d IDs into a user namespace it creates.", how, c, n)
	case e.m.MappedUIDs == 0:
		e.sayf("The sandbox %s %s in its own user namespace, whose size is unknown: assumed to map the %d IDs the attack needs.", how, c, n)
	case e.m.MappedUIDs < n:
		e.sayf("The sandbox %s %s, but its own user namespace maps only %d of the %d IDs the attack maps into a nested one: [%s] stops it.", how, c, e.m.MappedUIDs, n, LayerUserNS)
		return false
	default:
		e.sayf("The sandbox %s %s in its own user namespace, which maps %d IDs: enough for a nested map of %d.", how, c, e.m.MappedUIDs, n)
	}
	return true
}

func scopeWords(n CapNeed) string {
	if n.Scope == ScopeInitial {
		return "a check in the initial user namespace"
	}
	return "a check against the owner of the " + string(n.Over) + " namespace"
}

// newUserNSRoute checks whether the attacker can create a user namespace (in
// which it holds every capability) together with the namespaces the needs are
// checked against, and whether that satisfies every need.
func (e *evaluator) newUserNSRoute() bool {
	var kinds []namespace.Kind
	for _, n := range e.f.Capabilities {
		if n.Scope == ScopeInitial {
			e.say("A new user namespace cannot help: a capability needed in the initial user namespace is never granted by creating one.")
			return false
		}
		kinds = appendKind(kinds, n.Over)
	}
	for _, k := range e.f.Namespaces {
		kinds = appendKind(kinds, k)
	}
	flags := uint64(cloneNewUser) | cloneFlags(kinds)
	e.sayf("Other route: create a new user namespace with %s namespaces; its creator holds every capability in it and over the namespaces it owns (user_namespaces(7)).", kindList(append([]namespace.Kind{namespace.User}, kinds...)))
	if why := e.userNSClosed(); why != "" {
		e.sayf("%s: [%s] stops that route.", why, LayerKernelConfig)
		return false
	}
	if !e.createReachable(flags, true) {
		return false
	}
	e.say("So every capability the flaw needs is available over namespaces the attacker owns.")
	return true
}

// initialCap reports whether the sandbox holds c in the initial user namespace,
// as capable() checks it.
func (e *evaluator) initialCap(c caps.Cap) bool {
	has, _ := e.held(c)
	return has && e.inInitialUserNS()
}

// userNSClosed says why the kernel's settings forbid the sandbox to create a
// user namespace, or "".
func (e *evaluator) userNSClosed() string {
	h := e.m.Host
	switch {
	case h == nil:
		return ""
	case h.MaxUserNamespaces != nil && *h.MaxUserNamespaces == 0:
		return "user.max_user_namespaces is 0: no user namespace can be created"
	case h.UnprivilegedUsernsClone != nil && *h.UnprivilegedUsernsClone == 0 && !e.initialCap(caps.SysAdmin):
		return "kernel.unprivileged_userns_clone is 0 and the sandbox lacks CAP_SYS_ADMIN in the initial user namespace"
	}
	return ""
}

// configRefuses says why the kernel's settings refuse call c to the sandbox
// whatever its filter, or "": unprivileged bpf, io_uring and perf events can be
// switched off by sysctls (Documentation/admin-guide/sysctl/kernel.rst). For
// bpf only program loading counts: since Linux 6.4 the sysctl no longer stops
// the other commands (kernel/bpf/syscall.c, bpf_prog_load).
func (e *evaluator) configRefuses(c Call) string {
	h := e.m.Host
	if h == nil {
		return ""
	}
	switch {
	case c.Name == "bpf" && argValue(c, 0) == bpfProgLoad && h.UnprivilegedBPFDisabled != nil && *h.UnprivilegedBPFDisabled != 0 && !e.initialCap(caps.Bpf) && !e.initialCap(caps.SysAdmin):
		return fmt.Sprintf("kernel.unprivileged_bpf_disabled is %d and the sandbox lacks CAP_BPF and CAP_SYS_ADMIN in the initial user namespace", *h.UnprivilegedBPFDisabled)
	case c.Name == "io_uring_setup" && h.IOURingDisabled != nil && *h.IOURingDisabled == 2:
		return "kernel.io_uring_disabled is 2: io_uring is off for every process"
	case c.Name == "io_uring_setup" && h.IOURingDisabled != nil && *h.IOURingDisabled == 1 && (h.IOURingGroup == nil || *h.IOURingGroup < 0) && !e.initialCap(caps.SysAdmin):
		return "kernel.io_uring_disabled is 1, no kernel.io_uring_group is set, and the sandbox lacks CAP_SYS_ADMIN in the initial user namespace"
	case c.Name == "perf_event_open" && h.PerfEventParanoid != nil && *h.PerfEventParanoid >= 3 && !e.initialCap(caps.Perfmon) && !e.initialCap(caps.SysAdmin):
		return fmt.Sprintf("kernel.perf_event_paranoid is %d (the distribution's level that closes perf events) and the sandbox lacks CAP_PERFMON and CAP_SYS_ADMIN in the initial user namespace", *h.PerfEventParanoid)
	}
	return ""
}

// createReachable reports whether unshare or clone with flags passes seccomp.
func (e *evaluator) createReachable(flags uint64, talk bool) bool {
	v := Value{N: flags, Text: flagWords(flags)}
	calls := []Call{
		{Name: "unshare", Args: []ArgValue{{Index: 0, Value: v}}},
		{Name: "clone", Args: []ArgValue{{Index: 0, Value: v}}},
	}
	for _, c := range calls {
		if ok, why := e.callReachable(c); ok {
			if talk {
				e.sayf("%s is allowed: %s.", c, why)
			}
			return true
		} else if talk {
			e.sayf("%s is refused: %s.", c, why)
		}
	}
	if talk {
		e.sayf("Neither unshare nor clone can create the namespaces (clone3 hides its flags from BPF, so a filter can only refuse it whole): [%s] stops that route.", LayerSeccomp)
	}
	return false
}

func appendKind(ks []namespace.Kind, k namespace.Kind) []namespace.Kind {
	for _, x := range ks {
		if x == k {
			return ks
		}
	}
	return append(ks, k)
}

func kindList(ks []namespace.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, "+")
}

func cloneFlags(ks []namespace.Kind) uint64 {
	var f uint64
	for _, k := range ks {
		f |= uint64(k.CloneFlag())
	}
	return f
}

func flagWords(f uint64) string {
	names := []struct {
		n string
		v uint64
	}{{"CLONE_NEWUSER", cloneNewUser}, {"CLONE_NEWNS", cloneNewNS}, {"CLONE_NEWPID", cloneNewPID}, {"CLONE_NEWNET", cloneNewNet},
		{"CLONE_NEWIPC", cloneNewIPC}, {"CLONE_NEWUTS", cloneNewUTS}, {"CLONE_NEWCGROUP", cloneNewCgroup}, {"CLONE_NEWTIME", cloneNewTime}}
	var s []string
	for _, n := range names {
		if f&n.v != 0 {
			s = append(s, n.n)
		}
	}
	return strings.Join(s, "|")
}

// callReachable runs the compiled filter on c through every ABI an x86_64
// process can use: the native table, the i386 table (int 0x80) and, for socket
// calls, i386 socketcall, whose arguments the filter cannot see.
func (e *evaluator) callReachable(c Call) (bool, string) {
	nr, known := syscalls[c.Name]
	if !known {
		return false, "unknown system call"
	}
	closed := e.m.i386Closed()
	if e.m.Seccomp == nil && (c.ABI != "i386" || !closed) {
		return true, "no seccomp filter"
	}
	if e.m.Seccomp == nil {
		return false, fmt.Sprintf("i386: %s [%s]", e.m.I386, LayerKernelConfig)
	}
	var args [6]uint64
	for _, a := range c.Args {
		args[a.Index] = a.Value.N
	}
	var seen []string
	try := func(abi string, d seccomp.Data) bool {
		act, errno := e.m.Seccomp.Evaluate(d)
		desc := string(act)
		if act == seccomp.ActErrno {
			desc = fmt.Sprintf("errno %d", errno)
		}
		seen = append(seen, abi+": "+desc)
		switch act {
		case seccomp.ActAllow, seccomp.ActLog:
			return true
		case seccomp.ActNotify:
			seen[len(seen)-1] += " (a supervisor decides; counted as reachable)"
			return true
		}
		return false
	}
	if c.ABI != "i386" && try("x86_64", seccomp.Data{Nr: nr.amd64, Arch: AuditArchX8664, Args: args}) {
		return true, strings.Join(seen, "; ")
	}
	if c.ABI != "x86_64" && closed {
		seen = append(seen, fmt.Sprintf("i386: %s [%s]", e.m.I386, LayerKernelConfig))
	} else if c.ABI != "x86_64" {
		if try("i386", seccomp.Data{Nr: nr.i386, Arch: AuditArchI386, Args: args}) {
			return true, strings.Join(seen, "; ")
		}
		if nr.socketcall != 0 && try("i386 socketcall", seccomp.Data{Nr: i386SocketcallNr, Arch: AuditArchI386, Args: [6]uint64{nr.socketcall, 0x1000}}) {
			return true, strings.Join(seen, "; ") + " (socketcall passes its arguments in memory, out of the filter's sight)"
		}
	}
	return false, strings.Join(seen, "; ")
}

func (e *evaluator) syscalls() bool {
	for _, n := range e.f.Syscalls {
		if !e.syscallNeed(n) {
			return false
		}
	}
	if len(e.f.Syscalls) == 0 {
		e.say("No particular system call is needed.")
	}
	return true
}

// syscallNeed checks one needed call: some alternative must pass the filter and
// the kernel's settings. A refusal is the kernel's own (kernel-config) where the
// kernel settings refuse the call or it is an i386-only call and the i386 gate is
// closed, the filter's otherwise.
func (e *evaluator) syscallNeed(n SyscallNeed) bool {
	var reasons []string
	filter, config := false, false
	for _, c := range n.Calls() {
		r, why := e.callReachable(c)
		no := ""
		if r {
			no = e.configRefuses(c)
		}
		switch {
		case r && no == "":
			e.sayf("Seccomp lets %s through (%s).", c, why)
			return true
		case r:
			reasons = append(reasons, c.String()+" → "+no+" ["+string(LayerKernelConfig)+"]")
			config = true
		case c.ABI == "i386" && e.m.i386Closed():
			reasons = append(reasons, c.String()+" → "+why)
			config = true
		default:
			reasons = append(reasons, c.String()+" → "+why)
			filter = true
		}
	}
	all := strings.Join(reasons, "; ")
	switch {
	case filter && config:
		e.sayf("The filter and the kernel refuse %s: [%s] and [%s] stop it.", all, LayerSeccomp, LayerKernelConfig)
	case config:
		e.sayf("The kernel refuses %s: [%s] stops it.", all, LayerKernelConfig)
	default:
		e.sayf("Seccomp refuses %s: [%s] stops it.", all, LayerSeccomp)
	}
	return false
}

func (e *evaluator) host() bool {
	h := e.f.Host
	for _, x := range []struct {
		need bool
		k    namespace.Kind
	}{{h.PID, namespace.PID}, {h.Net, namespace.Net}, {h.IPC, namespace.IPC}} {
		if !x.need {
			continue
		}
		if e.m.ns(x.k) != namespace.Host {
			e.sayf("The flaw needs the host's %s namespace, but the sandbox has its own: [%s] stops it.", x.k, LayerNamespaces)
			return false
		}
		e.sayf("The sandbox shares the host's %s namespace, as the flaw needs.", x.k)
	}
	if h.Root {
		if p, ok := e.hostRoot(); ok {
			e.sayf("The host's root filesystem is visible at %s.", p)
		} else {
			e.sayf("The flaw needs the host's root filesystem, which the sandbox's mount namespace does not show: [%s] stops it.", LayerNamespaces)
			return false
		}
	}
	return true
}

func (e *evaluator) hostRoot() (string, bool) {
	for _, hp := range e.m.HostPaths {
		if path.Clean(hp.Host) == "/" {
			return hp.Sandbox, true
		}
	}
	if e.m.ns(namespace.Mount) == namespace.Host {
		return "/ (shared mount namespace)", true
	}
	return "", false
}

// matchPath reports whether p is pattern or lies under it; pattern elements may
// be globs.
func matchPath(pattern, p string) bool {
	pe := strings.Split(strings.Trim(path.Clean(pattern), "/"), "/")
	xe := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	if len(xe) < len(pe) {
		return false
	}
	for i := range pe {
		if ok, _ := path.Match(pe[i], xe[i]); !ok {
			return false
		}
	}
	return true
}

// canRemount reports whether the sandbox can undo its own masks and read-only
// mounts: it must hold CAP_SYS_ADMIN over its mount namespace, seccomp must allow
// the syscall, and Landlock must not be in force (it forbids mount topology
// changes). Masks copied into a namespace the attacker creates later are locked
// (mount_namespaces(7)), so only the sandbox's own namespace counts.
func (e *evaluator) canRemount(syscall string, args ...ArgValue) (bool, string) {
	has, _ := e.held(caps.SysAdmin)
	if !has {
		return false, "it lacks CAP_SYS_ADMIN"
	}
	if !e.inInitialUserNS() && e.m.ns(namespace.Mount) != namespace.New {
		return false, "its CAP_SYS_ADMIN does not reach the host's mount namespace"
	}
	if len(e.m.Landlock) > 0 {
		return false, "Landlock forbids mount changes"
	}
	if ok, why := e.callReachable(Call{Name: syscall, Args: args}); !ok {
		return false, "seccomp refuses " + syscall + " (" + why + ")"
	}
	return true, ""
}

func (e *evaluator) paths() bool {
	ok := true
	for _, p := range e.f.Paths {
		target := p.Path
		reachable := true
		for _, m := range e.m.Masked {
			if !matchPath(m, target) {
				continue
			}
			if can, why := e.canRemount("umount2", ArgValue{Index: 1, Value: Value{N: 2, Text: "MNT_DETACH"}}); can {
				e.sayf("%s is masked by %s, but the sandbox holds CAP_SYS_ADMIN over its mount namespace and may unmount the mask.", target, m)
			} else {
				e.sayf("%s is masked by %s and cannot be unmasked (%s): [%s] stops it.", target, m, why, LayerMaskedPaths)
				reachable = false
			}
		}
		if p.Access == Write {
			for _, r := range e.m.ReadOnly {
				if !matchPath(r, target) {
					continue
				}
				if can, why := e.canRemount("mount"); can {
					e.sayf("%s is under read-only %s, but the sandbox may remount it read-write (CAP_SYS_ADMIN over its mount namespace).", target, r)
				} else {
					e.sayf("%s is under read-only %s and cannot be remounted (%s): [%s] stops it.", target, r, why, LayerReadOnlyPaths)
					reachable = false
				}
			}
			if p.HostOwned && !e.inInitialUserNS() && e.m.MapsHostRoot {
				e.sayf("%s belongs to host root; the sandbox has its own user namespace, but it maps a uid to host uid 0, whose owner permissions still apply to the file.", target)
			} else if p.HostOwned && !e.inInitialUserNS() {
				e.sayf("%s belongs to root of the initial user namespace; root of the sandbox's user namespace is host uid %d and has no rights on it: [%s] stops it.", target, e.m.RootUID, LayerUserNS)
				reachable = false
			}
		}
		if !e.landlockAllows(target, p.Access) {
			reachable = false
		}
		if reachable {
			e.sayf("%s can be %s.", target, map[Access]string{Read: "read", Write: "written"}[p.Access])
		} else {
			ok = false
		}
	}
	return ok
}

func (e *evaluator) landlockAllows(target string, a Access) bool {
	if len(e.m.Landlock) == 0 {
		return true
	}
	want := landlock.Read
	if a == Write {
		want = landlock.Write
	}
	for _, r := range e.m.Landlock {
		if r.Access&want != 0 && matchPath(r.Path, target) {
			return true
		}
	}
	e.sayf("No Landlock rule grants %s access to %s: [%s] stops it.", a, target, LayerLandlock)
	return false
}

// deviceAllowed applies the device cgroup rules in order, as the kernel's
// device controller does: the last rule that matches decides; with no rules the
// controller is absent and every access is allowed.
func deviceAllowed(rules []cgroup.DeviceRule, typ string, major, minor int64, access string) bool {
	if rules == nil {
		return true
	}
	allowed := false
	for _, r := range rules {
		if r.Type != "a" && r.Type != typ {
			continue
		}
		if r.Type != "a" && ((r.Major != cgroup.Wildcard && r.Major != major) || (r.Minor != cgroup.Wildcard && r.Minor != minor)) {
			continue
		}
		covers := true
		for _, c := range access {
			if !strings.ContainsRune(r.Access, c) {
				covers = false
			}
		}
		if r.Allow && covers {
			allowed = true
		} else if !r.Allow && strings.ContainsAny(r.Access, access) {
			allowed = false
		}
	}
	return allowed
}

func (e *evaluator) devices() bool {
	for _, d := range e.f.Devices {
		present := false
		for _, n := range e.m.DeviceNodes {
			if n == "*" || matchPath(n, d.Path) {
				present = true
			}
		}
		if !present {
			has, _ := e.held(caps.Mknod)
			mk, _ := e.callReachable(Call{Name: "mknodat"})
			if !mk {
				mk, _ = e.callReachable(Call{Name: "mknod"})
			}
			switch {
			case !e.inInitialUserNS():
				e.sayf("%s is not in the sandbox's /dev, and device nodes cannot be created in a user namespace other than the initial one: [%s] and [%s] stop it.", d.Path, LayerNamespaces, LayerUserNS)
				return false
			case !has:
				e.sayf("%s is not in the sandbox's /dev and it lacks CAP_MKNOD to create it: [%s] and [%s] stop it.", d.Path, LayerNamespaces, LayerCapabilities)
				return false
			case !mk:
				e.sayf("%s is not in the sandbox's /dev and seccomp refuses mknod: [%s] and [%s] stop it.", d.Path, LayerNamespaces, LayerSeccomp)
				return false
			case !deviceAllowed(e.m.Devices, d.Type, d.Major, d.Minor, "m"):
				e.sayf("%s is not in the sandbox's /dev and the device cgroup forbids creating it: [%s] and [%s] stop it.", d.Path, LayerNamespaces, LayerDeviceCgroup)
				return false
			}
			e.sayf("%s is not in the sandbox's /dev, but the sandbox can create it (CAP_MKNOD, mknod allowed).", d.Path)
		}
		acc := "r"
		if d.Access == Write {
			acc = "rw"
		}
		if !deviceAllowed(e.m.Devices, d.Type, d.Major, d.Minor, acc) {
			e.sayf("The device cgroup does not allow %s on %s %d:%d (%s): [%s] stops it.", acc, d.Type, d.Major, d.Minor, d.Path, LayerDeviceCgroup)
			return false
		}
		if !e.worldAccessible(d) && !e.inInitialUserNS() && !e.m.MapsHostRoot {
			e.sayf("%s belongs to host root and is not world-accessible; root of the sandbox's user namespace is host uid %d: [%s] stops it.", d.Path, e.m.RootUID, LayerUserNS)
			return false
		}
		if !e.landlockAllows(d.Path, d.Access) {
			return false
		}
		e.sayf("%s can be opened (%s).", d.Path, acc)
	}
	return true
}

// worldAccessible reports whether every user may open d: what the host's node
// says where the sandbox sees the host's /dev and its modes are known, the
// flaw's usual mode otherwise.
func (e *evaluator) worldAccessible(d DeviceNeed) bool {
	h := e.m.Host
	if h == nil || h.WorldDevices == nil || !slices.Contains(e.m.DeviceNodes, "*") {
		return d.WorldAccessible
	}
	if slices.Contains(h.WorldDevices, d.Path) {
		return true
	}
	if d.WorldAccessible {
		e.sayf("%s is usually open to every user, but not on this host.", d.Path)
	}
	return false
}

func (e *evaluator) noNewPrivs() bool {
	if !e.f.GainOnExec {
		return true
	}
	if e.m.NoNewPrivs {
		e.sayf("The attack gains privilege by executing a setuid or file-capability program, which no_new_privs voids: [%s] stops it.", LayerNoNewPrivs)
		return false
	}
	e.say("no_new_privs is off: executing a setuid or file-capability program grants its privileges.")
	return true
}

func (e *evaluator) selinux() bool {
	if !e.f.SELinux.Blocks {
		if e.m.SELinux.Confined() {
			e.sayf("SELinux (%s) does not stand in the way of this flaw.", e.m.SELinux.Type)
		}
		return true
	}
	if e.m.SELinux.Confined() {
		e.sayf("SELinux confines the sandbox as %s, whose policy denies a step: %s [%s] stops it.", e.m.SELinux.Type, e.f.SELinux.Why, LayerSELinux)
		return false
	}
	e.say("SELinux would deny a step, but the sandbox is not confined by it.")
	return true
}

// bpfProgLoad is bpf(2)'s BPF_PROG_LOAD command.
const bpfProgLoad = 5

// argValue returns the value c passes as argument i (0 when it says none).
func argValue(c Call, i int) uint64 {
	for _, a := range c.Args {
		if a.Index == i {
			return a.Value.N
		}
	}
	return 0
}
