package mounts

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// A Node is a device node or a FIFO that the sandbox's root filesystem gets,
// made with mknod(2) by the child after the Spec's own mounts (so a node on
// /dev lies in a tmpfs mounted there) and before it pivots into the root. The
// child makes it as the sandbox's root, before it takes the target's identity,
// so the node belongs to uid and gid 0 of the sandbox. The kernel refuses a
// character or block device in a user namespace: there, bind the host's node
// instead (a Mount with MS_BIND).
type Node struct {
	Path string `json:"path"`
	// Type is unix.S_IFCHR, unix.S_IFBLK or unix.S_IFIFO.
	Type         uint32 `json:"type"`
	Major, Minor uint32
	// Mode holds the permission bits, set past the umask.
	Mode uint32 `json:"mode"`
}

// validate checks a Node's path, type and permissions.
func (n Node) validate(inUserNS bool) error {
	if err := checkTarget(n.Path); err != nil {
		return fmt.Errorf("%w: node %s: %v", ErrInvalid, n.Path, err)
	}
	switch n.Type {
	case unix.S_IFCHR, unix.S_IFBLK:
		if inUserNS {
			return fmt.Errorf("%w: node %s: the kernel makes no device node in a user namespace (bind the host's)", ErrInvalid, n.Path)
		}
	case unix.S_IFIFO:
	default:
		return fmt.Errorf("%w: node %s: type %#o is not a character or block device or a FIFO", ErrInvalid, n.Path, n.Type)
	}
	if n.Mode&^0o7777 != 0 {
		return fmt.Errorf("%w: node %s: mode %#o has more than permission bits", ErrInvalid, n.Path, n.Mode)
	}
	return nil
}

// nodes makes the Spec's nodes, in their order.
func (c *planner) nodes(s Spec, env Env) error {
	for _, n := range s.Nodes {
		if err := n.validate(env.InUserNS); err != nil {
			return err
		}
		st := inRoot(ActMknod, n.Path, CreateParent, fmt.Sprintf("mknod %s %s %d %d (mode %#o)", n.Path, nodeLetter(n.Type), n.Major, n.Minor, n.Mode))
		st.Major, st.Minor, st.Mode = n.Major, n.Minor, n.Type|n.Mode
		c.add(st)
	}
	return nil
}

// nodeLetter is mknod(1)'s letter for a node type.
func nodeLetter(t uint32) string {
	switch t {
	case unix.S_IFBLK:
		return "b"
	case unix.S_IFIFO:
		return "p"
	}
	return "c"
}
