package namespace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// An NSInfo describes the namespace of one kind that a process is in.
type NSInfo struct {
	Kind Kind `json:"kind"`
	// Present is false when /proc/PID/ns/KIND could not be read (the kernel lacks the
	// kind, or the caller may not inspect the process); Err then says why.
	Present bool   `json:"present"`
	Err     string `json:"error,omitempty"`
	// Inode and Dev identify the namespace (they are those of its nsfs file).
	Inode uint64 `json:"inode,omitempty"`
	Dev   uint64 `json:"dev,omitempty"`
	// ForChildren is the inode of pid_for_children or time_for_children (the
	// namespace the process's future children get), when it differs from Inode. A
	// process that unshared a pid or time namespace shows it here only.
	ForChildren uint64 `json:"forChildren,omitempty"`
	// Shared reports that PID 1 (or the reference process of InspectAgainst) is in
	// the same namespace: the process shares it with the host when PID 1 runs in the
	// host's namespaces. It is meaningful only when SharedKnown is true, which it is
	// not when the caller may not read PID 1's namespace files (ptrace access).
	Shared      bool `json:"shared"`
	SharedKnown bool `json:"sharedKnown"`
}

// Info is what Inspect reports about a process's namespaces.
type Info struct {
	PID int `json:"pid"`
	// NS holds one entry per kind, in the order of Kinds.
	NS []NSInfo `json:"namespaces"`
	// UIDMap and GIDMap are the maps of the process's user namespace, as seen from the
	// caller's user namespace.
	UIDMap []IDMap `json:"uidMap"`
	GIDMap []IDMap `json:"gidMap"`
	// Setgroups is "allow" or "deny".
	Setgroups string `json:"setgroups"`
}

// Get returns the entry of kind k.
func (i *Info) Get(k Kind) NSInfo {
	for _, n := range i.NS {
		if n.Kind == k {
			return n
		}
	}
	return NSInfo{Kind: k}
}

// Isolated returns the kinds in which the process is known not to share PID 1's (or
// the reference process's) namespace.
func (i *Info) Isolated() []Kind {
	var out []Kind
	for _, n := range i.NS {
		if n.Present && n.SharedKnown && !n.Shared {
			out = append(out, n.Kind)
		}
	}
	return out
}

// Inspect reports the namespaces of process pid (0 for the caller), compared with
// PID 1's, and the ID maps and setgroups of its user namespace. Reading another
// process's namespaces needs ptrace read access to it; a kind that cannot be read is
// reported with Present false, and one whose PID 1 counterpart cannot be read with
// SharedKnown false, rather than as errors. Inspect fails only when the process does
// not exist or its maps cannot be read.
func Inspect(pid int) (*Info, error) { return InspectAgainst(pid, 1) }

// InspectAgainst is Inspect comparing with process ref (0 for the caller) instead of
// PID 1: Shared then reports that pid shares ref's namespace. A sandbox's parent can
// use it to report what a child shares with itself when PID 1 is out of reach.
func InspectAgainst(pid, ref int) (*Info, error) {
	dir := "/proc/self/"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid) + "/"
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	info := &Info{PID: pid, NS: make([]NSInfo, 0, len(Kinds))}
	if pid == 0 {
		info.PID = os.Getpid()
	}
	for _, k := range Kinds {
		n := NSInfo{Kind: k}
		var st unix.Stat_t
		if err := unix.Stat(dir+"ns/"+string(k), &st); err != nil {
			n.Err = err.Error()
		} else {
			n.Present, n.Inode, n.Dev = true, st.Ino, st.Dev
			var host unix.Stat_t
			if err := unix.Stat(k.Path(ref), &host); err == nil {
				n.SharedKnown = true
				n.Shared = host.Ino == st.Ino && host.Dev == st.Dev
			}
			if k == PID || k == Time {
				var fc unix.Stat_t
				if err := unix.Stat(dir+"ns/"+string(k)+"_for_children", &fc); err == nil && fc.Ino != st.Ino {
					n.ForChildren = fc.Ino
				}
			}
		}
		info.NS = append(info.NS, n)
	}
	var err error
	if info.UIDMap, err = readIDMap(dir + "uid_map"); err != nil {
		return nil, err
	}
	if info.GIDMap, err = readIDMap(dir + "gid_map"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(dir + "setgroups")
	if err != nil {
		return nil, err
	}
	info.Setgroups = strings.TrimSpace(string(b))
	return info, nil
}

