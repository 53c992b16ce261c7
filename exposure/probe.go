package exposure

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// A ProbeKind is what a Probe asks of the kernel from inside a sandbox.
type ProbeKind string

// The probes. Each is harmless: it fails after the point it tests, or succeeds
// without changing anything outside the probe's own process.
const (
	// ProbeStatus reads /proc/self/status: capability sets, no_new_privs, seccomp mode.
	ProbeStatus ProbeKind = "status"
	// ProbeSyscall makes one system call with arguments that make the kernel fail
	// harmlessly once the call has passed seccomp (a bad descriptor or address),
	// natively or through int 0x80 (ABI "i386"). An i386 call is probed only
	// where the model says it reaches the kernel or gets an errno: a filter that
	// kills it would end the probe, and the gate's own probe checks that.
	ProbeSyscall ProbeKind = "syscall"
	// ProbeCreate creates namespaces (clone flags Flags) in a child that then
	// fails to execute "/": success means both unshare's and clone's routes were
	// tried and one got as far as execve.
	ProbeCreate ProbeKind = "create"
	// ProbePath opens Path for Access without creating or truncating it, and
	// closes it at once.
	ProbePath ProbeKind = "path"
	// ProbeDevice asks faccessat2 (AT_EACCESS) whether the device node Path may be
	// opened for Access: the permission and device cgroup checks of open(2),
	// without opening a device (opening some, such as a watchdog, acts).
	ProbeDevice ProbeKind = "device"
	// ProbeNamespace reads the inode of /proc/self/ns/NS.
	ProbeNamespace ProbeKind = "namespace"
	// ProbeStat reads the device and inode numbers of Path.
	ProbeStat ProbeKind = "stat"
	// ProbeI386 probes the i386 gate as seccomp.I386Gate does.
	ProbeI386 ProbeKind = "i386"
	// ProbeIDMap reads /proc/self/uid_map: how many uids the process's user
	// namespace maps.
	ProbeIDMap ProbeKind = "idmap"
)

// A Probe is one question asked from inside a sandbox.
type Probe struct {
	Kind ProbeKind `json:"kind"`
	// Call, Nr and Args are the system call of ProbeSyscall, made through ABI
	// ("i386": int 0x80, numbers of the i386 table; otherwise native); an
	// argument i with Buf[i] > 0 is instead the address of Buf[i] zeroed bytes.
	Call string    `json:"call,omitempty"`
	ABI  string    `json:"abi,omitempty"`
	Nr   int32     `json:"nr,omitempty"`
	Args [6]uint64 `json:"args,omitempty"`
	Buf  [6]int    `json:"buf,omitempty"`
	// Flags are the clone flags of ProbeCreate.
	Flags uint64 `json:"flags,omitempty"`
	// Path and Access are for ProbePath, ProbeDevice and ProbeStat.
	Path   string `json:"path,omitempty"`
	Access Access `json:"access,omitempty"`
	// NS is the namespace kind of ProbeNamespace.
	NS namespace.Kind `json:"ns,omitempty"`
}

// key identifies p among the probes of one run.
func (p Probe) key() string { return fmt.Sprintf("%+v", p) }

// A Fact is the answer to a Probe: the errno (0 for success) and, for probes that
// read something, the value read.
type Fact struct {
	Errno int    `json:"errno"`
	Value string `json:"value,omitempty"`
}

// A Check is one precondition that the evaluator used for a flaw, the probe that
// tests it from inside the sandbox, and what the model (Mechanisms and the
// flaw's needs) says the probe will find.
type Check struct {
	Flaw         string `json:"flaw"`
	Precondition string `json:"precondition"`
	Model        string `json:"model"`
	Probe        Probe  `json:"probe"`
	// Skip says why the precondition is not probed ("" when it is).
	Skip string `json:"skip,omitempty"`
	// judge compares a fact with the model: whether they agree, and the fact in words.
	judge func(Fact) (bool, string)
}

// A Disagreement is a precondition on which the model and the sandbox differ.
type Disagreement struct {
	Flaw         string `json:"flaw"`
	Precondition string `json:"precondition"`
	Model        string `json:"model"`
	Sandbox      string `json:"sandbox"`
}

