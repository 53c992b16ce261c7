package namespace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func spec(ns map[Kind]Config, uid, gid []IDMap) *Spec {
	return &Spec{NS: ns, UIDMap: uid, GIDMap: gid}
}

func TestValidate(t *testing.T) {
	newUser := map[Kind]Config{User: {Mode: New}}
	cases := []struct {
		name     string
		spec     *Spec
		uid, gid int
		// want is nil for success, else the sentinel the error must match.
		want error
		// in is text the error must contain, if set: "namespace KIND" or "map".
		in string
	}{
		{name: "empty", spec: &Spec{}},
		{name: "all new", spec: spec(map[Kind]Config{User: {Mode: New}, Mount: {Mode: New}, PID: {Mode: New}, Net: {Mode: New}, IPC: {Mode: New}, UTS: {Mode: New}, Cgroup: {Mode: New}}, nil, nil)},
		{name: "unknown kind", spec: spec(map[Kind]Config{"bogus": {Mode: New}}, nil, nil), want: ErrInvalid, in: "namespace "},
		{name: "unknown mode", spec: spec(map[Kind]Config{Net: {Mode: "borrow"}}, nil, nil), want: ErrInvalid, in: "namespace "},
		{name: "path with new", spec: spec(map[Kind]Config{Net: {Mode: New, Path: "/proc/self/ns/net"}}, nil, nil), want: ErrInvalid},
		{name: "join without path", spec: spec(map[Kind]Config{Net: {Mode: Join}}, nil, nil), want: ErrInvalid, in: "namespace "},
		{name: "join missing path", spec: spec(map[Kind]Config{Net: {Mode: Join, Path: "/nonexistent/ns/net"}}, nil, nil), want: ErrInvalid},
		{name: "join not a namespace", spec: spec(map[Kind]Config{Net: {Mode: Join, Path: "/etc/passwd"}}, nil, nil), want: ErrInvalid},
		{name: "join wrong kind", spec: spec(map[Kind]Config{Net: {Mode: Join, Path: "/proc/self/ns/uts"}}, nil, nil), want: ErrInvalid},
		{name: "join net", spec: spec(map[Kind]Config{Net: {Mode: Join, Path: "/proc/self/ns/net"}}, nil, nil)},
		{name: "join user and net", spec: spec(map[Kind]Config{User: {Mode: Join, Path: "/proc/self/ns/user"}, Net: {Mode: Join, Path: "/proc/self/ns/net"}}, nil, nil)},
		{name: "new user joins net", spec: spec(map[Kind]Config{User: {Mode: New}, Net: {Mode: Join, Path: "/proc/self/ns/net"}}, nil, nil), want: ErrInvalid, in: "namespace "},
		{name: "offsets without time ns", spec: &Spec{Time: &TimeOffsets{Monotonic: 1}}, want: ErrInvalid},
		{name: "maps without user ns", spec: spec(nil, []IDMap{{0, 0, 1}}, nil), want: ErrInvalid, in: " map"},
		{name: "gid maps with joined user ns", spec: spec(map[Kind]Config{User: {Mode: Join, Path: "/proc/self/ns/user"}}, nil, []IDMap{{0, 0, 1}}), want: ErrInvalid, in: " map"},
		{name: "root range", spec: spec(newUser, []IDMap{{0, 100000, 65536}}, []IDMap{{0, 100000, 65536}})},
		{name: "root multi", spec: spec(newUser, []IDMap{{0, 0, 1}, {1, 100000, 65536}}, nil)},
		{name: "zero size", spec: spec(newUser, []IDMap{{0, 0, 0}}, nil), want: ErrInvalid, in: " map"},
		{name: "container overflow", spec: spec(newUser, []IDMap{{0xFFFFFFF0, 0, 16}}, nil), want: ErrInvalid},
		{name: "container wraps", spec: spec(newUser, []IDMap{{0xFFFFFFF0, 0, 0x20}}, nil), want: ErrInvalid, in: " map"},
		{name: "container at limit", spec: spec(newUser, []IDMap{{MaxID - 14, 0, 15}}, nil)},
		{name: "container past limit", spec: spec(newUser, []IDMap{{MaxID - 14, 0, 16}}, nil), want: ErrInvalid, in: " map"},
		{name: "container ID -1", spec: spec(newUser, []IDMap{{0xFFFFFFFF, 0, 1}}, nil), want: ErrInvalid, in: " map"},
		{name: "container ID 2^31", spec: spec(newUser, []IDMap{{MaxID + 1, 0, 1}}, nil), want: ErrInvalid, in: " map"},
		{name: "host overflow", spec: spec(newUser, nil, []IDMap{{0, 0xFFFFFFFF, 1}}), want: ErrInvalid},
		{name: "host at limit", spec: spec(newUser, nil, []IDMap{{0, MaxID, 1}})},
		{name: "host past limit", spec: spec(newUser, nil, []IDMap{{0, MaxID, 2}}), want: ErrInvalid, in: " map"},
		{name: "host's whole map", spec: spec(newUser, []IDMap{{0, 0, 0xFFFFFFFF}}, nil), want: ErrInvalid, in: " map"},
		{name: "all IDs", spec: spec(newUser, []IDMap{{0, 0, MaxID + 1}}, nil)},
		{name: "inside overlap", spec: spec(newUser, []IDMap{{0, 0, 10}, {9, 1000, 5}}, nil), want: ErrInvalid},
		{name: "outside overlap", spec: spec(newUser, nil, []IDMap{{0, 1000, 10}, {100, 1005, 1}}), want: ErrInvalid},
		{name: "adjacent", spec: spec(newUser, []IDMap{{0, 1000, 10}, {10, 1010, 10}}, nil)},
		{name: "too many", spec: spec(newUser, make([]IDMap, MaxIDMapEntries+1), nil), want: ErrInvalid},
		{name: "unprivileged own", spec: spec(newUser, []IDMap{{0, 1000, 1}}, []IDMap{{0, 1000, 1}}), uid: 1000, gid: 1000},
		{name: "unprivileged default", spec: spec(newUser, nil, nil), uid: 1000, gid: 1000},
		{name: "unprivileged other id", spec: spec(newUser, []IDMap{{0, 0, 1}}, nil), uid: 1000, gid: 1000, want: ErrInvalid, in: " map"},
		{name: "unprivileged range", spec: spec(newUser, []IDMap{{0, 1000, 1}, {1, 100000, 65536}}, nil), uid: 1000, gid: 1000, want: ErrInvalid},
	}
	// The real /etc/subuid may grant ranges; validate against empty files so the
	// table does not depend on the host.
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	v := validator{subuid: empty, subgid: empty}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.validate(c.uid, c.gid, v)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Validate = %v, want an error matching %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.in) {
				t.Fatalf("Validate = %v, want it to say %q", err, c.in)
			}
			t.Log(err)
		})
	}
}

