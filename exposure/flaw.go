package exposure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/namespace"
)

// A Flaw describes what an attacker inside a sandbox needs to reach one kernel or
// runtime flaw. Every condition must hold for the flaw to be reachable; the
// evaluator checks each one against the Mechanisms of a sandbox.
type Flaw struct {
	// ID is the CVE number or, for a technique without one, a short name.
	ID string `json:"id"`
	// Name is the common name ("Dirty Pipe").
	Name string `json:"name,omitempty"`
	// Kind is "kernel" (a kernel bug), "runtime" (a bug of a container runtime
	// such as runc; the verdict assumes a runtime with the bug) or "technique" (an
	// escape that needs no bug, only a configuration).
	Kind string `json:"kind"`
	// Summary says in one sentence what the flaw is.
	Summary string `json:"summary,omitempty"`
	// Capabilities are the capabilities the vulnerable code checks.
	Capabilities []CapNeed `json:"capabilities,omitempty"`
	// Syscalls are the system calls the attack must make, in order.
	Syscalls []SyscallNeed `json:"syscalls,omitempty"`
	// Namespaces are namespaces the attacker must create (beyond those created
	// only to obtain capabilities, which CapNeed.Over expresses).
	Namespaces []namespace.Kind `json:"namespaces,omitempty"`
	// MapIDs, when above 1, is how many IDs the attack maps into a user
	// namespace it creates. Unprivileged, a process can map only its own ID;
	// a larger map needs CAP_SETUID (CAP_SETGID for groups) in the parent user
	// namespace, which must map those IDs itself, or the setuid helpers
	// newuidmap and newgidmap, which no_new_privs voids (user_namespaces(7)).
	MapIDs int `json:"mapIDs,omitempty"`
	// Paths are files the attack reads or writes, as the sandbox sees them.
	Paths []PathNeed `json:"paths,omitempty"`
	// Devices are device nodes the attack opens.
	Devices []DeviceNeed `json:"devices,omitempty"`
	// Host says which host namespaces or mounts the attack needs to share.
	Host HostNeed `json:"host,omitempty"`
	// GainOnExec is set when the attack ends by executing a setuid or
	// file-capability program to gain privilege, which no_new_privs prevents.
	GainOnExec bool `json:"gainOnExec,omitempty"`
	// SELinux says whether a confined SELinux domain (container_t) stops the attack.
	SELinux SELinuxNeed `json:"selinux,omitempty"`
	// Versions is the affected range of the kernel (for kind kernel).
	Versions VersionRange `json:"versions,omitempty"`
	// Affects names the affected versions of a runtime, in words (for kind runtime).
	Affects string `json:"affects,omitempty"`
	// KernelConfig is the kernel code the flaw is in, or needs on the way, that a
	// kernel may be built without: every option must be built in or loadable.
	KernelConfig []KernelNeed `json:"kernelConfig,omitempty"`
	// Triggers are what must happen outside the sandbox for a runtime flaw to
	// fire: an action of the operator or the engine, or something the attacker
	// supplies. All of them are needed; no layer of the sandbox stands in their way.
	Triggers []Trigger `json:"triggers,omitempty"`
	// Notes are free text: exploitation, configuration needed, caveats.
	Notes string `json:"notes,omitempty"`
	// Sources are public references (advisories, write-ups, fix commits).
	Sources []string `json:"sources"`
}

// Scope says in which user namespace a capability must be held.
type Scope string

const (
	// ScopeInitial requires the capability in the initial user namespace
	// (capable() in the kernel): a capability held in any other user namespace
	// does not count.
	ScopeInitial Scope = "initial"
	// ScopeAny accepts the capability in the user namespace that owns the object
	// (ns_capable() against the owner of the namespace named by CapNeed.Over):
	// reachable by creating a new user namespace, in which the creator holds every
	// capability, together with a namespace of that kind.
	ScopeAny Scope = "any"
)

