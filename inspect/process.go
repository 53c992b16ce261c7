package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// Self reports on the calling process. Inside a sandbox it tells what the
// sandbox isolates, as far as it can be seen from inside.
func Self() (*Report, error) {
	pid, err := SelfPID()
	if err != nil {
		return nil, err
	}
	return Process(pid)
}

// Process reports on process pid (0 for the caller). PID 1's namespace files are the
// reference when the caller may read them and PID 1 is outside pid's pid namespace;
// otherwise the calling process is, when it is not pid itself; otherwise namespaces
// are judged by the fixed inode numbers of the kernel's initial namespaces. Reasons
// says which was used.
func Process(pid int) (*Report, error) {
	if pid == 0 {
		return Self()
	}
	self, err := SelfPID()
	if err != nil {
		return nil, err
	}
	ref := 0
	for _, cand := range []int{1, self} {
		if cand != pid && usableRef(pid, cand) {
			ref = cand
			break
		}
	}
	return inspect(pid, ref)
}

// ProcessAgainst reports on process pid, judging which namespaces are new by
// comparing them with process ref's (0 for the caller). A sandbox's parent uses it
// with its own pid: ProcessAgainst(p.Pid(), os.Getpid()).
func ProcessAgainst(pid, ref int) (*Report, error) {
	self, err := SelfPID()
	if err != nil {
		return nil, err
	}
	if pid == 0 {
		pid = self
	}
	if ref == 0 {
		ref = self
	}
	return inspect(pid, ref)
}

// i386For returns the i386 gate of process pid as this process can tell it.
func i386For(pid int) seccomp.I386 {
	g, err := seccomp.I386Gate()
	if err != nil {
		return ""
	}
	if self, err := SelfPID(); err == nil && self == pid {
		return g
	}
	if g == seccomp.I386Filtered {
		return "" // this process's filter hides what pid meets
	}
	return g
}

// SelfPID returns the caller's pid as /proc numbers it: inside a new pid namespace
// that still sees the host's /proc, that is the host's pid, not getpid's.
func SelfPID() (int, error) {
	l, err := os.Readlink("/proc/self")
	if err != nil {
		return 0, fmt.Errorf("inspect: %w", err)
	}
	return strconv.Atoi(l)
}

// usableRef reports whether process ref's namespaces can be read and tell something
// about pid's: ref must not sit in pid's own (non-initial) pid namespace, as PID 1
// does inside a sandbox that mounted its own /proc.
func usableRef(pid, ref int) bool {
	var rs, ps unix.Stat_t
	for _, k := range namespace.Kinds {
		if k == namespace.Time {
			continue // absent on older kernels
		}
		if unix.Stat(k.Path(ref), &rs) != nil {
			return false
		}
	}
	if unix.Stat(namespace.PID.Path(ref), &rs) != nil || unix.Stat(namespace.PID.Path(pid), &ps) != nil {
		return false
	}
	return rs.Ino != ps.Ino || InitialNamespace(namespace.PID, rs.Ino)
}

// The kernel numbers its initial namespaces with fixed inodes (PROC_*_INIT_INO in
// include/linux/proc_ns.h) and every later one from 0xF0000000 up. Net and mnt have
// fixed numbers only on recent kernels (verified on 6.18).
var initInodes = map[namespace.Kind]uint64{
	namespace.IPC:    0xEFFFFFFF,
	namespace.UTS:    0xEFFFFFFE,
	namespace.User:   0xEFFFFFFD,
	namespace.PID:    0xEFFFFFFC,
	namespace.Cgroup: 0xEFFFFFFB,
	namespace.Time:   0xEFFFFFFA,
	namespace.Net:    0xEFFFFFF9,
	namespace.Mount:  0xEFFFFFF8,
}

const firstDynamicInode = 0xF0000000

// InitialNamespace reports whether ino is the inode of the kernel's initial namespace
// of kind k (the host's), as the kernel numbers it.
func InitialNamespace(k namespace.Kind, ino uint64) bool { return ino != 0 && initInodes[k] == ino }