func readIDMap(path string) ([]IDMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseIDMap(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// nsID identifies a namespace: the device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func fdID(fd int) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nsID{}, err
	}
	return nsID{st.Dev, st.Ino}, nil
}

// An NSNode is one namespace in a Tree.
type NSNode struct {
	Kind  Kind   `json:"kind"`
	Inode uint64 `json:"inode"`
	Dev   uint64 `json:"dev"`
	// OwnerUID is the effective UID of the process that created a user namespace
	// (NS_GET_OWNER_UID), as seen from the caller; -1 for other kinds.
	OwnerUID int `json:"ownerUID"`
	// Parent is the inode of the parent of a user or pid namespace (NS_GET_PARENT),
	// 0 when it has none or it lies outside the caller's view.
	Parent uint64 `json:"parent,omitempty"`
	// Owner is the inode of the user namespace that owns a non-user namespace
	// (NS_GET_USERNS), 0 when unknown.
	Owner uint64 `json:"owner,omitempty"`
	// PIDs are the inspected processes in this namespace.
	PIDs []int `json:"pids,omitempty"`
	// Children are, for a user namespace, the user namespaces created in it and then
	// the other namespaces it owns.
	Children []*NSNode `json:"children,omitempty"`
}

// A Tree shows namespaces the way the kernel relates them: user namespaces nest
// (each has a parent), and every other namespace is owned by the user namespace that
// was current when it was created; capabilities over it come from that owner.
type Tree struct {
	// Roots are the topmost user namespaces visible to the caller (normally just the
	// initial one), followed by namespaces whose owner could not be determined.
	Roots []*NSNode `json:"roots"`
	// Skipped lists, as messages, the /proc/PID/ns files that could not be read.
	Skipped []string `json:"skipped,omitempty"`
}

// ListPIDs returns the pids of all processes visible in /proc.
func ListPIDs() ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// treeBuilder accumulates nodes while NewTree walks processes.
type treeBuilder struct {
	nodes map[nsID]*NSNode
	order []nsID
}

// NewTree builds the namespace tree of the given processes (0 means the caller):
// every namespace they are in, the user namespaces that own those, and those user
// namespaces' ancestors, found with the NS_GET_USERNS and NS_GET_PARENT ioctls on
// opened namespace files. Processes that vanish or that the caller may not inspect
// are listed in Skipped.
func NewTree(pids []int) (*Tree, error) {
	b := &treeBuilder{nodes: make(map[nsID]*NSNode)}
	t := &Tree{}
	for _, pid := range pids {
		if pid == 0 {
			pid = os.Getpid()
		}
		for _, k := range Kinds {
			path := k.Path(pid)
			fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				if !errors.Is(err, unix.ENOENT) || k != Time {
					t.Skipped = append(t.Skipped, fmt.Sprintf("%s: %v", path, err))
				}
				continue
			}
			n, err := b.add(fd, k)
			unix.Close(fd)
			if err != nil {
				t.Skipped = append(t.Skipped, fmt.Sprintf("%s: %v", path, err))
				continue
			}
			if len(n.PIDs) == 0 || n.PIDs[len(n.PIDs)-1] != pid {
				n.PIDs = append(n.PIDs, pid)
			}
		}
	}
	// Link: user namespaces under their parents, others under their owners.
	byIno := make(map[uint64]*NSNode, len(b.nodes))
	for _, id := range b.order {
		if n := b.nodes[id]; n.Kind == User {
			byIno[n.Inode] = n
		}
	}
	var users, others []*NSNode
	for _, id := range b.order {
		n := b.nodes[id]
		if n.Kind == User {
			users = append(users, n)
		} else {
			others = append(others, n)
		}
	}
	var orphans []*NSNode
	for _, n := range users {
		if p := byIno[n.Parent]; n.Parent != 0 && p != nil {
			p.Children = append(p.Children, n)
		} else {
			t.Roots = append(t.Roots, n)
		}
	}
	for _, n := range others {
		if o := byIno[n.Owner]; n.Owner != 0 && o != nil {
			o.Children = append(o.Children, n)
		} else {
			orphans = append(orphans, n)
		}
	}
	t.Roots = append(t.Roots, orphans...)
	return t, nil
}