// Checks lists, for every flaw, the preconditions the evaluator uses on m that a
// harmless probe from inside the sandbox can test: the capabilities the flaw
// needs and the user namespace they count in, the namespaces it creates, each
// system call with the flaw's arguments (native, and through the i386 gate
// where the flaw's ABI allows), the seccomp mode, the i386 gate,
// the files and device nodes it opens, the host namespaces and root it needs to
// share, and no_new_privs where it gains privilege through execve. Checks whose
// probe could not tell the model's answer from another are listed with Skip set.
func Checks(m Mechanisms, flaws []Flaw) []Check {
	var out []Check
	for i := range flaws {
		c := &checker{e: &evaluator{m: &m, f: &flaws[i], say: func(string) {}}}
		c.capabilities()
		c.namespaces()
		c.idMap()
		c.syscalls()
		c.paths()
		c.devices()
		c.host()
		out = append(out, c.out...)
	}
	return out
}

// Probes returns the distinct probes of checks that are not skipped, in order.
func Probes(checks []Check) []Probe {
	seen := map[string]bool{}
	var out []Probe
	for _, c := range checks {
		if c.Skip != "" || seen[c.Probe.key()] {
			continue
		}
		seen[c.Probe.key()] = true
		out = append(out, c.Probe)
	}
	return out
}

// Compare judges every check that is not skipped against the facts found for
// probes (facts[i] answers probes[i]) and returns the number that agree and the
// disagreements. A check without a fact is a disagreement.
func Compare(checks []Check, probes []Probe, facts []Fact) (agree int, diffs []Disagreement) {
	byKey := map[string]Fact{}
	for i, p := range probes {
		if i < len(facts) {
			byKey[p.key()] = facts[i]
		}
	}
	for _, c := range checks {
		if c.Skip != "" {
			continue
		}
		f, ok := byKey[c.Probe.key()]
		if !ok {
			diffs = append(diffs, Disagreement{c.Flaw, c.Precondition, c.Model, "not probed"})
			continue
		}
		if same, got := c.judge(f); same {
			agree++
		} else {
			diffs = append(diffs, Disagreement{c.Flaw, c.Precondition, c.Model, got})
		}
	}
	return agree, diffs
}

// checker gathers the checks of one flaw.
type checker struct {
	e   *evaluator
	out []Check
}

func (c *checker) add(pre, model string, p Probe, judge func(Fact) (bool, string)) {
	c.out = append(c.out, Check{Flaw: c.e.f.ID, Precondition: pre, Model: model, Probe: p, judge: judge})
}