// A CapNeed is a capability the vulnerable code checks.
type CapNeed struct {
	// Cap is the capability name, "CAP_NET_ADMIN" form.
	Cap string `json:"cap"`
	// Scope is ScopeInitial or ScopeAny.
	Scope Scope `json:"scope"`
	// Over is, for ScopeAny, the kind of namespace whose owning user namespace the
	// kernel checks (net for netfilter, mnt for mounts, ...).
	Over namespace.Kind `json:"over,omitempty"`
	// Why says what the capability is checked for.
	Why string `json:"why,omitempty"`
}

// A SyscallNeed is one system call the attack must make: either Name (with Args)
// or one of AnyOf.
type SyscallNeed struct {
	Call
	// AnyOf lists alternatives: any one of them will do.
	AnyOf []Call `json:"anyOf,omitempty"`
	// Why says what the call is for.
	Why string `json:"why,omitempty"`
}

// Calls returns the alternatives of n: AnyOf, or the single Call.
func (n SyscallNeed) Calls() []Call {
	if len(n.AnyOf) > 0 {
		return n.AnyOf
	}
	return []Call{n.Call}
}

// A Call is a system call with the arguments the attack passes.
type Call struct {
	// Name is the system call (see Syscalls for the known names).
	Name string `json:"name,omitempty"`
	// Args are the arguments that matter; the others are zero.
	Args []ArgValue `json:"args,omitempty"`
	// ABI restricts the call to one ABI: "i386" for a bug in the 32-bit compat
	// path, "x86_64" for one only the native ABI reaches. Empty means any.
	ABI string `json:"abi,omitempty"`
}

// String formats c as name(arg=value, ...).
func (c Call) String() string {
	var b strings.Builder
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "arg%d=%s", a.Index, a.Value)
	}
	b.WriteByte(')')
	if c.ABI != "" {
		b.WriteString(" [" + c.ABI + "]")
	}
	return b.String()
}

// An ArgValue is the value the attack passes as argument Index.
type ArgValue struct {
	Index int   `json:"index"`
	Value Value `json:"value"`
}

// A Value is an argument value. In JSON it is a number or a string of numbers and
// constant names joined with "|", such as "CLONE_NEWUSER|CLONE_NEWNET".
type Value struct {
	N    uint64
	Text string
	err  error // a text that names no constant; reported by Validate with its field
}

// String returns the value as written, or in hex.
func (v Value) String() string {
	if v.Text != "" {
		return v.Text
	}
	return "0x" + strconv.FormatUint(v.N, 16)
}

// MarshalJSON writes the text form when there is one.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Text != "" {
		return json.Marshal(v.Text)
	}
	return json.Marshal(v.N)
}

// UnmarshalJSON reads a number or a string of constants.
func (v *Value) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		n, err := parseValue(s)
		*v = Value{N: n, Text: s, err: err}
		return nil
	}
	var n uint64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*v = Value{N: n}
	return nil
}

// Access is the kind of access to a path or device.
type Access string

// The accesses.
const (
	Read  Access = "read"
	Write Access = "write"
)

// A PathNeed is a file the attack reads or writes.
type PathNeed struct {
	// Path is as the sandbox sees it ("/proc/self/mem", "/proc/sys/kernel/core_pattern").
	Path string `json:"path"`
	// Access is read or write.
	Access Access `json:"access"`
	// HostOwned is set when the file belongs to the initial user namespace (a host
	// binary, a global sysctl): root of another user namespace has no rights on it.
	HostOwned bool `json:"hostOwned,omitempty"`
	// Why says what the file is for.
	Why string `json:"why,omitempty"`
}

// A DeviceNeed is a device node the attack opens.
type DeviceNeed struct {
	// Path is the node's usual path ("/dev/fuse").
	Path string `json:"path"`
	// Type is "c" or "b"; Major and Minor are its numbers.
	Type  string `json:"type"`
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
	// Access is read or write (write implies read here: open O_RDWR).
	Access Access `json:"access"`
	// WorldAccessible is set when the node is usually mode 0666 on hosts, so that
	// root of another user namespace may open it.
	WorldAccessible bool `json:"worldAccessible,omitempty"`
}

