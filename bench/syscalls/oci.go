package main

import (
	"fmt"
	"os"
	"reflect"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// podmanJSON is where containers-common installs Podman's default profile.
const podmanJSON = "/usr/share/containers/seccomp.json"

// defaultArches are the ABIs of an x86_64 profile, used when a profile names none.
var defaultArches = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}

// ociActions maps the package's actions to their runtime-spec names.
var ociActions = map[seccomp.Action]specs.LinuxSeccompAction{
	seccomp.ActAllow:       specs.ActAllow,
	seccomp.ActErrno:       specs.ActErrno,
	seccomp.ActKillThread:  specs.ActKillThread,
	seccomp.ActKillProcess: specs.ActKillProcess,
	seccomp.ActTrap:        specs.ActTrap,
	seccomp.ActLog:         specs.ActLog,
	seccomp.ActTrace:       specs.ActTrace,
	seccomp.ActNotify:      specs.ActNotify,
}

// profileFor returns the resolved profile a runtime would load by default, and the
// capabilities it was resolved for: "podman" is containers-common's file (path)
// resolved for Podman's 11 default capabilities, as Podman hands it to crun; "docker"
// is Docker's default for its 14, as Paddock loads it.
func profileFor(name, path string) (seccomp.Profile, caps.Set, error) {
	switch name {
	case "podman":
		data, err := os.ReadFile(path)
		if err != nil {
			return seccomp.Profile{}, 0, fmt.Errorf("podman profile: %w", err)
		}
		p, err := seccomp.ParseJSON(data, caps.PodmanDefault.Names())
		if err != nil {
			return seccomp.Profile{}, 0, fmt.Errorf("podman profile %s: %w", path, err)
		}
		return p, caps.PodmanDefault, nil
	case "docker":
		return seccomp.Default(caps.DockerDefault.Names()), caps.DockerDefault, nil
	}
	return seccomp.Profile{}, 0, fmt.Errorf("unknown profile %q (want podman or docker)", name)
}

// ociSeccomp writes p as an OCI runtime config's linux.seccomp section. Every errno
// rule gets an explicit errnoRet (EPERM when p leaves it 0). p.NewerErrno has no OCI
// form and is dropped: calls newer than the profile then get the default action,
// which changes what they return, not what an allowed call costs.
func ociSeccomp(p seccomp.Profile) (*specs.LinuxSeccomp, error) {
	act, ok := ociActions[p.DefaultAction]
	if !ok {
		return nil, fmt.Errorf("default action %q has no OCI name", p.DefaultAction)
	}
	s := &specs.LinuxSeccomp{DefaultAction: act}
	if p.DefaultAction == seccomp.ActErrno {
		s.DefaultErrnoRet = errnoRet(p.DefaultErrno)
	}
	for _, a := range p.Architectures {
		s.Architectures = append(s.Architectures, specs.Arch(a))
	}
	if len(s.Architectures) == 0 {
		s.Architectures = defaultArches
	}
	for i, r := range p.Syscalls {
		act, ok := ociActions[r.Action]
		if !ok {
			return nil, fmt.Errorf("rule %d (%v): action %q has no OCI name", i, r.Names, r.Action)
		}
		sc := specs.LinuxSyscall{Names: r.Names, Action: act}
		switch r.Action {
		case seccomp.ActErrno:
			sc.ErrnoRet = errnoRet(r.Errno)
		case seccomp.ActTrace:
			v := uint(r.Errno)
			sc.ErrnoRet = &v
		}
		for _, a := range r.Args {
			sc.Args = append(sc.Args, specs.LinuxSeccompArg{
				Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: specs.LinuxSeccompOperator(a.Op),
			})
		}
		s.Syscalls = append(s.Syscalls, sc)
	}
	return s, nil
}

// forLibseccomp returns p without what libseccomp (2.5.4, under crun 1.8.1) refuses
// to load, and the rules it dropped. Exact repeats of an earlier rule go. So do the
// conditional non-allow rules of a syscall that also has conditional allow rules:
// libseccomp fails with EEXIST on containers-common's socket rules (EINVAL for
// socket(AF_NETLINK, *, NETLINK_AUDIT), allowed for any other family or protocol),
// so that call falls to the default action (ENOSYS) instead. Neither change touches
// the calls measured here.
func forLibseccomp(p seccomp.Profile) (seccomp.Profile, []seccomp.Rule) {
	condAllow := map[string]bool{}
	for _, r := range p.Syscalls {
		if r.Action == seccomp.ActAllow && len(r.Args) > 0 {
			for _, n := range r.Names {
				condAllow[n] = true
			}
		}
	}
	var kept, dropped []seccomp.Rule
	for _, r := range p.Syscalls {
		conflict := r.Action != seccomp.ActAllow && len(r.Args) > 0 && slices.ContainsFunc(r.Names, func(n string) bool { return condAllow[n] })
		repeat := slices.ContainsFunc(kept, func(k seccomp.Rule) bool { return reflect.DeepEqual(k, r) })
		if conflict || repeat {
			dropped = append(dropped, r)
			continue
		}
		kept = append(kept, r)
	}
	p.Syscalls = kept
	return p, dropped
}

// errnoRet is e as an OCI errnoRet, EPERM for 0.
func errnoRet(e uint16) *uint {
	v := uint(e)
	if v == 0 {
		v = 1
	}
	return &v
}
