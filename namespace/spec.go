package namespace

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// Kind names one of the eight kinds of Linux namespace by its name under /proc/PID/ns.
type Kind string

// The eight kinds of namespace.
const (
	Mount  Kind = "mnt"
	PID    Kind = "pid"
	Net    Kind = "net"
	IPC    Kind = "ipc"
	UTS    Kind = "uts"
	User   Kind = "user"
	Cgroup Kind = "cgroup"
	Time   Kind = "time"
)

// Kinds lists every kind in the order in which a child joins them: the user namespace
// first, so that it holds capabilities over the namespaces that user namespace owns.
var Kinds = []Kind{User, Mount, PID, Net, IPC, UTS, Cgroup, Time}

// CloneFlag returns the CLONE_NEW* flag of k, or 0 for an unknown kind.
func (k Kind) CloneFlag() uintptr {
	switch k {
	case Mount:
		return unix.CLONE_NEWNS
	case PID:
		return unix.CLONE_NEWPID
	case Net:
		return unix.CLONE_NEWNET
	case IPC:
		return unix.CLONE_NEWIPC
	case UTS:
		return unix.CLONE_NEWUTS
	case User:
		return unix.CLONE_NEWUSER
	case Cgroup:
		return unix.CLONE_NEWCGROUP
	case Time:
		return unix.CLONE_NEWTIME
	}
	return 0
}

// Valid reports whether k is one of the eight kinds.
func (k Kind) Valid() bool { return k.CloneFlag() != 0 }

// Path returns /proc/PID/ns/KIND for pid, or for the calling process when pid is 0.
func (k Kind) Path(pid int) string {
	if pid == 0 {
		return "/proc/self/ns/" + string(k)
	}
	return "/proc/" + strconv.Itoa(pid) + "/ns/" + string(k)
}

// Mode says how a sandbox gets a namespace of one kind.
type Mode string

// The modes. The zero Mode is Host.
const (
	// Host shares the namespace of the process that starts the sandbox.
	Host Mode = "host"
	// New creates a new namespace of that kind for the sandbox.
	New Mode = "new"
	// Join enters an existing namespace, named by a path such as /proc/PID/ns/net or a
	// bind mount of one.
	Join Mode = "join"
)

// Config is how a sandbox gets a namespace of one kind.
type Config struct {
	Mode Mode `json:"mode"`
	// Path is the namespace to enter when Mode is Join.
	Path string `json:"path,omitempty"`
}

// MaxID is the largest user or group ID a Spec may name, 2^31-1, as Podman and
// bubblewrap allow. The kernel's uid_t is 32 bits, but 4294967295 is (uid_t)-1, which
// setresuid, setresgid and chown read as "leave unchanged" (a switch to it keeps
// root), and IDs from 2^31 up turn negative wherever they pass through an int, as in
// most tools and file formats. Every ID of a Spec, in a User and at either end of an
// IDMap, lies in 0..MaxID.
const MaxID = 1<<31 - 1

// IDMap maps Size consecutive IDs starting at ContainerID inside a user namespace to
// IDs starting at HostID outside, as a line of /proc/PID/uid_map does.
type IDMap struct {
	ContainerID uint32 `json:"containerID"`
	HostID      uint32 `json:"hostID"`
	Size        uint32 `json:"size"`
}

// String implements fmt.Stringer.
func (m IDMap) String() string { return fmt.Sprintf("%d %d %d", m.ContainerID, m.HostID, m.Size) }

// TimeOffsets shift the clocks a time namespace sees, in nanoseconds.
type TimeOffsets struct {
	Monotonic int64 `json:"monotonic,omitempty"`
	Boottime  int64 `json:"boottime,omitempty"`
}

// Spec is the namespace part of a sandbox: how each kind is obtained and, with a new
// user namespace, the ID maps. Kinds missing from NS are shared with the host.
type Spec struct {
	NS map[Kind]Config `json:"kinds,omitempty"`
	// UIDMap and GIDMap apply to a new user namespace. Empty means the single mapping
	// of the caller's own ID to root inside.
	UIDMap []IDMap `json:"uidMap,omitempty"`
	GIDMap []IDMap `json:"gidMap,omitempty"`
	// Auto maps a new user namespace to blocks of host IDs allocated for each
	// start from the ranges it names (see Allocate), instead of UIDMap and GIDMap,
	// which stay empty: root inside is the first ID of the block outside, never
	// host root, and sandboxes running at the same time get blocks that do not
	// overlap. It is Podman's --userns=auto for a root caller, who alone may write
	// such maps.
	Auto *AutoRange `json:"auto,omitempty"`
	// Time holds the clock offsets of a new time namespace.
	Time *TimeOffsets `json:"time,omitempty"`
}

// Mode returns how kind k is obtained (Host when unset).
func (s *Spec) Mode(k Kind) Mode {
	if c, ok := s.NS[k]; ok && c.Mode != "" {
		return c.Mode
	}
	return Host
}

// Set records how kind k is obtained.
func (s *Spec) Set(k Kind, c Config) {
	if s.NS == nil {
		s.NS = make(map[Kind]Config)
	}
	s.NS[k] = c
}

// Clone returns a deep copy of s.
func (s Spec) Clone() Spec {
	c := s
	if s.NS != nil {
		c.NS = make(map[Kind]Config, len(s.NS))
		for k, v := range s.NS {
			c.NS[k] = v
		}
	}
	c.UIDMap = append([]IDMap(nil), s.UIDMap...)
	c.GIDMap = append([]IDMap(nil), s.GIDMap...)
	if s.Auto != nil {
		a := *s.Auto
		if a.UID != nil {
			a.UID = append([]SubIDRange{}, a.UID...)
		}
		if a.GID != nil {
			a.GID = append([]SubIDRange{}, a.GID...)
		}
		c.Auto = &a
	}
	if s.Time != nil {
		t := *s.Time
		c.Time = &t
	}
	return c
}