// HostNeed says which parts of the host the attack must share.
type HostNeed struct {
	PID bool `json:"pid,omitempty"`
	Net bool `json:"net,omitempty"`
	IPC bool `json:"ipc,omitempty"`
	// Root is set when the attack needs the host's root filesystem mounted in the
	// sandbox (a host mount).
	Root bool `json:"root,omitempty"`
}

// SELinuxNeed says whether a confined SELinux domain stops the attack.
type SELinuxNeed struct {
	// Blocks is true when the container_t policy denies a step of the attack.
	Blocks bool `json:"blocks,omitempty"`
	// Why names the denied access and the source saying so.
	Why string `json:"why,omitempty"`
}

// A VersionRange is the range of affected kernels: from Introduced (empty: all
// earlier kernels) up to the first fixed release. Fixed lists the mainline release
// with the fix first, then stable releases that got it backported; a kernel is
// fixed when it is at least the mainline release, or of the same major.minor
// series as a backport and at least that backport.
type VersionRange struct {
	Introduced string   `json:"introduced,omitempty"`
	Fixed      []string `json:"fixed,omitempty"`
}

// ErrInvalidFlaw is matched by every error for a malformed flaw or flaw file.
var ErrInvalidFlaw = errors.New("invalid flaw")

// A FlawError reports a malformed flaw: Index is its position in the file (-1
// when not from a file), ID its id when known, Field the JSON path of the field
// at fault ("syscalls[1].args[0].value").
type FlawError struct {
	Index int
	ID    string
	Field string
	Err   error
}

// Error implements the error interface.
func (e *FlawError) Error() string {
	var who string
	switch {
	case e.ID != "" && e.Index >= 0:
		who = fmt.Sprintf("flaw %d (%s)", e.Index, e.ID)
	case e.ID != "":
		who = "flaw " + e.ID
	case e.Index >= 0:
		who = fmt.Sprintf("flaw %d", e.Index)
	default:
		who = "flaw file"
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %s: %v", who, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", who, e.Err)
}

// Unwrap returns the reason.
func (e *FlawError) Unwrap() error { return e.Err }

// Is matches ErrInvalidFlaw.
func (e *FlawError) Is(target error) bool { return target == ErrInvalidFlaw }

func fieldErr(field string, format string, a ...any) *FlawError {
	return &FlawError{Index: -1, Field: field, Err: fmt.Errorf(format, a...)}
}

// Validate checks f: known kind, capabilities, scopes, syscalls, ABIs, namespace
// kinds, accesses and versions, and at least one source. The error is a
// *FlawError naming the field.
func (f *Flaw) Validate() error {
	if err := f.validate(); err != nil {
		err.ID = f.ID
		return err
	}
	return nil
}