func TestValidateNamesEntry(t *testing.T) {
	s := spec(map[Kind]Config{User: {Mode: New}}, nil, []IDMap{{0, 1000, 10}, {20, 2000, 5}, {100, 1005, 1}})
	err := s.Validate(0, 0)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "gid map entry 2 (100 1005 1)") {
		t.Fatalf("Validate = %v, want an error naming gid entry 2", err)
	}
}

// TestValidateNamesBound: an ID map reaching above MaxID is refused with the range
// and the bound in words.
func TestValidateNamesBound(t *testing.T) {
	for _, c := range []struct {
		m    IDMap
		want string
	}{
		{IDMap{4294967295, 0, 1}, "container ID 4294967295 is above 2147483647"},
		{IDMap{0, 2147483648, 1}, "host ID 2147483648 is above 2147483647"},
		{IDMap{2147483000, 0, 1000}, "container range 2147483000..2147483999 reaches above 2147483647"},
		{IDMap{0, 4294967290, 10}, "host ID 4294967290 is above 2147483647"},
	} {
		s := spec(map[Kind]Config{User: {Mode: New}}, []IDMap{c.m}, nil)
		err := s.Validate(0, 0)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("uid map entry 0 (%s)", c.m)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%v) = %v, want an error for uid entry 0 saying %q", c.m, err, c.want)
		}
	}
}

