package namespace

import (
	"bytes"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestInspectSelf(t *testing.T) {
	info, err := Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if serr := unix.Stat(User.Path(1), &st); serr != nil {
		// Unreadable PID 1 namespaces must be reported as unknown, not as isolated.
		for _, n := range info.NS {
			if n.SharedKnown || n.Shared {
				t.Errorf("%s: shared %v known %v with PID 1 unreadable", n.Kind, n.Shared, n.SharedKnown)
			}
		}
		if len(info.Isolated()) != 0 {
			t.Errorf("Isolated() = %v with PID 1 unreadable, want none", info.Isolated())
		}
		// Compare with ourselves instead, which exercises the same path.
		if info, err = InspectAgainst(0, os.Getpid()); err != nil {
			t.Fatal(err)
		}
		t.Logf("PID 1's namespaces are unreadable here (%v): comparing with self", serr)
	}
	if info.PID != os.Getpid() || len(info.NS) != len(Kinds) {
		t.Fatalf("Inspect(0) = pid %d, %d kinds", info.PID, len(info.NS))
	}
	for _, n := range info.NS {
		if !n.Present {
			if _, err := os.Stat(n.Kind.Path(0)); err != nil {
				continue // the kernel lacks this kind
			}
			t.Errorf("%s not present: %s", n.Kind, n.Err)
			continue
		}
		if n.Inode != inode(t, n.Kind.Path(0)) {
			t.Errorf("%s inode %d differs from stat", n.Kind, n.Inode)
		}
		// The test runs in the host's namespaces (PID 1's), or compares with itself.
		if !n.SharedKnown || !n.Shared {
			t.Errorf("%s: shared %v known %v, want shared with PID 1", n.Kind, n.Shared, n.SharedKnown)
		}
	}
	if len(info.Isolated()) != 0 {
		t.Errorf("Isolated() = %v, want none", info.Isolated())
	}
	if len(info.UIDMap) == 0 || info.Setgroups != SetgroupsAllow {
		t.Errorf("self uid_map %v setgroups %q", info.UIDMap, info.Setgroups)
	}
}

func TestInspectChild(t *testing.T) {
	requireRoot(t)
	c := startWaiting(t, syscall.CLONE_NEWUTS|syscall.CLONE_NEWNET|syscall.CLONE_NEWUSER)
	// Compared with the test process rather than PID 1, which may be out of reach.
	info, err := InspectAgainst(c.pid(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Isolated(), []Kind{User, Net, UTS}; !reflect.DeepEqual(got, want) {
		t.Fatalf("child isolated in %v, want %v", got, want)
	}
	for _, n := range info.NS {
		if n.Present && !n.SharedKnown {
			t.Errorf("%s: sharing unknown", n.Kind)
		}
	}
	if len(info.UIDMap) != 0 || len(info.GIDMap) != 0 || info.Setgroups != SetgroupsAllow {
		t.Errorf("child before maps: uid_map %v gid_map %v setgroups %q", info.UIDMap, info.GIDMap, info.Setgroups)
	}
	if err := writeMaps(c.pid(), OwnIDMap(0), OwnIDMap(0), SetgroupsDeny); err != nil {
		t.Fatal(err)
	}
	if info, err = Inspect(c.pid()); err != nil {
		t.Fatal(err)
	}
	if info.Setgroups != SetgroupsDeny || !reflect.DeepEqual(info.UIDMap, OwnIDMap(0)) {
		t.Errorf("child after maps: uid_map %v setgroups %q", info.UIDMap, info.Setgroups)
	}
	c.release(t)
}

func TestTree(t *testing.T) {
	requireRoot(t)
	c := startWaiting(t, syscall.CLONE_NEWUTS|syscall.CLONE_NEWNET|syscall.CLONE_NEWUSER)
	self, child := os.Getpid(), c.pid()
	tree, err := NewTree([]int{0, child})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tree.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	if len(tree.Skipped) != 0 {
		t.Errorf("skipped: %v", tree.Skipped)
	}

	hostUser := tree.Find(User, inode(t, User.Path(0)))
	childUser := tree.Find(User, inode(t, User.Path(child)))
	if hostUser == nil || childUser == nil || hostUser == childUser {
		t.Fatalf("user namespaces: self %v child %v", hostUser, childUser)
	}
	if len(tree.Roots) != 1 || tree.Roots[0] != hostUser {
		t.Errorf("roots %v, want only the caller's user namespace", tree.Roots)
	}
	if childUser.Parent != hostUser.Inode || !contains(hostUser.Children, childUser) {
		t.Errorf("child user namespace %v is not a child of %v", childUser, hostUser)
	}
	if childUser.OwnerUID != 0 || !reflect.DeepEqual(childUser.PIDs, []int{child}) {
		t.Errorf("child user namespace: owner uid %d pids %v", childUser.OwnerUID, childUser.PIDs)
	}
	for _, k := range []Kind{Net, UTS} {
		n := tree.Find(k, inode(t, k.Path(child)))
		if n == nil || n.Owner != childUser.Inode || !contains(childUser.Children, n) || !reflect.DeepEqual(n.PIDs, []int{child}) {
			t.Errorf("child %s namespace %v is not owned by the child's user namespace", k, n)
		}
		h := tree.Find(k, inode(t, k.Path(0)))
		if h == nil || h.Owner != hostUser.Inode || !reflect.DeepEqual(h.PIDs, []int{self}) {
			t.Errorf("own %s namespace %v", k, h)
		}
	}
	for _, k := range []Kind{Mount, IPC, PID, Cgroup} {
		n := tree.Find(k, inode(t, k.Path(0)))
		if n == nil || !contains(hostUser.Children, n) || !reflect.DeepEqual(n.PIDs, []int{self, child}) {
			t.Errorf("shared %s namespace %v", k, n)
		}
	}
	text := buf.String()
	for _, want := range []string{
		"user:[" + strconv.FormatUint(hostUser.Inode, 10) + "] owner uid 0",
		"── net:[" + strconv.FormatUint(inode(t, Net.Path(child)), 10) + "] pids " + strconv.Itoa(child),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	c.release(t)
}

func contains(nodes []*NSNode, n *NSNode) bool {
	for _, m := range nodes {
		if m == n {
			return true
		}
	}
	return false
}

func TestTreeAll(t *testing.T) {
	pids, err := ListPIDs()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := NewTree(pids)
	if err != nil {
		t.Fatal(err)
	}
	if tree.Find(User, inode(t, User.Path(0))) == nil {
		t.Fatal("tree of all processes lacks the caller's user namespace")
	}
}
