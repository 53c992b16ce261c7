package namespace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A waitingChild is a shell started in new namespaces that blocks on stdin until
// released, then prints its uid and gid as seen inside: the state of a sandbox child
// whose parent writes its ID maps.
type waitingChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   bytes.Buffer
	done  bool
}

func startWaiting(t *testing.T, cloneflags uintptr) *waitingChild {
	t.Helper()
	c := &waitingChild{}
	// No UidMappings/GidMappings: os/exec would write them itself.
	c.cmd = exec.Command("/bin/sh", "-c", "read x; id -u; id -g")
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags}
	c.cmd.Stdout = &c.out
	c.cmd.Stderr = &c.out
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
			t.Skipf("kernel refuses clone flags %#x: %v", cloneflags, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !c.done {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

func (c *waitingChild) pid() int { return c.cmd.Process.Pid }

// release lets the child run and returns what it printed.
func (c *waitingChild) release(t *testing.T) string {
	t.Helper()
	if _, err := c.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	c.stdin.Close()
	err := c.cmd.Wait()
	c.done = true
	if err != nil {
		t.Fatalf("child: %v: %s", err, c.out.String())
	}
	return c.out.String()
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root: the test writes ID maps over host IDs it does not own")
	}
}

func TestFormatParseIDMap(t *testing.T) {
	maps := []IDMap{{0, 1000, 1}, {1, 100000, 65536}, {4294967290, 0, 5}}
	text := FormatIDMap(maps)
	if want := "0 1000 1\n1 100000 65536\n4294967290 0 5\n"; string(text) != want {
		t.Fatalf("FormatIDMap = %q, want %q", text, want)
	}
	// The kernel pads its output with spaces.
	got, err := ParseIDMap([]byte("         0       1000          1\n         1     100000      65536\n4294967290 0 5\n"))
	if err != nil || !reflect.DeepEqual(got, maps) {
		t.Fatalf("ParseIDMap = %v, %v, want %v", got, err, maps)
	}
	for _, bad := range []string{"0 1\n", "0 0 4294967296\n", "0 -1 1\n", "0 0 1 1\n", "a b c\n"} {
		if _, err := ParseIDMap([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseIDMap(%q) = %v, want an error matching ErrInvalid", bad, err)
		}
	}
	// The initial user namespace's own map parses as it is.
	if got, err := ParseIDMap([]byte("         0          0 4294967295\n")); err != nil || len(got) != 1 || got[0] != (IDMap{0, 0, 4294967295}) {
		t.Errorf("ParseIDMap(initial map) = %v, %v", got, err)
	}
	if len(FormatIDMap(nil)) != 0 {
		t.Fatal("FormatIDMap(nil) is not empty")
	}
}

// writeMaps writes the ID maps of the waiting child pid as a parent does: setgroups
// (unless it is ""), gid_map, then uid_map, each in one write.
func writeMaps(pid int, uid, gid []IDMap, setgroups string) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	for _, w := range []struct {
		name string
		data []byte
	}{{"setgroups", []byte(setgroups)}, {"gid_map", FormatIDMap(gid)}, {"uid_map", FormatIDMap(uid)}} {
		if len(w.data) == 0 {
			continue
		}
		f, err := os.OpenFile(dir+w.name, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(w.data)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// TestIDMapsRoot: root writes range maps in FormatIDMap's text, Inspect reads them
// back, and the kernel takes a map only once.
func TestIDMapsRoot(t *testing.T) {
	requireRoot(t)
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	uid := []IDMap{{0, 100000, 1000}, {1000, 0, 1}}
	gid := []IDMap{{0, 100000, 1000}, {2000, 0, 1}}
	if err := writeMaps(c.pid(), uid, gid, SetgroupsAllow); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(c.pid())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.UIDMap, uid) || !reflect.DeepEqual(info.GIDMap, gid) || info.Setgroups != SetgroupsAllow {
		t.Fatalf("child reads uid_map %v gid_map %v setgroups %q", info.UIDMap, info.GIDMap, info.Setgroups)
	}
	// A map is written once.
	if err := writeMaps(c.pid(), uid, gid, ""); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("second write of the maps = %v, want EPERM", err)
	}
	// The child is host root: inside it is the container IDs that map host 0.
	if out := c.release(t); out != "1000\n2000\n" {
		t.Fatalf("child printed %q, want uid 1000 and gid 2000", out)
	}
}

// TestIDMapsOwn: any caller may map its own IDs to 0, with setgroups denied.
func TestIDMapsOwn(t *testing.T) {
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := writeMaps(c.pid(), OwnIDMap(os.Geteuid()), OwnIDMap(os.Getegid()), SetgroupsDeny); err != nil {
		t.Fatal(err)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}
}

func TestRunNewIDMapOwn(t *testing.T) {
	requireHelpers(t)
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := RunNewIDMap(c.pid(), nil, nil); err != nil {
		t.Fatal(err)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}
}

func TestRunNewIDMapRange(t *testing.T) {
	requireHelpers(t)
	name := userName(os.Getuid())
	uranges, err := SubIDRanges(SubUIDFile, name, os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	granges, err := SubIDRanges(SubGIDFile, name, os.Getuid())
	if err != nil {
		t.Fatal(err)
	}
	if len(uranges) == 0 || len(granges) == 0 {
		t.Skipf("%s and %s grant no range to %s (uid %d): configure one to test newuidmap with a range", SubUIDFile, SubGIDFile, name, os.Getuid())
	}
	uid, gid, err := DefaultRangeMaps(os.Getuid(), os.Getgid())
	if err != nil {
		t.Fatal(err)
	}
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	if err := RunNewIDMap(c.pid(), uid, gid); err != nil {
		t.Fatal(err)
	}
	if out := c.release(t); out != "0\n0\n" {
		t.Fatalf("child printed %q, want 0 and 0", out)
	}
}

func TestRunNewIDMapRefused(t *testing.T) {
	requireHelpers(t)
	c := startWaiting(t, syscall.CLONE_NEWUSER)
	// 4000000000 is beyond what any subuid file here grants.
	gid := []IDMap{{0, uint32(os.Getgid()), 1}, {1, 4000000000, 10}}
	err := RunNewIDMap(c.pid(), nil, gid)
	if !helperSaid(err, "newgidmap") {
		t.Fatalf("RunNewIDMap(ungranted range) = %v, want an error naming newgidmap with what it printed", err)
	}
	t.Log(err)
}

func requireHelpers(t *testing.T) {
	t.Helper()
	for _, h := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(h); err != nil {
			t.Skipf("%s not installed (Debian package uidmap): %v", h, err)
		}
	}
}

// TestMapToHost: an ID inside maps through the entry that holds it, at the edges
// too; an ID no entry holds is unmapped, and a size that reaches past 2^32 does
// not wrap around.
func TestMapToHost(t *testing.T) {
	m := []IDMap{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 1000, Size: 1}, {ContainerID: 4294967290, HostID: 10, Size: 10}}
	for _, c := range []struct {
		id, want uint32
		ok       bool
	}{{0, 100000, true}, {999, 100999, true}, {1000, 1000, true}, {1001, 0, false}, {4294967295, 15, true}, {4294967289, 0, false}} {
		if got, ok := MapToHost(m, c.id); got != c.want || ok != c.ok {
			t.Errorf("MapToHost(%d) = %d, %v; want %d, %v", c.id, got, ok, c.want, c.ok)
		}
	}
}

// helperSaid reports whether err is a failure of helper that quotes what it printed:
// "HELPER ARGS: exit status N: STDERR".
func helperSaid(err error, helper string) bool {
	if err == nil || !strings.HasPrefix(err.Error(), helper+" ") {
		return false
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	_, said, ok := strings.Cut(err.Error(), ee.Error()+": ")
	return ok && said != ""
}
