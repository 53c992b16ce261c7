package spec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// The execution domains of Spec.Personality, as the OCI runtime spec names them.
const (
	PersonalityLinux   = "LINUX"
	PersonalityLinux32 = "LINUX32"
)

// personalities are the personality(2) values of the execution domains.
var personalities = map[string]uintptr{PersonalityLinux: 0x0000, PersonalityLinux32: 0x0008} // PER_LINUX, PER_LINUX32

// PersonalityValue returns the personality(2) value of a Spec.Personality.
func PersonalityValue(domain string) (uintptr, bool) {
	v, ok := personalities[domain]
	return v, ok
}

// ipcSysctls are the sysctls of an ipc namespace beside fs.mqueue.*.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	"kernel.msg_next_id": true, "kernel.sem_next_id": true, "kernel.shm_next_id": true,
}

// SysctlNamespace returns the kind of namespace that the sysctl name (dotted, as
// SysctlPath cleans it) belongs to: a sandbox may set only those of a namespace
// of its own. ok is false for a sysctl of the whole host (kernel.panic,
// vm.swappiness), which no sandbox may set.
func SysctlNamespace(name string) (k namespace.Kind, ok bool) {
	switch {
	case strings.HasPrefix(name, "net."):
		return namespace.Net, true
	case ipcSysctls[name], strings.HasPrefix(name, "fs.mqueue."):
		return namespace.IPC, true
	case name == "kernel.hostname", name == "kernel.domainname":
		return namespace.UTS, true
	}
	return "", false
}

// SysctlPath checks a sysctl name and returns it dotted, for SysctlNamespace, and
// as its file below /proc/sys. A name is dotted ("net.ipv4.ping_group_range")
// or, as sysctl(8) also reads it, slashed ("net/ipv4/conf/eth0.100/forwarding",
// where a dot belongs to the component); no component may be empty, "." or
// "..", and no name holds a NUL byte.
func SysctlPath(name string) (dotted, file string, err error) {
	sep := "."
	if strings.Contains(name, "/") {
		sep = "/"
	}
	parts := strings.Split(name, sep)
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", "", fmt.Errorf("%q is not a sysctl name", name)
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || (sep == "." && strings.Contains(p, "/")) {
			return "", "", fmt.Errorf("%q is not a sysctl name: component %q", name, p)
		}
	}
	return strings.Join(parts, "."), path.Join(append([]string{"/proc/sys"}, parts...)...), nil
}

// checkProcess checks the process attributes: sysctls, umask, OOM score
// adjustment, personality, scheduler, I/O priority and CPU affinity.
func (s *Spec) checkProcess(c ids) error {
	if err := s.checkSysctl(c); err != nil {
		return err
	}
	if s.Umask != nil && *s.Umask > 0o777 {
		return specErr("umask", "%#o has bits beyond 0777", *s.Umask)
	}
	if err := s.checkOOMScoreAdj(); err != nil {
		return err
	}
	if _, ok := personalities[s.Personality]; s.Personality != "" && !ok {
		return specErr("personality", "%q: the domains are %s and %s", s.Personality, PersonalityLinux, PersonalityLinux32)
	}
	return s.checkSched()
}

// CheckSysctl checks the sysctls for the calling process as Build does: a
// *SpecError names the field ("sysctl.kernel.panic").
func (s *Spec) CheckSysctl() error { return s.checkSysctl(callerIDs()) }

// checkSysctl checks every sysctl's name and value, and that the sandbox has its
// namespace and a /proc to write it through, as runc does, and that its root
// may write it (checkSysctlOwner).
func (s *Spec) checkSysctl(c ids) error {
	for _, name := range sortedKeys(s.Sysctl) {
		field := "sysctl." + name
		dotted, _, err := SysctlPath(name)
		if err != nil {
			return &SpecError{Field: field, Err: err}
		}
		if v := s.Sysctl[name]; v == "" || strings.IndexByte(v, 0) >= 0 {
			return specErr(field, "value %q is empty or holds a NUL byte", v)
		}
		k, ok := SysctlNamespace(dotted)
		if !ok {
			return specErr(field, "not in a namespace of the sandbox's own: it would change the whole host")
		}
		if !s.ownNamespace(k) {
			return specErr(field, "belongs to the %s namespace, which the sandbox shares with the host", k)
		}
		if dotted == "kernel.hostname" && s.Hostname != "" || dotted == "kernel.domainname" && s.Domainname != "" {
			return specErr(field, "sets what the Spec's hostname or domainname sets")
		}
		if err := s.checkSysctlOwner(field, k, c); err != nil {
			return err
		}
	}
	if len(s.Sysctl) > 0 && !s.mountsProc() {
		return specErr("sysctl", "the child writes sysctls to /proc/sys, and the Spec mounts no /proc (a new mount namespace with the default mounts, or a proc mount at /proc)")
	}
	return nil
}

// checkSysctlOwner refuses a sysctl of a uts namespace where the sandbox's
// root is not the host's: the kernel lets only the host's root write
// /proc/sys/kernel/hostname and domainname, whatever namespace they belong to
// (those of a network or ipc namespace go by the namespace's owner).
func (s *Spec) checkSysctlOwner(field string, k namespace.Kind, c ids) error {
	if k != namespace.UTS {
		return nil
	}
	root := c.uid
	switch s.Namespaces.Mode(namespace.User) {
	case namespace.Join:
		return nil // its maps are read at start; the child reports a refusal
	case namespace.New:
		uidMap, _ := s.IDMaps(c.uid, c.gid)
		root = outsideID(uidMap, 0)
	}
	if root != 0 {
		return &SpecError{NotSupported: true, Field: field,
			Err: fmt.Errorf("only the host's root may write it, and the sandbox's root is host uid %d", root)}
	}
	return nil
}

