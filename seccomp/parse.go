package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

type fileProfile struct {
	DefaultAction   string            `json:"defaultAction"`
	DefaultErrnoRet *uint             `json:"defaultErrnoRet"`
	Architectures   []string          `json:"architectures"`
	ArchMap         []fileArch        `json:"archMap"`
	Syscalls        []json.RawMessage `json:"syscalls"`
}

type fileArch struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

type fileSyscall struct {
	Name     string      `json:"name"`
	Names    []string    `json:"names"`
	Action   string      `json:"action"`
	ErrnoRet *uint       `json:"errnoRet"`
	Args     []fileArg   `json:"args"`
	Includes *fileFilter `json:"includes"`
	Excludes *fileFilter `json:"excludes"`
}

type fileArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo"`
	Op       string `json:"op"`
}

type fileFilter struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

var fileActions = map[string]Action{
	"SCMP_ACT_ALLOW":        ActAllow,
	"SCMP_ACT_ERRNO":        ActErrno,
	"SCMP_ACT_KILL":         ActKillThread,
	"SCMP_ACT_KILL_THREAD":  ActKillThread,
	"SCMP_ACT_KILL_PROCESS": ActKillProcess,
	"SCMP_ACT_TRAP":         ActTrap,
	"SCMP_ACT_LOG":          ActLog,
	"SCMP_ACT_TRACE":        ActTrace,
	"SCMP_ACT_NOTIFY":       ActNotify,
}

