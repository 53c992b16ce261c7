package seccomp

import (
	"slices"
	"sync"

	moby "github.com/moby/profiles/seccomp"
)

// dockerFile is Docker's default profile (github.com/moby/profiles/seccomp) in the
// form ParseJSON reads, converted from moby's Go values once: the same entries as its
// JSON file, without encoding and decoding them.
var dockerFile = sync.OnceValues(func() (fileProfile, []fileSyscall) {
	m := moby.DefaultProfile()
	f := fileProfile{DefaultAction: string(m.DefaultAction), DefaultErrnoRet: m.DefaultErrnoRet}
	for _, a := range m.Architectures {
		f.Architectures = append(f.Architectures, string(a))
	}
	for _, a := range m.ArchMap {
		fa := fileArch{Arch: string(a.Arch)}
		for _, sub := range a.SubArches {
			fa.SubArches = append(fa.SubArches, string(sub))
		}
		f.ArchMap = append(f.ArchMap, fa)
	}
	entries := make([]fileSyscall, len(m.Syscalls))
	for i, s := range m.Syscalls {
		e := &entries[i]
		e.Names, e.Action, e.ErrnoRet = s.Names, string(s.Action), s.ErrnoRet
		//lint:ignore SA1019 the file form still has "name", and this reads what moby's JSON would say
		e.Name = s.Name
		for _, a := range s.Args {
			e.Args = append(e.Args, fileArg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: string(a.Op)})
		}
		e.Includes, e.Excludes = mobyFilter(s.Includes), mobyFilter(s.Excludes)
	}
	return f, entries
})

func mobyFilter(m *moby.Filter) *fileFilter {
	if m == nil {
		return nil
	}
	f := &fileFilter{Caps: m.Caps, Arches: m.Arches}
	if m.MinKernel != nil {
		f.MinKernel = m.MinKernel.String()
	}
	return f
}

// Default returns Docker's default profile resolved for the native architecture, the
// running kernel and the given capabilities ("CAP_SYS_ADMIN" form, the bounding set of
// the sandbox): the rules Docker gates on a capability, an architecture or a minimum
// kernel are kept or dropped, and names the native architecture lacks are dropped.
// Calls no rule matches fail with EPERM, but for those numbered above every name of
// the profile, syscalls newer than it, which fail with ENOSYS (NewerErrno), as runc
// makes them fail, so that libc falls back to an older call.
//
// One change to Docker's rules: clone3 always fails with ENOSYS, also with
// CAP_SYS_ADMIN (where Docker allows it), so that its flags, which BPF cannot read,
// never bypass the profile's view of clone; a leading rule says so.
func Default(capabilities []string) Profile {
	f, entries := dockerFile()
	p, err := f.header()
	for i := range entries {
		if err != nil {
			break
		}
		e := entries[i] // resolve rewrites its entry: keep the shared one intact
		err = p.addEntry(&e, i, capabilities)
	}
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		panic("seccomp: Docker's default profile: " + err.Error())
	}
	p.NewerErrno = errnoENOSYS
	return withClone3ENOSYS(p)
}

// PodmanDefault returns Default's rules with ENOSYS as the answer to calls no rule
// matches, Podman's choice (containers-common's seccomp.json, defaultErrnoRet 38): a
// syscall newer than the profile then looks unimplemented, and libc falls back to an
// older one instead of failing with EPERM.
//
// Like Podman's file it keeps EPERM for the calls the profile knows and refuses: a
// trailing rule answers EPERM for every name that Default mentions in any rule,
// conditional or not, but that was not allowed (clone with namespace flags, mount,
// unshare, personality with other values, socket for other families, ...), so only
// calls Docker's profile never mentions get ENOSYS. What differs from
// containers-common's file itself: that file also refuses a few calls Docker allows
// (vmsplice, userfaultfd, io_pgetevents, ...) and gates socket(AF_NETLINK,
// NETLINK_AUDIT) on CAP_AUDIT_WRITE; load it with ParseJSON to get exactly that.
func PodmanDefault(capabilities []string) Profile {
	p := Default(capabilities)
	p.DefaultErrno = errnoENOSYS
	_, entries := dockerFile()
	unconditional := map[string]bool{}
	for _, r := range p.Syscalls {
		if len(r.Args) == 0 {
			for _, n := range r.Names {
				unconditional[n] = true
			}
		}
	}
	var deny []string
	for _, s := range entries {
		for _, n := range s.Names {
			if _, ok := nativeNumber(n); ok && !unconditional[n] && !slices.Contains(deny, n) {
				deny = append(deny, n)
			}
		}
	}
	if len(deny) > 0 {
		p.Syscalls = append(p.Syscalls, Rule{Names: deny, Action: ActErrno, Errno: errnoEPERM})
	}
	return p
}

// withClone3ENOSYS puts a clone3 → ENOSYS rule first and removes clone3 from the rules
// after it.
func withClone3ENOSYS(p Profile) Profile {
	rules := []Rule{{Names: []string{"clone3"}, Action: ActErrno, Errno: errnoENOSYS}}
	for _, r := range p.Syscalls {
		if i := slices.Index(r.Names, "clone3"); i >= 0 {
			r.Names = slices.Delete(slices.Clone(r.Names), i, i+1)
			if len(r.Names) == 0 {
				continue
			}
		}
		rules = append(rules, r)
	}
	p.Syscalls = rules
	return p
}