func (f *Flaw) validate() *FlawError {
	if f.ID == "" {
		return fieldErr("id", "empty")
	}
	switch f.Kind {
	case "kernel", "runtime", "technique":
	default:
		return fieldErr("kind", "%q is not kernel, runtime or technique", f.Kind)
	}
	for i, c := range f.Capabilities {
		p := fmt.Sprintf("capabilities[%d]", i)
		if _, err := caps.Parse(c.Cap); err != nil {
			return fieldErr(p+".cap", "%v", err)
		}
		switch c.Scope {
		case ScopeInitial:
			if c.Over != "" {
				return fieldErr(p+".over", "only for scope any")
			}
		case ScopeAny:
			if !c.Over.Valid() || c.Over == namespace.User {
				return fieldErr(p+".over", "%q is not a namespace kind other than user", c.Over)
			}
		default:
			return fieldErr(p+".scope", "%q is not initial or any", c.Scope)
		}
	}
	for i, s := range f.Syscalls {
		p := fmt.Sprintf("syscalls[%d]", i)
		if (s.Name != "") == (len(s.AnyOf) > 0) {
			return fieldErr(p, "give either name or anyOf")
		}
		if s.Name != "" {
			if err := validateCall(p, s.Call); err != nil {
				return err
			}
		}
		for j, c := range s.AnyOf {
			if err := validateCall(fmt.Sprintf("%s.anyOf[%d]", p, j), c); err != nil {
				return err
			}
		}
	}
	for i, k := range f.Namespaces {
		if !k.Valid() {
			return fieldErr(fmt.Sprintf("namespaces[%d]", i), "%q is not a namespace kind", k)
		}
	}
	for i, pn := range f.Paths {
		p := fmt.Sprintf("paths[%d]", i)
		if !strings.HasPrefix(pn.Path, "/") {
			return fieldErr(p+".path", "%q is not absolute", pn.Path)
		}
		if pn.Access != Read && pn.Access != Write {
			return fieldErr(p+".access", "%q is not read or write", pn.Access)
		}
	}
	for i, d := range f.Devices {
		p := fmt.Sprintf("devices[%d]", i)
		if !strings.HasPrefix(d.Path, "/dev/") {
			return fieldErr(p+".path", "%q is not under /dev", d.Path)
		}
		if d.Type != "c" && d.Type != "b" {
			return fieldErr(p+".type", "%q is not c or b", d.Type)
		}
		if d.Major < 0 || d.Minor < 0 {
			return fieldErr(p+".major", "negative device number")
		}
		if d.Access != Read && d.Access != Write {
			return fieldErr(p+".access", "%q is not read or write", d.Access)
		}
	}
	if f.Versions.Introduced != "" {
		if _, err := ParseVersion(f.Versions.Introduced); err != nil {
			return fieldErr("versions.introduced", "%v", err)
		}
	}
	for i, v := range f.Versions.Fixed {
		if _, err := ParseVersion(v); err != nil {
			return fieldErr(fmt.Sprintf("versions.fixed[%d]", i), "%v", err)
		}
	}
	if err := f.validateConditions(); err != nil {
		return err
	}
	if len(f.Sources) == 0 {
		return fieldErr("sources", "at least one public source is required")
	}
	for i, s := range f.Sources {
		if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "man:") {
			return fieldErr(fmt.Sprintf("sources[%d]", i), "%q is not a URL or man: reference", s)
		}
	}
	return nil
}

func validateCall(p string, c Call) *FlawError {
	if _, ok := syscalls[c.Name]; !ok {
		return fieldErr(p+".name", "unknown system call %q", c.Name)
	}
	switch c.ABI {
	case "", "x86_64", "i386":
	default:
		return fieldErr(p+".abi", "%q is not x86_64 or i386", c.ABI)
	}
	for i, a := range c.Args {
		if a.Index < 0 || a.Index > 5 {
			return fieldErr(fmt.Sprintf("%s.args[%d].index", p, i), "%d is not 0-5", a.Index)
		}
		if a.Value.err != nil {
			return fieldErr(fmt.Sprintf("%s.args[%d].value", p, i), "%v", a.Value.err)
		}
	}
	return nil
}

// flawFile is the JSON form of a flaw file.
type flawFile struct {
	Flaws []json.RawMessage `json:"flaws"`
}

// ParseJSON reads a flaw file: {"flaws": [ {...}, ... ]}. Unknown fields are
// errors. Every entry is validated; the first bad one yields a *FlawError with
// its index, its id when readable, and the field.
func ParseJSON(data []byte) ([]Flaw, error) {
	var file flawFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, &FlawError{Index: -1, Field: jsonField(err), Err: err}
	}
	if file.Flaws == nil {
		return nil, &FlawError{Index: -1, Field: "flaws", Err: errors.New("missing")}
	}
	out := make([]Flaw, 0, len(file.Flaws))
	seen := map[string]int{}
	for i, raw := range file.Flaws {
		var f Flaw
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&f); err != nil {
			var probe struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(raw, &probe)
			return nil, &FlawError{Index: i, ID: probe.ID, Field: jsonField(err), Err: err}
		}
		if err := f.validate(); err != nil {
			err.Index, err.ID = i, f.ID
			return nil, err
		}
		if j, dup := seen[f.ID]; dup {
			return nil, &FlawError{Index: i, ID: f.ID, Field: "id", Err: fmt.Errorf("duplicate of entry %d", j)}
		}
		seen[f.ID] = i
		out = append(out, f)
	}
	return out, nil
}

// jsonField extracts the field that a decoding error is about.
func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		return strings.Trim(msg[i+len("unknown field "):], `"`)
	}
	return ""
}