// KernelRelease returns the running kernel's release ("6.18.3"), "" when
// uname fails.
func KernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// staticallyNumbered reports whether this kernel gives the initial namespace of k a
// fixed inode, so that any other inode means a namespace that is not the host's.
func staticallyNumbered(k namespace.Kind) bool {
	if k != namespace.Net && k != namespace.Mount {
		return true
	}
	release := KernelRelease()
	if release == "" {
		return false
	}
	var major, minor int
	fmt.Sscanf(release, "%d.%d", &major, &minor)
	return major > 6 || (major == 6 && minor >= 18)
}

// inspect fills a Report on pid, comparing with ref (0: no reference).
func inspect(pid, ref int) (*Report, error) {
	r := &Report{PID: pid, RefPID: ref}
	st, err := readStatus(pid)
	if err != nil {
		return nil, fmt.Errorf("inspect: pid %d: %w", pid, err)
	}
	r.UID, r.GID, r.NoNewPrivs = st.uid, st.gid, st.noNewPrivs

	if ref != 0 {
		r.Reference = "pid " + strconv.Itoa(ref)
	} else {
		r.Reference = "the kernel's initial namespaces"
	}
	nsRef := ref
	if nsRef == 0 {
		nsRef = pid
	}
	ni, err := namespace.InspectAgainst(pid, nsRef)
	if err != nil {
		return nil, fmt.Errorf("inspect: pid %d: %w", pid, err)
	}
	r.UIDMap, r.GIDMap, r.Setgroups = ni.UIDMap, ni.GIDMap, ni.Setgroups
	for _, n := range ni.NS {
		e := NamespaceReport{Kind: n.Kind, Inode: n.Inode, ForChildren: n.ForChildren, Err: n.Err, State: NSUnknown}
		e.Initial = InitialNamespace(n.Kind, n.Inode)
		switch {
		case !n.Present:
		case ref != 0 && n.SharedKnown:
			var rs unix.Stat_t
			if unix.Stat(n.Kind.Path(ref), &rs) == nil {
				e.RefInode = rs.Ino
			}
			e.State = NSNew
			if n.Shared {
				e.State = NSShared
			}
		case ref != 0:
			e.Err = "the reference's namespace cannot be read"
		case e.Initial:
			e.State = NSShared
		case n.Inode >= firstDynamicInode && staticallyNumbered(n.Kind):
			e.State = NSNew
		}
		r.Namespaces = append(r.Namespaces, e)
	}

	r.inspectCaps(pid, ref, st.nspid)
	if s, err := seccomp.Inspect(pid); err != nil {
		r.Seccomp = SeccompReport{Mode: "unknown", Filters: -1, Err: err.Error()}
	} else {
		r.Seccomp = SeccompReport{Mode: SeccompMode(s.Mode), Filters: s.Filters}
	}
	r.Seccomp.I386 = i386For(pid)
	r.inspectMounts(pid, r.Get(namespace.PID).Initial || len(st.nspid) > 1)
	r.SELinux.Enabled = selinux.Enabled()
	if l, err := selinux.Inspect(pid); err != nil {
		r.SELinux.Err = err.Error()
	} else {
		r.SELinux.Label = l
	}
	r.Landlock = LandlockReport{Enforced: "unknown",
		Note: "the kernel does not show a process's Landlock domain, from outside or inside"}
	if abi, err := landlock.ABI(); err == nil {
		r.Landlock.ABI = abi
	}
	r.inspectCgroup(pid)
	r.Rlimits = ReadRlimits(pid)
	r.Classify()
	if ref == 0 {
		r.Reasons = append(r.Reasons, "no other process's namespaces could be read: namespaces were judged by the fixed inode numbers of the kernel's initial namespaces")
	}
	return r, nil
}

