package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// Action is what the filter does with a system call that a rule (or the default)
// selects.
type Action string

// The actions, named after SECCOMP_RET_*.
const (
	// ActAllow runs the system call.
	ActAllow Action = "allow"
	// ActErrno fails the system call with an errno (EPERM when none is given).
	ActErrno Action = "errno"
	// ActKillProcess kills the whole process with SIGSYS (core dump).
	ActKillProcess Action = "kill_process"
	// ActKillThread kills only the calling thread.
	ActKillThread Action = "kill_thread"
	// ActTrap sends SIGSYS to the thread; the call is not run.
	ActTrap Action = "trap"
	// ActLog runs the system call and logs it to the audit log.
	ActLog Action = "log"
	// ActTrace hands the call to a ptrace tracer (PTRACE_EVENT_SECCOMP, with the
	// rule's Errno as event data); without a tracer the call fails with ENOSYS.
	ActTrace Action = "trace"
	// ActNotify hands the call to a user-space supervisor reading the descriptor
	// returned by SECCOMP_FILTER_FLAG_NEW_LISTENER.
	ActNotify Action = "notify"
)

// retValue returns the SECCOMP_RET_* value of a with data in the low 16 bits.
func (a Action) retValue(data uint16) (uint32, bool) {
	switch a {
	case ActAllow:
		return retAllow, true
	case ActErrno:
		if data == 0 {
			data = errnoEPERM
		}
		return retErrno | uint32(data), true
	case ActKillProcess:
		return retKillProcess, true
	case ActKillThread:
		return retKillThread, true
	case ActTrap:
		return retTrap, true
	case ActLog:
		return retLog, true
	case ActTrace:
		return retTrace | uint32(data), true
	case ActNotify:
		return retUserNotif, true
	}
	return 0, false
}

// Valid reports whether a is one of the known actions.
func (a Action) Valid() bool { _, ok := a.retValue(0); return ok }

// SECCOMP_RET_* values (include/uapi/linux/seccomp.h).
const (
	retKillProcess uint32 = 0x80000000
	retKillThread  uint32 = 0x00000000
	retTrap        uint32 = 0x00030000
	retErrno       uint32 = 0x00050000
	retUserNotif   uint32 = 0x7fc00000
	retTrace       uint32 = 0x7ff00000
	retLog         uint32 = 0x7ffc0000
	retAllow       uint32 = 0x7fff0000

	retActionFull uint32 = 0xffff0000
	retData       uint32 = 0x0000ffff

	errnoEPERM  = 1
	errnoENOSYS = 38
)

// Operator compares a syscall argument with a rule's values. The names are those of
// the OCI runtime spec (and libseccomp).
type Operator string

// The operators. All compare the full 64-bit argument, unsigned.
const (
	OpNotEqual     Operator = "SCMP_CMP_NE"
	OpLessThan     Operator = "SCMP_CMP_LT"
	OpLessEqual    Operator = "SCMP_CMP_LE"
	OpEqualTo      Operator = "SCMP_CMP_EQ"
	OpGreaterEqual Operator = "SCMP_CMP_GE"
	OpGreaterThan  Operator = "SCMP_CMP_GT"
	// OpMaskedEqual matches when arg & Value == ValueTwo.
	OpMaskedEqual Operator = "SCMP_CMP_MASKED_EQ"
)

// Valid reports whether o is one of the known operators.
func (o Operator) Valid() bool {
	switch o {
	case OpNotEqual, OpLessThan, OpLessEqual, OpEqualTo, OpGreaterEqual, OpGreaterThan, OpMaskedEqual:
		return true
	}
	return false
}

// Match reports whether argument value v satisfies the condition a.
func (a Arg) Match(v uint64) bool {
	switch a.Op {
	case OpNotEqual:
		return v != a.Value
	case OpLessThan:
		return v < a.Value
	case OpLessEqual:
		return v <= a.Value
	case OpEqualTo:
		return v == a.Value
	case OpGreaterEqual:
		return v >= a.Value
	case OpGreaterThan:
		return v > a.Value
	case OpMaskedEqual:
		return v&a.Value == a.ValueTwo
	}
	return false
}