// ParseJSON reads a profile in the OCI runtime-spec form (linux.seccomp) or the
// Docker/Podman file form (/usr/share/containers/seccomp.json: archMap, includes and
// excludes by capability, architecture and minimum kernel). Conditional entries are
// resolved for the native architecture, the running kernel and capabilities (names
// such as "CAP_SYS_ADMIN"). Names the native architecture's table lacks are dropped,
// as runc and crun do: profile files serve many architectures and kernels, and name
// calls of other ABIs (socketcall, _llseek) and of architectures or kernels newer
// than this package's table (riscv_hwprobe). A profile built in Go is held to
// Validate's stricter rule instead. An entry
// that repeats an argument index becomes one rule per condition (OR), as in runc.
// Errors are *ProfileError naming the entry and field, File set unless Validate
// found them.
func ParseJSON(data []byte, capabilities []string) (Profile, error) {
	var f fileProfile
	if err := json.Unmarshal(data, &f); err != nil {
		return Profile{}, &ProfileError{File: true, Index: -1, Err: err}
	}
	p, err := f.header()
	if err != nil {
		return Profile{}, err
	}
	for i, raw := range f.Syscalls {
		var s fileSyscall
		if err := json.Unmarshal(raw, &s); err != nil {
			field := ""
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				field = te.Field
			}
			return Profile{}, &ProfileError{File: true, Index: i, Field: field, Err: err}
		}
		if err := p.addEntry(&s, i, capabilities); err != nil {
			return Profile{}, err
		}
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// header turns the top-level fields of a profile file into a Profile without rules.
func (f *fileProfile) header() (Profile, error) {
	act, ok := fileActions[f.DefaultAction]
	if !ok {
		return Profile{}, &ProfileError{File: true, Index: -1, Field: "defaultAction", Err: fmt.Errorf("%w %q", errUnknownAction, f.DefaultAction)}
	}
	p := Profile{DefaultAction: act}
	if f.DefaultErrnoRet != nil {
		if *f.DefaultErrnoRet > 0xffff {
			return Profile{}, &ProfileError{File: true, Index: -1, Field: "defaultErrnoRet", Err: errBadValue}
		}
		p.DefaultErrno = uint16(*f.DefaultErrnoRet)
	}
	if len(f.Architectures) > 0 && len(f.ArchMap) > 0 {
		return Profile{}, &ProfileError{File: true, Index: -1, Field: "archMap", Err: fmt.Errorf("%w: both architectures and archMap", errConflict)}
	}
	p.Architectures = append(p.Architectures, f.Architectures...)
	for _, a := range f.ArchMap {
		if a.Arch == nativeSCMPArch() {
			p.Architectures = append(p.Architectures, a.Arch)
			p.Architectures = append(p.Architectures, a.SubArches...)
		}
	}
	for _, a := range p.Architectures {
		if !archNames[normArch(a)] {
			return Profile{}, &ProfileError{File: true, Index: -1, Field: "architectures", Err: fmt.Errorf("%w %q", errUnknownArch, a)}
		}
	}
	return p, nil
}

// addEntry resolves entry i of a profile file and appends its rules to p.
func (p *Profile) addEntry(s *fileSyscall, i int, capabilities []string) error {
	rules, err := s.resolve(capabilities)
	if err != nil {
		err.Index = i
		return err
	}
	p.Syscalls = append(p.Syscalls, rules...)
	return nil
}

// resolve turns one file entry into rules, or none when its conditions exclude it.
func (s *fileSyscall) resolve(caps []string) ([]Rule, *ProfileError) {
	if s.Name != "" {
		if len(s.Names) > 0 {
			return nil, &ProfileError{File: true, Field: "name", Err: fmt.Errorf("%w: both name and names", errConflict)}
		}
		s.Names = []string{s.Name}
	}
	if len(s.Names) == 0 {
		return nil, &ProfileError{File: true, Field: "names", Err: errNoNames}
	}
	act, ok := fileActions[s.Action]
	if !ok {
		return nil, &ProfileError{File: true, Field: "action", Err: fmt.Errorf("%w %q", errUnknownAction, s.Action)}
	}
	var errno uint16
	if s.ErrnoRet != nil {
		if *s.ErrnoRet > 0xffff {
			return nil, &ProfileError{File: true, Field: "errnoRet", Err: errBadValue}
		}
		errno = uint16(*s.ErrnoRet)
	}
	args := make([]Arg, len(s.Args))
	seen := map[uint]bool{}
	repeated := false
	for j, a := range s.Args {
		if a.Index > 5 {
			return nil, &ProfileError{File: true, Field: fmt.Sprintf("args[%d].index", j), Err: errArgIndex}
		}
		if !Operator(a.Op).Valid() {
			return nil, &ProfileError{File: true, Field: fmt.Sprintf("args[%d].op", j), Err: fmt.Errorf("%w %q", errUnknownOperator, a.Op)}
		}
		repeated = repeated || seen[a.Index]
		seen[a.Index] = true
		args[j] = Arg{Index: a.Index, Value: a.Value, ValueTwo: a.ValueTwo, Op: Operator(a.Op)}
	}
	include, err := s.Includes.holds(caps, true)
	if err != nil {
		return nil, &ProfileError{File: true, Field: "includes.minKernel", Err: err}
	}
	exclude, err := s.Excludes.holds(caps, false)
	if err != nil {
		return nil, &ProfileError{File: true, Field: "excludes.minKernel", Err: err}
	}
	if !include || exclude {
		return nil, nil
	}
	var names []string
	for _, n := range s.Names {
		if _, ok := nativeNumber(n); ok {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	if !repeated {
		return []Rule{{Names: names, Action: act, Errno: errno, Args: args}}, nil
	}
	rules := make([]Rule, len(args))
	for j, a := range args {
		rules[j] = Rule{Names: names, Action: act, Errno: errno, Args: []Arg{a}}
	}
	return rules, nil
}

// holds evaluates an includes (all conditions must hold) or excludes (any condition
// suffices) filter. A nil filter is neutral.
func (f *fileFilter) holds(caps []string, include bool) (bool, error) {
	if f == nil {
		return include, nil
	}
	var conds []bool
	if len(f.Arches) > 0 {
		conds = append(conds, slices.Contains(f.Arches, nativeEngineArch()))
	}
	if len(f.Caps) > 0 {
		if include {
			all := true
			for _, c := range f.Caps {
				all = all && hasCap(caps, c)
			}
			conds = append(conds, all)
		} else {
			any := false
			for _, c := range f.Caps {
				any = any || hasCap(caps, c)
			}
			conds = append(conds, any)
		}
	}
	if f.MinKernel != "" {
		var want [2]int
		if _, err := fmt.Sscanf(f.MinKernel, "%d.%d", &want[0], &want[1]); err != nil {
			return false, fmt.Errorf("%w %q: want <kernel>.<major>", errBadValue, f.MinKernel)
		}
		have := kernelVersion()
		conds = append(conds, have[0] > want[0] || have[0] == want[0] && have[1] >= want[1])
	}
	if include {
		return !slices.Contains(conds, false), nil
	}
	return slices.Contains(conds, true), nil
}

func hasCap(caps []string, c string) bool {
	c = strings.ToUpper(c)
	for _, have := range caps {
		have = strings.ToUpper(have)
		if have == c || "CAP_"+have == c {
			return true
		}
	}
	return false
}

// kernelVersion returns the running kernel's version and major revision.
var kernelVersion = sync.OnceValue(func() [2]int {
	var uts unix.Utsname
	var v [2]int
	if unix.Uname(&uts) == nil {
		fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &v[0], &v[1])
	}
	return v
})

// nativeEngineArch is the native architecture in the names used by Docker's
// includes/excludes (libseccomp's native names).
func nativeEngineArch() string {
	switch runtime.GOARCH {
	case "386":
		return "x86"
	case "mips64le":
		return "mipsel64"
	case "mipsle":
		return "mipsel"
	case "loong64":
		return "loongarch64"
	}
	return runtime.GOARCH
}

// nativeSCMPArch is the native architecture as an SCMP_ARCH_ name.
func nativeSCMPArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "SCMP_ARCH_X86_64"
	case "386":
		return "SCMP_ARCH_X86"
	case "arm64":
		return "SCMP_ARCH_AARCH64"
	}
	return "SCMP_ARCH_" + strings.ToUpper(runtime.GOARCH)
}