func (r *Report) inspectCaps(pid, ref int, nspid []int) {
	s, err := caps.Inspect(pid)
	if err != nil {
		r.Capabilities.Err = err.Error()
		return
	}
	base, baseline := caps.Full(), fullBaseline
	if ref != 0 {
		if rs, err := caps.Inspect(ref); err == nil {
			base, baseline = rs.Bounding, "the bounding set of pid "+strconv.Itoa(ref)
		}
	} else if len(nspid) > 1 && pid != 1 {
		// The reader's /proc belongs to an ancestor of pid's pid namespace, so its
		// PID 1 is outside the sandbox.
		if rs, err := caps.Inspect(1); err == nil {
			base, baseline = rs.Bounding, "the bounding set of pid 1"
		}
	}
	r.Capabilities = NewCapabilityReport(s, base, baseline)
}

// NewCapabilityReport lists the sets s by name, and as Dropped the capabilities of
// base that s's bounding set lacks; baseline says what base is ("the bounding set
// of pid N").
func NewCapabilityReport(s caps.Sets, base caps.Set, baseline string) CapabilityReport {
	return CapabilityReport{
		Bounding: names(s.Bounding), Effective: names(s.Effective), Permitted: names(s.Permitted),
		Inheritable: names(s.Inheritable), Ambient: names(s.Ambient),
		Dropped: names(base &^ s.Bounding), Baseline: baseline,
	}
}

// fullBaseline is the Baseline of a bounding set compared with every capability.
const fullBaseline = "every capability of the kernel"

func names(s caps.Set) []string {
	n := s.Names()
	if n == nil {
		n = []string{}
	}
	return n
}

// SeccompMode names a seccomp mode as a Report does: "disabled", "strict",
// "filter", or "unknown".
func SeccompMode(m seccomp.Mode) string {
	switch m {
	case seccomp.ModeDisabled:
		return "disabled"
	case seccomp.ModeStrict:
		return "strict"
	case seccomp.ModeFilter:
		return "filter"
	}
	return "unknown"
}

// inspectMounts reads pid's mounts; hostView says whether PID 1 of the reader's /proc
// is outside pid's pid namespace, so that its mount table is the host's.
func (r *Report) inspectMounts(pid int, hostView bool) {
	mi, err := mounts.Inspect(pid)
	if err != nil {
		r.Mounts = MountReport{Masked: []string{}, ReadOnly: []string{}, Err: err.Error()}
		return
	}
	m := &r.Mounts
	m.Masked, m.Unmasked = nonNil(mi.Masked), mi.Unmasked
	m.ReadOnly, m.Writable = nonNil(mi.ReadOnly), mi.Writable
	if !hostView {
		m.HostVisible = -1
		return
	}
	m.HostVisible = len(mi.HostVisible)
	for _, h := range mi.HostVisible {
		if h.HostMountpoint == "/" && h.Root == "/" {
			m.HostRoot = append(m.HostRoot, h.Mountpoint)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (r *Report) inspectCgroup(pid int) {
	ci, err := cgroup.Inspect(pid)
	if err != nil {
		r.Cgroup.Err = err.Error()
		return
	}
	c := &r.Cgroup
	c.Paths = ci.Paths()
	c.Memory, c.Pids, c.CPUQuota, c.CPUPeriod = ci.Memory, ci.Pids, ci.CPUQuota, ci.CPUPeriod
}

// NoNewPrivs reports whether process pid has the no_new_privs flag (NoNewPrivs: in
// /proc/PID/status).
func NoNewPrivs(pid int) (bool, error) {
	st, err := readStatus(pid)
	return st.noNewPrivs, err
}

// procStatusState holds the lines of /proc/PID/status that the report uses.
type procStatusState struct {
	uid, gid   int
	noNewPrivs bool
	nspid      []int
}

func readStatus(pid int) (procStatusState, error) {
	st := procStatusState{uid: -1, gid: -1}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return st, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Uid", "Gid":
			if len(f) >= 2 {
				id, _ := strconv.Atoi(f[1]) // effective
				if key == "Uid" {
					st.uid = id
				} else {
					st.gid = id
				}
			}
		case "NoNewPrivs":
			st.noNewPrivs = len(f) == 1 && f[0] == "1"
		case "NSpid":
			for _, x := range f {
				n, _ := strconv.Atoi(x)
				st.nspid = append(st.nspid, n)
			}
		}
	}
	return st, nil
}