func (c *checker) skip(pre, model, why string) {
	c.out = append(c.out, Check{Flaw: c.e.f.ID, Precondition: pre, Model: model, Skip: why})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// capabilities checks each capability the flaw needs in the three sets, the
// user namespace it counts in, and no_new_privs where execve matters.
func (c *checker) capabilities() {
	m := c.e.m
	need := map[caps.Cap]bool{}
	for _, n := range c.e.f.Capabilities {
		cp, err := caps.Parse(n.Cap)
		if err == nil {
			need[cp] = true
		}
	}
	if len(c.e.f.Namespaces) > 0 && !slices.Contains(c.e.f.Namespaces, namespace.User) {
		need[caps.SysAdmin] = true
	}
	if c.e.f.MapIDs > 1 {
		need[caps.Setuid], need[caps.Setgid] = true, true
	}
	for _, cp := range caps.Full().List() {
		if !need[cp] {
			continue
		}
		model := fmt.Sprintf("effective %s, permitted %s, bounding %s", yesNo(m.Effective.Has(cp)), yesNo(m.Permitted.Has(cp)), yesNo(m.Bounding.Has(cp)))
		c.add(fmt.Sprintf("%s in the sandbox's sets", cp), model, Probe{Kind: ProbeStatus}, func(f Fact) (bool, string) {
			s, ok := parseStatus(f)
			if !ok {
				return false, "unreadable: " + f.Value
			}
			got := fmt.Sprintf("effective %s, permitted %s, bounding %s", yesNo(s.eff.Has(cp)), yesNo(s.prm.Has(cp)), yesNo(s.bnd.Has(cp)))
			return got == model, got
		})
	}
	if len(need) > 0 {
		c.nsShared(namespace.User, "the user namespace the capabilities are held in")
	}
	if len(need) > 0 || c.e.f.GainOnExec {
		model := "off"
		if m.NoNewPrivs {
			model = "on"
		}
		c.add("no_new_privs (a setuid or file-capability program raises the bounding set)", model, Probe{Kind: ProbeStatus}, func(f Fact) (bool, string) {
			s, ok := parseStatus(f)
			if !ok {
				return false, "unreadable: " + f.Value
			}
			got := "off"
			if s.nnp {
				got = "on"
			}
			return got == model, got
		})
	}
}

// namespaces checks the creation of namespaces on both routes the evaluator
// takes: with the sandbox's own CAP_SYS_ADMIN, and through a new user namespace.
// A flaw that creates a user namespace itself needs no capability for it.
func (c *checker) namespaces() {
	e := c.e
	var kinds []namespace.Kind
	initial := false
	for _, n := range e.f.Capabilities {
		if n.Scope == ScopeInitial {
			initial = true
		}
		kinds = appendKind(kinds, n.Over)
	}
	if slices.Contains(e.f.Namespaces, namespace.User) {
		flags := uint64(cloneNewUser) | cloneFlags(e.f.Namespaces)
		model := e.userNSClosed() == "" && e.createReachable(flags, false)
		c.create(fmt.Sprintf("create %s namespaces", kindList(e.f.Namespaces)), flags, model)
		return
	}
	if len(e.f.Namespaces) > 0 {
		flags := cloneFlags(e.f.Namespaces)
		model := e.m.Effective.Has(caps.SysAdmin) && e.createReachable(flags, false)
		c.create(fmt.Sprintf("create %s namespaces with the sandbox's own CAP_SYS_ADMIN", kindList(e.f.Namespaces)), flags, model)
	}
	if initial || (len(kinds) == 0 && len(e.f.Namespaces) == 0) {
		return
	}
	for _, k := range e.f.Namespaces {
		kinds = appendKind(kinds, k)
	}
	flags := uint64(cloneNewUser) | cloneFlags(kinds)
	model := e.userNSClosed() == "" && e.createReachable(flags, false)
	c.create(fmt.Sprintf("create %s namespaces", kindList(append([]namespace.Kind{namespace.User}, kinds...))), flags, model)
}

// idMap checks how many uids the sandbox's user namespace maps, where the flaw
// writes a nested map of more than one ID. Counts are capped as
// Mechanisms.MappedUIDs caps them.
func (c *checker) idMap() {
	if c.e.f.MapIDs <= 1 {
		return
	}
	pre := "the uids the sandbox's user namespace maps"
	want := c.e.m.MappedUIDs
	if c.e.inInitialUserNS() {
		want = maxMapped // the initial map, 0 0 4294967295
	} else if want == 0 {
		c.skip(pre, "unknown", "the model does not know the size of the map")
		return
	}
	c.add(pre, strconv.Itoa(want), Probe{Kind: ProbeIDMap}, func(f Fact) (bool, string) {
		n, ok := countIDs(f.Value)
		if f.Errno != 0 || !ok {
			return false, fmt.Sprintf("unreadable (errno %d): %q", f.Errno, f.Value)
		}
		return n == want, strconv.Itoa(n)
	})
}

// countIDs sums the sizes of the lines of a uid_map, at most maxMapped.
func countIDs(uidMap string) (int, bool) {
	var n uint64
	for _, l := range strings.Split(strings.TrimSpace(uidMap), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 {
			return 0, false
		}
		size, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return 0, false
		}
		n += size
	}
	return int(min(n, maxMapped)), true
}

func (c *checker) create(pre string, flags uint64, model bool) {
	if flags&cloneNewTime != 0 {
		c.skip(pre, yesNo(model), "clone(2) cannot create a time namespace and unshare(2) needs a single-threaded caller")
		return
	}
	words := map[bool]string{true: "created", false: "refused"}
	c.add(pre, words[model], Probe{Kind: ProbeCreate, Flags: flags}, func(f Fact) (bool, string) {
		got := f.Errno == 0
		return got == model, words[got] + " (" + f.Value + ")"
	})
}

// filterErrnos are the answers by which a filter refuses calls (seccomp's
// EPERM for Docker's profile, ENOSYS for Podman's and for unknown calls).
func refusalErrno(e int) bool { return e == int(syscall.EPERM) || e == int(syscall.ENOSYS) }