// A Profile is a seccomp policy as plain data: an ordered list of rules and the
// action for calls that no rule matches. The first rule that matches a call (by
// name and all of its argument conditions) decides; a call numbered above every
// rule's names gets NewerErrno if set.
type Profile struct {
	// DefaultAction applies to calls no rule matches.
	DefaultAction Action `json:"defaultAction"`
	// DefaultErrno is the errno of an errno DefaultAction (0 means EPERM).
	DefaultErrno uint16 `json:"defaultErrno,omitempty"`
	// NewerErrno, when not 0, is the errno of the native calls numbered above the
	// highest native number that any rule names (whatever that rule's action or
	// conditions): syscalls newer than the profile then look unimplemented, so libc
	// falls back to an older call, instead of getting the default action. runc adds
	// this to every profile whose default is neither an allow nor ENOSYS (its -ENOSYS
	// stub); Default sets it to ENOSYS. Without rules it has no effect.
	NewerErrno uint16 `json:"newerErrno,omitempty"`
	// Architectures lists the ABIs the profile was written for, in libseccomp
	// names (SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, ...). It is
	// informational: a compiled filter serves the native ABI only and kills calls
	// from every other one.
	Architectures []string `json:"architectures,omitempty"`
	// Syscalls are the rules, in order.
	Syscalls []Rule `json:"syscalls"`
	// Flags are filter flags the child loads the filter with: FlagLog,
	// FlagSpecAllow. Compile refuses those this kernel lacks.
	Flags []string `json:"flags,omitempty"`
}

// A Rule gives an action to the calls of Names whose arguments satisfy every Arg.
type Rule struct {
	// Names are syscall names. Names that the native architecture lacks but another
	// one knows (socketcall, _llseek, ...) are accepted and skipped, as Docker does
	// for its multi-architecture profiles.
	Names  []string `json:"names"`
	Action Action   `json:"action"`
	// Errno is the errno of an errno Action (0 means EPERM), or the event data of a
	// trace Action.
	Errno uint16 `json:"errno,omitempty"`
	// Args must all match (AND). OCI files that repeat an index are split into one
	// rule per condition by ParseJSON, as runc does.
	Args []Arg `json:"args,omitempty"`
}

// An Arg is a condition on one syscall argument.
type Arg struct {
	// Index is the argument position, 0 to 5.
	Index    uint     `json:"index"`
	Value    uint64   `json:"value"`
	ValueTwo uint64   `json:"valueTwo,omitempty"`
	Op       Operator `json:"op"`
}

// ErrInvalidProfile matches every error that reports a bad profile or profile file.
var ErrInvalidProfile = errors.New("invalid seccomp profile")

// The reasons that a *ProfileError carries.
var (
	errUnknownSyscall  = errors.New("unknown syscall name")
	errUnknownAction   = errors.New("unknown action")
	errUnknownOperator = errors.New("unknown operator")
	errArgIndex        = errors.New("argument index out of range 0-5")
	errUnknownArch     = errors.New("unknown architecture")
	errNoNames         = errors.New("rule has no syscall names")
	errConflict        = errors.New("conflicting fields")
	errBadValue        = errors.New("bad value")
)

// A ProfileError reports what makes a Profile, or a profile file, invalid. It matches
// ErrInvalidProfile.
type ProfileError struct {
	// File is set for an error in a profile file that ParseJSON found before it
	// validated the Profile.
	File bool
	// Index is the position of the rule in Profile.Syscalls, or of the entry in the
	// file's "syscalls"; -1 for a top-level field.
	Index int
	// Name is the offending syscall name, if the problem is one name.
	Name string
	// Field names what is at fault, as the file spells it: "defaultAction",
	// "architectures", "names", "action", "errnoRet", "args[1].index", "args[0].op",
	// "includes.minKernel", ...; empty for malformed JSON.
	Field string
	// Value is the offending value of a top-level field of a Profile.
	Value string
	// Err says what is wrong.
	Err error
}