// ownNamespace reports whether the sandbox has a namespace of kind k of its own:
// a new one, or a joined one that is not the caller's.
func (s *Spec) ownNamespace(k namespace.Kind) bool {
	switch s.Namespaces.Mode(k) {
	case namespace.New:
		return true
	case namespace.Join:
		var joined, own unix.Stat_t
		return unix.Stat(s.Namespaces.NS[k].Path, &joined) == nil &&
			unix.Stat(k.Path(os.Getpid()), &own) == nil && joined.Ino != own.Ino
	}
	return false
}

// mountsProc reports whether the Spec mounts a /proc in a new mount namespace.
func (s *Spec) mountsProc() bool {
	if !s.buildsFilesystem() {
		return false
	}
	if s.Mounts.Defaults {
		return true
	}
	for _, m := range s.Mounts.Mounts {
		if filepath.Clean(m.Target) == "/proc" && (m.FSType == "proc" || m.Flags&unix.MS_BIND != 0 && filepath.Clean(m.Source) == "/proc") {
			return true
		}
	}
	return false
}

// checkOOMScoreAdj checks the OOM score adjustment's range and that the child
// may set it (CheckOOMScoreAdj).
func (s *Spec) checkOOMScoreAdj() error {
	if s.OOMScoreAdj == nil {
		return nil
	}
	if err := CheckOOMScoreAdj(*s.OOMScoreAdj, s.Namespaces.Mode(namespace.User) != namespace.Host); err != nil {
		return &SpecError{NotSupported: errors.Is(err, ErrNotSupported), Field: "oomScoreAdj", Err: err}
	}
	return nil
}

// CheckOOMScoreAdj checks that v is an OOM score adjustment (-1000..1000) that
// the child of a sandbox with or without a user namespace of its own (userNS)
// can set: below the caller's own only with CAP_SYS_RESOURCE, which the child
// has only where the caller has it and no user namespace stands between. (The
// kernel's bound is the lowest score a privileged ancestor set, which no file
// shows; the caller's own score stands for it.) The error matches
// ErrInvalidSpec or ErrNotSupported.
func CheckOOMScoreAdj(v int, userNS bool) error {
	if v < -1000 || v > 1000 {
		return fmt.Errorf("%w: %d is outside -1000..1000", ErrInvalidSpec, v)
	}
	own, err := CallerOOMScoreAdj()
	if err != nil {
		return fmt.Errorf("%w: the caller's score: %w", ErrNotSupported, err)
	}
	if v >= own {
		return nil
	}
	sets, err := caps.Inspect(os.Getpid())
	if err != nil {
		return fmt.Errorf("%w: the caller's capabilities: %w", ErrNotSupported, err)
	}
	if !sets.Effective.Has(caps.SysResource) {
		return fmt.Errorf("%w: %d is below the caller's %d, and the caller lacks CAP_SYS_RESOURCE, which lowering it needs", ErrNotSupported, v, own)
	}
	if userNS {
		return fmt.Errorf("%w: %d is below the caller's %d, which needs CAP_SYS_RESOURCE over the host: the child writes it in its own user namespace, where it has none", ErrNotSupported, v, own)
	}
	return nil
}

// CallerOOMScoreAdj returns the calling process's OOM score adjustment.
func CallerOOMScoreAdj() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// cloneProcess deep-copies the process attributes of s into c.
func (c *Spec) cloneProcess(s *Spec) {
	if s.Sysctl != nil {
		c.Sysctl = make(map[string]string, len(s.Sysctl))
		for k, v := range s.Sysctl {
			c.Sysctl[k] = v
		}
	}
	if s.Umask != nil {
		u := *s.Umask
		c.Umask = &u
	}
	if s.OOMScoreAdj != nil {
		o := *s.OOMScoreAdj
		c.OOMScoreAdj = &o
	}
	if s.Scheduler != nil {
		sc := *s.Scheduler
		sc.Flags = slices.Clone(sc.Flags)
		c.Scheduler = &sc
	}
	if s.IOPriority != nil {
		io := *s.IOPriority
		c.IOPriority = &io
	}
	if s.CPUAffinity != nil {
		a := *s.CPUAffinity
		c.CPUAffinity = &a
	}
}

// planProcess returns the process attributes of the Plan.
func (s *Spec) planProcess() plan.Process {
	p := plan.Process{Umask: s.Umask, OOMScoreAdj: s.OOMScoreAdj, Personality: s.Personality,
		Scheduler: s.Scheduler, IOPriority: s.IOPriority, CPUAffinity: s.CPUAffinity}
	for _, name := range sortedKeys(s.Sysctl) {
		dotted, file, _ := SysctlPath(name) // checked
		p.Sysctl = append(p.Sysctl, plan.Sysctl{Name: dotted, File: file, Value: s.Sysctl[name]})
	}
	return p
}

// sysctlSteps are the in-root steps that write the sysctls, in the order of
// their names, after the pivot into the new root (mounts.Env.AfterPivot).
func (s *Spec) sysctlSteps() []mounts.Step {
	var steps []mounts.Step
	for _, sc := range s.planProcess().Sysctl {
		steps = append(steps, mounts.Step{Action: mounts.ActWriteProc, Stage: "sysctl", Path: sc.File, InRoot: true,
			Source: sc.Value, What: fmt.Sprintf("set sysctl %s to %q (%s)", sc.Name, sc.Value, sc.File)})
	}
	return steps
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