// syscalls checks each native call the flaw needs, its seccomp mode and the
// i386 gate.
func (c *checker) syscalls() {
	e := c.e
	if len(e.f.Syscalls) == 0 {
		return
	}
	model := "disabled"
	if e.m.Seccomp != nil {
		model = "filter"
	}
	c.add("seccomp mode", model, Probe{Kind: ProbeStatus}, func(f Fact) (bool, string) {
		s, ok := parseStatus(f)
		if !ok {
			return false, "unreadable: " + f.Value
		}
		return s.seccomp == model, s.seccomp
	})
	i386 := false
	for _, n := range e.f.Syscalls {
		for _, call := range n.Calls() {
			if call.ABI != "x86_64" {
				i386 = true
			}
			if call.ABI != "i386" {
				c.syscall(call, false)
			}
			if call.ABI != "x86_64" {
				c.syscall(call, true)
			}
		}
	}
	if i386 {
		c.gate()
	}
}

// syscall checks one call, native or through the i386 gate: what the filter
// does with the probe's arguments (the flaw's, with harmless ones where it gives
// none), and the kernel's own refusals (sysctls) that the probe reaches.
func (c *checker) syscall(call Call, i386 bool) {
	pre := call.String() + " [x86_64]"
	nr, ok := syscalls[call.Name]
	if !ok {
		return
	}
	p, why := harmless(call, nr.amd64)
	if i386 {
		pre = strings.TrimSuffix(call.String(), " [i386]") + " [i386]"
		p, why = c.i386Probe(call, nr.i386)
	}
	model, errno, undecidable := c.predict(call, p)
	switch {
	case why != "":
		c.skip(pre, model, why)
		return
	case undecidable != "":
		c.skip(pre, model, undecidable)
		return
	}
	c.add(pre, model, p, func(f Fact) (bool, string) {
		got := fmt.Sprintf("errno %d (%s)", f.Errno, syscall.Errno(f.Errno))
		if f.Errno == 0 {
			got = "succeeded"
		}
		if errno != 0 {
			return f.Errno == errno, got
		}
		if f.Errno == int(syscall.ENOSYS) && kernelLacks(p) {
			return true, "the kernel lacks the call: ENOSYS here too, outside any filter"
		}
		return !refusalErrno(f.Errno), "passes: " + got
	})
}

// i386Probe is harmless for the i386 call of call (number nr): its arguments
// cut to the 32 bits the gate passes, none of the probe's own memory (it may lie
// above 4 GiB), and nothing behind a closed gate, where int 0x80 faults.
func (c *checker) i386Probe(call Call, nr int32) (Probe, string) {
	p, why := harmless(call, nr)
	p.ABI = "i386"
	for i := range p.Args {
		p.Args[i] = uint64(uint32(p.Args[i]))
	}
	switch {
	case why != "":
	case p.Buf != [6]int{}:
		why = "the i386 probe passes no memory of its own"
	case c.e.m.i386Closed():
		why = "the i386 gate is closed (the gate's probe checks that)"
	}
	return p, why
}

// predict returns what the model says of the probe p of call: in words, the
// errno expected (0: the call passes and the kernel answers something other than
// a refusal), and why the probe cannot decide, if it cannot.
func (c *checker) predict(call Call, p Probe) (string, int, string) {
	e := c.e
	if e.m.Seccomp != nil {
		arch := AuditArchX8664
		var flawArgs [6]uint64
		for _, a := range call.Args {
			flawArgs[a.Index] = a.Value.N
		}
		probeArgs := p.Args
		for i, n := range p.Buf {
			if n > 0 {
				probeArgs[i] = 0
			}
		}
		if p.ABI == "i386" {
			arch = AuditArchI386
			for i := range flawArgs {
				flawArgs[i] = uint64(uint32(flawArgs[i]))
			}
		}
		act, errno := e.m.Seccomp.Evaluate(seccomp.Data{Nr: p.Nr, Arch: arch, Args: probeArgs})
		act0, errno0 := e.m.Seccomp.Evaluate(seccomp.Data{Nr: p.Nr, Arch: arch, Args: flawArgs})
		if act != act0 || errno != errno0 {
			return string(act), 0, "the filter treats the probe's harmless arguments differently from the flaw's"
		}
		switch act {
		case seccomp.ActErrno:
			return fmt.Sprintf("refused by seccomp: errno %d (%s)", errno, syscall.Errno(errno)), int(errno), ""
		case seccomp.ActAllow, seccomp.ActLog:
		default:
			return "seccomp: " + string(act), 0, "the filter's action would end the probe"
		}
	}
	if no := e.configRefuses(call); no != "" {
		if call.Name == "perf_event_open" {
			return "refused by the kernel: " + no, 0, "the probe's harmless arguments fail before perf_event_paranoid is read"
		}
		return "refused by the kernel: " + no, int(syscall.EPERM), ""
	}
	if mountCalls[call.Name] && !e.m.Effective.Has(caps.SysAdmin) {
		return "passes seccomp", 0, "without CAP_SYS_ADMIN the kernel refuses it with EPERM, as a filter would"
	}
	return "passes seccomp", 0, ""
}

