package sandbox

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// Spec describes a sandbox as plain data: it can be printed, stored as JSON, diffed
// and validated. Options and presets only edit a Spec; Build turns it into a Template.
type Spec struct {
	// Kind names the preset the Spec started from, for reports ("rootful",
	// "rootless", "privileged", "super-privileged"). It changes nothing by itself.
	Kind string `json:"kind,omitempty"`

	Namespaces namespace.Spec `json:"namespaces"`

	// Hostname and Domainname are set in a new UTS namespace.
	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`
	// Env is the target's environment unless a Command brings its own.
	Env []string `json:"env,omitempty"`
	// Workdir is the target's working directory inside the sandbox.
	Workdir string `json:"workdir,omitempty"`
	// User is who the target runs as inside the sandbox; nil means root (ID 0).
	User *User `json:"user,omitempty"`
	// Rlimits are set in the child. RLIMIT_NOFILE is always set: to the value given
	// here, or to a soft limit of 1024 (Go raises the soft limit of its own process).
	Rlimits []Rlimit `json:"rlimits,omitempty"`
	// Init runs a minimal init as PID 1 of a new pid namespace.
	Init bool `json:"init,omitempty"`
	// Spawn chooses how the child is created: "" or "auto", "fork" or "vfork".
	Spawn SpawnMode `json:"spawn,omitempty"`
	// ParentDeathSignal is sent to the sandbox when the thread that started it dies;
	// 0 means SIGKILL.
	ParentDeathSignal int `json:"parentDeathSignal,omitempty"`
}

// User is a user and its groups inside the sandbox.
type User struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
}

// Rlimit is one resource limit, named as in getrlimit(2) ("RLIMIT_NOFILE" or "nofile").
type Rlimit struct {
	Type string `json:"type"`
	Soft uint64 `json:"soft"`
	Hard uint64 `json:"hard"`
}

// SpawnMode says how the child is cloned.
type SpawnMode string

// The spawn modes.
const (
	// SpawnAuto uses vfork where it applies (a new user namespace mapping only the
	// caller's own ID, or none) and fork otherwise.
	SpawnAuto SpawnMode = "auto"
	// SpawnFork copies the parent's address space; the parent writes ID maps and
	// releases the child.
	SpawnFork SpawnMode = "fork"
	// SpawnVfork shares the address space until exec: the start cost does not grow
	// with the parent's heap. The child writes its own single-ID map.
	SpawnVfork SpawnMode = "vfork"
)

var rlimitNames = map[string]int{
	"cpu": unix.RLIMIT_CPU, "fsize": unix.RLIMIT_FSIZE, "data": unix.RLIMIT_DATA,
	"stack": unix.RLIMIT_STACK, "core": unix.RLIMIT_CORE, "rss": unix.RLIMIT_RSS,
	"nproc": unix.RLIMIT_NPROC, "nofile": unix.RLIMIT_NOFILE, "memlock": unix.RLIMIT_MEMLOCK,
	"as": unix.RLIMIT_AS, "locks": unix.RLIMIT_LOCKS, "sigpending": unix.RLIMIT_SIGPENDING,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME,
}

// rlimitResource returns the resource number of a limit name.
func rlimitResource(name string) (int, bool) {
	n := strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "RLIMIT_"))
	r, ok := rlimitNames[n]
	return r, ok
}

// Clone returns a deep copy of s.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Namespaces = s.Namespaces.Clone()
	c.Env = append([]string(nil), s.Env...)
	c.Rlimits = append([]Rlimit(nil), s.Rlimits...)
	if s.User != nil {
		u := *s.User
		u.Groups = append([]uint32(nil), s.User.Groups...)
		c.User = &u
	}
	return &c
}

// JSON returns s as indented JSON.
func (s *Spec) JSON() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// ParseSpec reads a Spec from JSON. It does not validate it; Build does.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &SpecError{Field: "json", Err: err}
	}
	return &s, nil
}

// Validate checks s without touching the kernel beyond reading files (ID ranges,
// namespace paths). It is what Build runs first.
func (s *Spec) Validate() error {
	return s.validate(callerIDs())
}

type ids struct{ uid, gid int }

func (s *Spec) validate(c ids) error {
	if err := s.Namespaces.Validate(c.uid, c.gid); err != nil {
		return &SpecError{Field: "namespaces", Err: err}
	}
	if s.Hostname != "" || s.Domainname != "" {
		if s.Namespaces.Mode(namespace.UTS) != namespace.New {
			return specErr("hostname", "a hostname needs a new uts namespace")
		}
		if len(s.Hostname) > 64 || len(s.Domainname) > 64 {
			return specErr("hostname", "longer than 64 bytes")
		}
	}
	for i, e := range s.Env {
		if !strings.Contains(e, "=") || strings.IndexByte(e, 0) >= 0 {
			return specErr(fmt.Sprintf("env[%d]", i), "%q is not KEY=VALUE", e)
		}
	}
	if s.Workdir != "" && !filepath.IsAbs(s.Workdir) {
		return specErr("workdir", "%q is not absolute", s.Workdir)
	}
	for i, r := range s.Rlimits {
		if _, ok := rlimitResource(r.Type); !ok {
			return specErr(fmt.Sprintf("rlimits[%d]", i), "unknown resource %q", r.Type)
		}
		if r.Soft > r.Hard {
			return specErr(fmt.Sprintf("rlimits[%d]", i), "soft limit %d above hard limit %d", r.Soft, r.Hard)
		}
	}
	if s.Init && s.Namespaces.Mode(namespace.PID) != namespace.New {
		return specErr("init", "an init needs a new pid namespace")
	}
	switch s.Spawn {
	case "", SpawnAuto, SpawnFork:
	case SpawnVfork:
		if s.Init {
			return specErr("spawn", "vfork mode cannot have an init: the parent would wait for it to exec")
		}
		if s.Namespaces.Mode(namespace.User) == namespace.New && !s.singleOwnMap(c) {
			return specErr("spawn", "vfork mode cannot have the parent write ID maps: it needs the single mapping of the caller's own IDs")
		}
	default:
		return specErr("spawn", "unknown mode %q", s.Spawn)
	}
	if s.ParentDeathSignal < 0 || s.ParentDeathSignal > 64 {
		return specErr("parentDeathSignal", "%d is not a signal", s.ParentDeathSignal)
	}
	return nil
}

// singleOwnMap reports whether the user namespace maps only the caller's own uid and gid
// to root, the one map a child may write for itself.
func (s *Spec) singleOwnMap(c ids) bool {
	ok := func(m []namespace.IDMap, id int) bool {
		return len(m) == 0 || (len(m) == 1 && m[0].ContainerID == 0 && int(m[0].HostID) == id && m[0].Size == 1)
	}
	return ok(s.Namespaces.UIDMap, c.uid) && ok(s.Namespaces.GIDMap, c.gid)
}

func callerIDs() ids { return ids{unix.Geteuid(), unix.Getegid()} }