func TestValidateTime(t *testing.T) {
	s := &Spec{Time: &TimeOffsets{Monotonic: 1e9, Boottime: -1e9}}
	s.Set(Time, Config{Mode: New})
	err := s.Validate(0, 0)
	if _, statErr := os.Stat("/proc/self/ns/time"); statErr != nil {
		if !errors.Is(err, ErrNotSupported) || errors.Is(err, ErrInvalid) {
			t.Fatalf("Validate without time namespaces = %v, want ErrNotSupported only", err)
		}
		t.Skipf("kernel lacks time namespaces: %v", statErr)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestValidateSubIDGrants(t *testing.T) {
	dir := t.TempDir()
	subuid := filepath.Join(dir, "subuid")
	subgid := filepath.Join(dir, "subgid")
	if err := os.WriteFile(subuid, []byte("someone:300000:10\n1000:100000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(subgid, []byte("1000:200000:65536\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v := validator{subuid: subuid, subgid: subgid}
	newUser := map[Kind]Config{User: {Mode: New}}
	ok := spec(newUser, []IDMap{{0, 1000, 1}, {1, 100000, 65536}}, []IDMap{{0, 1000, 1}, {1, 200000, 1000}})
	// Without the setuid helpers a granted range cannot be written: Validate says so.
	_, noHelper := exec.LookPath("newuidmap")
	if err := ok.validate(1000, 1000, v); noHelper != nil && (!errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "install the uidmap package")) {
		t.Fatalf("granted ranges without newuidmap: %v, want ErrNotSupported naming the uidmap package", err)
	} else if noHelper == nil && err != nil {
		t.Fatalf("granted ranges: %v", err)
	}
	if !UseHelper(1000, 1000, ok.UIDMap, ok.GIDMap) {
		t.Error("UseHelper = false for granted ranges")
	}
	if UseHelper(1000, 1000, nil, []IDMap{{0, 1000, 1}}) || UseHelper(0, 0, ok.UIDMap, ok.GIDMap) {
		t.Error("UseHelper = true for an own-ID map or a root caller")
	}
	for _, bad := range []*Spec{
		spec(newUser, []IDMap{{0, 300000, 10}}, nil),              // someone else's range
		spec(newUser, []IDMap{{0, 100000, 65537}}, nil),           // past the end
		spec(newUser, nil, []IDMap{{0, 1000, 1}, {1, 100000, 1}}), // a uid range used as gid
	} {
		err := bad.validate(1000, 1000, v)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "map entry") {
			t.Errorf("%v / %v: Validate = %v, want an error naming the map entry", bad.UIDMap, bad.GIDMap, err)
		}
	}
	if noHelper != nil {
		t.Skipf("newuidmap not installed (Debian package uidmap): granted ranges are refused with ErrNotSupported; their acceptance is untested: %v", noHelper)
	}
}

func TestTimeOffsets(t *testing.T) {
	for _, c := range []struct {
		o    TimeOffsets
		want string
	}{
		{TimeOffsets{}, ""},
		{TimeOffsets{Monotonic: 2_500_000_000}, "monotonic 2 500000000\n"},
		{TimeOffsets{Monotonic: -1_500_000_000, Boottime: -3_000_000_000}, "monotonic -2 500000000\nboottime -3 0\n"},
	} {
		if got := string(c.o.Format()); got != c.want {
			t.Errorf("%+v.Format() = %q, want %q", c.o, got, c.want)
		}
	}
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skipf("kernel lacks time namespaces: %v", err)
	}
	s := &Spec{Time: &TimeOffsets{Boottime: -1 << 62}}
	s.Set(Time, Config{Mode: New})
	if err := s.Validate(0, 0); !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "namespace time: boottime offset") {
		t.Fatalf("Validate(huge negative boottime offset) = %v, want an error naming the time namespace", err)
	}
}

// TestTimeOffsetsKernel writes Format's text to the offsets of a new time namespace
// and reads them back. Offsets freeze once a process enters the namespace, which
// execve does (it moves the caller into time_for_children), and the file exists only
// for the thread-group leader: so a re-executed test binary unshares from its main
// thread during package init (see the init function below).
func TestTimeOffsetsKernel(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skipf("kernel lacks time namespaces: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = []string{probeEnv + "=timens"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v: %s", err, out)
	}
	got := strings.Join(strings.Fields(string(out)), " ")
	if want := "monotonic 3 250000000 boottime -2 500000000"; got != want {
		t.Fatalf("kernel reads back %q, want %q", got, want)
	}
}

// This init is the probe of TestTimeOffsetsKernel: package init
// runs on the main thread, which /proc/self names.
func init() {
	if os.Getenv(probeEnv) != "timens" {
		return
	}
	o := TimeOffsets{Monotonic: 3_250_000_000, Boottime: -1_500_000_000}
	if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
		os.Stderr.WriteString("unshare: " + err.Error())
		os.Exit(2)
	}
	if err := os.WriteFile("/proc/self/timens_offsets", o.Format(), 0); err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(2)
	}
	b, err := os.ReadFile("/proc/self/timens_offsets")
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(2)
	}
	os.Stdout.Write(b)
	os.Exit(0)
}

// TestCheckPathFIFO: a FIFO given as a namespace path is refused at once; a blocking
// open would wait for a writer forever.
func TestCheckPathFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- CheckPath(Net, fifo) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrInvalid) || !strings.Contains(fmt.Sprint(err), "namespace net ("+fifo+")") {
			t.Fatalf("CheckPath(FIFO) = %v, want an error naming the namespace and the path", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CheckPath blocked on a FIFO")
	}
}