// add records the namespace open at fd (of kind k) and, for user namespaces, its
// ancestors; for other kinds, its owner. It returns the node of fd.
func (b *treeBuilder) add(fd int, k Kind) (*NSNode, error) {
	id, err := fdID(fd)
	if err != nil {
		return nil, err
	}
	if n, ok := b.nodes[id]; ok {
		return n, nil
	}
	n := &NSNode{Kind: k, Inode: id.ino, Dev: id.dev, OwnerUID: -1}
	b.nodes[id] = n
	b.order = append(b.order, id)
	switch k {
	case User:
		if uid, err := unix.IoctlGetUint32(fd, unix.NS_GET_OWNER_UID); err == nil {
			n.OwnerUID = int(uid)
		}
		n.Parent = b.related(fd, unix.NS_GET_PARENT, User)
	default:
		n.Owner = b.related(fd, unix.NS_GET_USERNS, User)
		if k == PID {
			n.Parent = b.related(fd, unix.NS_GET_PARENT, PID)
		}
	}
	return n, nil
}

// related opens the namespace that ioctl req returns for fd (a parent or owner),
// records it, and returns its inode; 0 when the kernel refuses (EPERM: outside the
// caller's view; EINVAL or ENOTTY: none).
func (b *treeBuilder) related(fd int, req uint, k Kind) uint64 {
	rfd, err := unix.IoctlRetInt(fd, req)
	if err != nil {
		return 0
	}
	defer unix.Close(rfd)
	n, err := b.add(rfd, k)
	if err != nil {
		return 0
	}
	return n.Inode
}

// Nodes returns every node of t, depth first.
func (t *Tree) Nodes() []*NSNode {
	var out []*NSNode
	var walk func(n *NSNode)
	walk = func(n *NSNode) {
		out = append(out, n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range t.Roots {
		walk(r)
	}
	return out
}

// Find returns the node of kind k with the given inode, or nil.
func (t *Tree) Find(k Kind, inode uint64) *NSNode {
	for _, n := range t.Nodes() {
		if n.Kind == k && n.Inode == inode {
			return n
		}
	}
	return nil
}

// maxListedPIDs bounds the pids WriteText prints per namespace.
const maxListedPIDs = 8

// WriteText renders t as an indented tree, one namespace per line:
//
//	user:[4026531837] owner uid 0, pids 1 2 3
//	├── mnt:[4026531841] pids 1 2 3
//	└── user:[4026532301] owner uid 0, pids 42
//	    └── net:[4026532304] pids 42
func (t *Tree) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, r := range t.Roots {
		writeNode(bw, r, "", "")
	}
	for _, s := range t.Skipped {
		fmt.Fprintf(bw, "skipped: %s\n", s)
	}
	return bw.Flush()
}

func writeNode(w *bufio.Writer, n *NSNode, prefix, childPrefix string) {
	w.WriteString(prefix)
	w.WriteString(n.String())
	w.WriteByte('\n')
	for i, c := range n.Children {
		if i == len(n.Children)-1 {
			writeNode(w, c, childPrefix+"└── ", childPrefix+"    ")
		} else {
			writeNode(w, c, childPrefix+"├── ", childPrefix+"│   ")
		}
	}
}

// String describes n on one line: kind, inode, owner UID of a user namespace, and
// the pids in it.
func (n *NSNode) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:[%d]", n.Kind, n.Inode)
	var parts []string
	if n.Kind == User && n.OwnerUID >= 0 {
		parts = append(parts, "owner uid "+strconv.Itoa(n.OwnerUID))
	}
	if n.Kind == PID && n.Parent != 0 {
		parts = append(parts, "parent pid:["+strconv.FormatUint(n.Parent, 10)+"]")
	}
	if len(n.PIDs) > 0 {
		var p strings.Builder
		p.WriteString("pids")
		for i, pid := range n.PIDs {
			if i == maxListedPIDs {
				fmt.Fprintf(&p, " (+%d more)", len(n.PIDs)-i)
				break
			}
			p.WriteByte(' ')
			p.WriteString(strconv.Itoa(pid))
		}
		parts = append(parts, p.String())
	}
	if len(parts) > 0 {
		b.WriteByte(' ')
		b.WriteString(strings.Join(parts, ", "))
	}
	return b.String()
}
