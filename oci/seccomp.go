package oci

import (
	"encoding/json"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// seccomp sets the system call filter: none without linux.seccomp, else the
// whole OCI object through package seccomp's import of it. As runc does, a
// filter whose default is neither to allow nor ENOSYS answers the calls newer
// than every one it names with ENOSYS, so that libc falls back to older ones.
// Paddock's filter kills calls of every architecture but the native one, where
// libseccomp would apply the rules to the architectures listed as well.
func (c *converter) seccomp() error {
	sc := c.linux.Seccomp
	if sc == nil {
		c.spec.Seccomp = sandbox.Seccomp{Mode: sandbox.SeccompUnconfined}
		return nil
	}
	if err := refuseSeccomp(sc); err != nil {
		return err
	}
	flags, err := seccompFlags(sc.Flags)
	if err != nil {
		return err
	}
	noFlags := *sc
	noFlags.Flags = nil
	data, err := json.Marshal(&noFlags)
	if err != nil {
		return invalidErr("linux.seccomp", err)
	}
	prof, err := seccomp.ParseJSON(data, c.bounding())
	if err != nil {
		return seccompError(err)
	}
	if prof.DefaultAction != seccomp.ActAllow && prof.DefaultAction != seccomp.ActLog &&
		!(prof.DefaultAction == seccomp.ActErrno && prof.DefaultErrno == uint16(unix.ENOSYS)) {
		prof.NewerErrno = uint16(unix.ENOSYS)
	}
	prof.Flags = flags
	c.spec.Seccomp = sandbox.Seccomp{Mode: sandbox.SeccompCustom, Profile: &prof}
	return nil
}

// seccompFlags returns the filter flags that Paddock loads a filter with, log
// and spec_allow, where this kernel knows them, and refuses the others: TSYNC
// (the child is single-threaded; runc's meaning, all threads, has no object
// here) and WAIT_KILLABLE_RECV (a listener's, which a socket would hold).
func seccompFlags(flags []specs.LinuxSeccompFlag) ([]string, error) {
	var out []string
	for i, f := range flags {
		field := fmt.Sprintf("linux.seccomp.flags[%d]", i)
		var v uintptr
		switch string(f) {
		case seccomp.FlagLog:
			v = unix.SECCOMP_FILTER_FLAG_LOG
		case seccomp.FlagSpecAllow:
			v = unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		default:
			return nil, unsupported(field, "%s: Paddock loads a filter with %s or %s only", f, seccomp.FlagLog, seccomp.FlagSpecAllow)
		}
		if err := seccomp.ProbeFlag(v); err != nil {
			return nil, unsupported(field, "%s: this kernel does not know it: %v", f, err)
		}
		out = append(out, string(f))
	}
	return out, nil
}

// refuseSeccomp refuses the parts of a seccomp object that a Spec cannot hold: a
// listener socket (Paddock hands the notification descriptor to the caller, as
// Process.SeccompListener, not to a socket).
func refuseSeccomp(sc *specs.LinuxSeccomp) error {
	if sc.ListenerPath != "" {
		return unsupported("linux.seccomp.listenerPath", "Paddock hands the notification descriptor to its caller, not to a socket")
	}
	if sc.ListenerMetadata != "" {
		return unsupported("linux.seccomp.listenerMetadata", "Paddock hands the notification descriptor to its caller, not to a socket")
	}
	if sc.DefaultAction == specs.ActNotify {
		return invalid("linux.seccomp.defaultAction", "SCMP_ACT_NOTIFY needs a listenerPath")
	}
	for i, s := range sc.Syscalls {
		if s.Action == specs.ActNotify {
			return invalid(fmt.Sprintf("linux.seccomp.syscalls[%d].action", i), "SCMP_ACT_NOTIFY needs a listenerPath")
		}
	}
	return nil
}

// seccompError names the field of a profile error in the configuration.
func seccompError(err error) error {
	var pe *seccomp.ProfileError
	if !errors.As(err, &pe) {
		return invalidErr("linux.seccomp", err)
	}
	field := "linux.seccomp"
	switch {
	case pe.Index >= 0 && pe.File:
		field += fmt.Sprintf(".syscalls[%d]", pe.Index)
	case pe.Index >= 0:
		field += ".syscalls" // rules after ParseJSON's resolution: no longer the file's entries
	}
	if pe.Field != "" {
		field += "." + pe.Field
	}
	return invalidErr(field, err)
}

// bounding returns the bounding set's names, which decide the conditional parts
// of a profile.
func (c *converter) bounding() []string {
	set, err := caps.ParseSet(c.spec.Caps.Bounding)
	if err != nil {
		return nil
	}
	return set.Names()
}