// kernelLacks reports whether the running kernel itself answers the probe p with
// ENOSYS (a call it was built without), as this process sees it when it is under
// no filter. The probe is harmless here as in the sandbox.
func kernelLacks(p Probe) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil || !strings.Contains(string(b), "\nSeccomp:\t0\n") {
		return false
	}
	return probeSyscall(p).Errno == int(syscall.ENOSYS)
}

// mountCalls are the calls whose first check is CAP_SYS_ADMIN over the mount
// namespace (may_mount), before any argument is read.
var mountCalls = map[string]bool{"pivot_root": true, "move_mount": true, "fsopen": true, "fsmount": true, "fspick": true}

// gate checks the i386 gate: what an i386 exit(42) through int 0x80 becomes.
func (c *checker) gate() {
	m := c.e.m
	var model seccomp.I386
	switch {
	case m.I386 != "" && m.I386.Closed():
		model = m.I386
	case m.Seccomp != nil:
		act, _ := m.Seccomp.Evaluate(seccomp.Data{Nr: 1, Arch: AuditArchI386, Args: [6]uint64{42}})
		switch act {
		case seccomp.ActAllow, seccomp.ActLog:
			model = seccomp.I386Open
		case seccomp.ActKillProcess, seccomp.ActKillThread, seccomp.ActTrap:
			model = seccomp.I386Filtered
		default:
			c.skip("the i386 gate (int 0x80)", string(act), "the filter neither lets the i386 exit through nor kills it")
			return
		}
	default:
		model = seccomp.I386Open
	}
	c.add("the i386 gate (int 0x80)", string(model), Probe{Kind: ProbeI386}, func(f Fact) (bool, string) {
		return f.Value == string(model), f.Value
	})
}

// paths checks that each file the flaw opens can be opened now as the model
// says (masks and read-only mounts in place; removing them is another step).
func (c *checker) paths() {
	e := c.e
	for _, pn := range e.f.Paths {
		pre := fmt.Sprintf("open %s for %s", pn.Path, pn.Access)
		if e.f.Kind == "runtime" {
			c.skip(pre, "", "the path is the runtime's view (its descriptors, its executable), not the sandbox's")
			continue
		}
		model := e.pathOpen(pn)
		words := map[bool]string{true: "opens", false: "refused"}
		path := pn.Path
		c.add(pre, words[model], Probe{Kind: ProbePath, Path: pn.Path, Access: pn.Access}, func(f Fact) (bool, string) {
			if f.Errno == 0 {
				return model, "opens"
			}
			word := fmt.Sprintf("refused: errno %d (%s)", f.Errno, syscall.Errno(f.Errno))
			if f.Errno == int(syscall.ENOENT) && model && !strings.HasPrefix(path, "/proc/self/") {
				if _, err := os.Stat(path); err != nil {
					return true, "absent, as on the host"
				}
			}
			return !model, word
		})
	}
}

// pathOpen says whether pn can be opened as the sandbox stands.
func (e *evaluator) pathOpen(pn PathNeed) bool {
	for _, m := range e.m.Masked {
		if matchPath(m, pn.Path) {
			return false
		}
	}
	if pn.Access == Write {
		for _, r := range e.m.ReadOnly {
			if matchPath(r, pn.Path) {
				return false
			}
		}
		if pn.HostOwned && !e.inInitialUserNS() && !e.m.MapsHostRoot {
			return false
		}
	}
	return e.landlockAllows(pn.Path, pn.Access)
}