// Error implements the error interface.
func (e *ProfileError) Error() string {
	switch {
	case e.File && e.Index >= 0:
		return fmt.Sprintf("seccomp profile file: syscalls[%d].%s: %v", e.Index, e.Field, e.Err)
	case e.File && e.Field != "":
		return fmt.Sprintf("seccomp profile file: %s: %v", e.Field, e.Err)
	case e.File:
		return fmt.Sprintf("seccomp profile file: %v", e.Err)
	case e.Index < 0:
		return fmt.Sprintf("seccomp profile %s %q: %v", e.Field, e.Value, e.Err)
	case e.Name != "":
		return fmt.Sprintf("seccomp rule %d (%s): %v", e.Index, e.Name, e.Err)
	}
	return fmt.Sprintf("seccomp rule %d: %v", e.Index, e.Err)
}

// Unwrap returns the reason.
func (e *ProfileError) Unwrap() error { return e.Err }

// Is matches ErrInvalidProfile.
func (e *ProfileError) Is(target error) bool { return target == ErrInvalidProfile }

// Validate checks p and returns the first problem as a *ProfileError, which matches
// ErrInvalidProfile.
func (p Profile) Validate() error {
	if !p.DefaultAction.Valid() {
		return &ProfileError{Index: -1, Field: "defaultAction", Value: string(p.DefaultAction), Err: errUnknownAction}
	}
	for _, a := range p.Architectures {
		if _, ok := archNames[normArch(a)]; !ok {
			return &ProfileError{Index: -1, Field: "architectures", Value: a, Err: errUnknownArch}
		}
	}
	for i, r := range p.Syscalls {
		if err := r.validate(); err != nil {
			err.Index = i
			return err
		}
	}
	if err := p.validateFlags(); err != nil {
		return err
	}
	return nil
}

func (r Rule) validate() *ProfileError {
	if len(r.Names) == 0 {
		return &ProfileError{Field: "names", Err: errNoNames}
	}
	if !r.Action.Valid() {
		return &ProfileError{Name: r.Names[0], Field: "action", Err: fmt.Errorf("%w %q", errUnknownAction, r.Action)}
	}
	for _, n := range r.Names {
		if _, ok := nativeNumber(n); ok {
			continue
		}
		if !knownElsewhere(n) {
			return &ProfileError{Name: n, Field: "names", Err: errUnknownSyscall}
		}
	}
	for j, a := range r.Args {
		var field string
		var reason error
		switch {
		case a.Index > 5:
			field, reason = "index", errArgIndex
		case !a.Op.Valid():
			field, reason = "op", errUnknownOperator
		}
		if reason != nil {
			return &ProfileError{Name: r.Names[0], Field: fmt.Sprintf("args[%d].%s", j, field),
				Err: fmt.Errorf("argument condition %d (index %d, op %q): %w", j, a.Index, a.Op, reason)}
		}
	}
	return nil
}

// native is the architecture the filter is compiled for.
var native = func() *arch.Info {
	info, err := arch.GetInfo(runtime.GOARCH)
	if err != nil {
		return arch.X86_64 // keeps the package usable for data work on other arches
	}
	return info
}()

// others are the tables consulted for names the native one lacks.
var others = []*arch.Info{arch.I386, arch.X32, arch.X86_64, arch.ARM, arch.AARCH64}

// nativeNumber returns the native number of a syscall name.
func nativeNumber(name string) (uint32, bool) {
	n, ok := native.SyscallNames[name]
	return uint32(n), ok
}

func knownElsewhere(name string) bool {
	for _, a := range others {
		if _, ok := a.SyscallNames[name]; ok {
			return true
		}
	}
	return false
}

// archNames are the accepted architecture names (libseccomp's, lower-cased, without
// the SCMP_ARCH_ prefix).
var archNames = map[string]bool{
	"x86": true, "x86_64": true, "x32": true, "arm": true, "aarch64": true,
	"mips": true, "mips64": true, "mips64n32": true, "mipsel": true, "mipsel64": true,
	"mipsel64n32": true, "ppc": true, "ppc64": true, "ppc64le": true, "s390": true,
	"s390x": true, "parisc": true, "parisc64": true, "riscv64": true, "loongarch64": true,
	"m68k": true, "sh": true, "sheb": true,
}

func normArch(a string) string {
	return strings.ToLower(strings.TrimPrefix(a, "SCMP_ARCH_"))
}