// devices checks each device node the flaw opens: present, and open to the
// sandbox as the model says.
func (c *checker) devices() {
	e := c.e
	for _, d := range e.f.Devices {
		pre := fmt.Sprintf("open %s (%s %d:%d) for %s", d.Path, d.Type, d.Major, d.Minor, d.Access)
		present, model := e.deviceOpen(d)
		words := "absent"
		if present && model {
			words = "opens"
		} else if present {
			words = "present, refused"
		}
		c.add(pre, words, Probe{Kind: ProbeDevice, Path: d.Path, Access: d.Access}, func(f Fact) (bool, string) {
			var got string
			switch {
			case f.Errno == 0:
				got = "opens"
			case f.Errno == int(syscall.ENOENT):
				got = "absent"
			default:
				got = fmt.Sprintf("present, refused: errno %d (%s)", f.Errno, syscall.Errno(f.Errno))
			}
			return strings.HasPrefix(got, words), got
		})
	}
}

// deviceOpen says whether d is in the sandbox's /dev and whether it may be opened.
func (e *evaluator) deviceOpen(d DeviceNeed) (present, open bool) {
	for _, n := range e.m.DeviceNodes {
		if n == "*" {
			_, err := os.Lstat(d.Path)
			present = present || err == nil
		} else if matchPath(n, d.Path) {
			present = true
		}
	}
	if !present {
		return false, false
	}
	acc := "r"
	if d.Access == Write {
		acc = "rw"
	}
	open = deviceAllowed(e.m.Devices, d.Type, d.Major, d.Minor, acc) &&
		(e.worldAccessible(d) || e.inInitialUserNS() || e.m.MapsHostRoot) &&
		e.landlockAllows(d.Path, d.Access)
	return true, open
}

// host checks the host namespaces and root filesystem the flaw needs to share.
func (c *checker) host() {
	h := c.e.f.Host
	for _, x := range []struct {
		need bool
		k    namespace.Kind
	}{{h.PID, namespace.PID}, {h.Net, namespace.Net}, {h.IPC, namespace.IPC}} {
		if x.need {
			c.nsShared(x.k, "the host's "+string(x.k)+" namespace")
		}
	}
	for _, n := range c.e.f.Capabilities {
		if n.Scope == ScopeAny {
			c.nsShared(n.Over, "the "+string(n.Over)+" namespace whose owner the capability is checked in")
		}
	}
	if !h.Root {
		return
	}
	p, ok := c.e.hostRoot()
	if !ok || strings.HasPrefix(p, "/ ") {
		p = "/"
	}
	words := map[bool]string{true: "the host's /", false: "not the host's /"}
	c.add("the host's root filesystem at "+p, words[ok], Probe{Kind: ProbeStat, Path: p}, func(f Fact) (bool, string) {
		host, err := statID("/")
		got := f.Errno == 0 && err == nil && f.Value == host
		return got == ok, words[got]
	})
}

// nsShared checks whether the sandbox has its own namespace of kind k.
func (c *checker) nsShared(k namespace.Kind, what string) {
	own := c.e.m.ns(k) == namespace.New
	words := map[bool]string{true: "its own", false: "the host's"}
	c.add(what, words[own], Probe{Kind: ProbeNamespace, NS: k}, func(f Fact) (bool, string) {
		host, err := nsInode(string(k))
		if f.Errno != 0 || err != nil {
			return false, fmt.Sprintf("unreadable: errno %d, %v", f.Errno, err)
		}
		got := f.Value != host
		return got == own, words[got]
	})
}

// status is what ProbeStatus reads.
type status struct {
	eff, prm, bnd caps.Set
	nnp           bool
	seccomp       string
}

// parseStatus reads the lines of /proc/self/status that a ProbeStatus returns;
// ok is false unless the probe read all five.
func parseStatus(f Fact) (s status, ok bool) {
	seen := 0
	for _, line := range strings.Split(f.Value, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		var n uint64
		if _, err := fmt.Sscanf(v, "%x", &n); err != nil {
			continue
		}
		seen++
		switch k {
		case "CapEff":
			s.eff = caps.Set(n)
		case "CapPrm":
			s.prm = caps.Set(n)
		case "CapBnd":
			s.bnd = caps.Set(n)
		case "NoNewPrivs":
			s.nnp = v == "1"
		case "Seccomp":
			s.seccomp = map[string]string{"0": "disabled", "1": "strict", "2": "filter"}[v]
		}
	}
	return s, f.Errno == 0 && seen == 5
}

// nsInode returns the inode of this process's namespace of kind k ("net").
func nsInode(k string) (string, error) {
	return statID(namespace.Kind(k).Path(0))
}

// statID returns "dev:ino" of path.
func statID(path string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), nil
}
