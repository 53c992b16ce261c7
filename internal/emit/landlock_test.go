package emit

import (
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/landlock"
)

// requireLandlock skips when the kernel has no Landlock and fails on any other error.
func requireLandlock(t *testing.T) int {
	t.Helper()
	abi, err := landlock.ABI()
	if errors.Is(err, landlock.ErrNotSupported) {
		t.Skipf("kernel Landlock: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	return abi
}

// rulesOf returns the LandlockRules of op, read through its Ptr.
func rulesOf(t *testing.T, op child.Op) *child.LandlockRules {
	t.Helper()
	r := (*child.LandlockRules)(op.Ptr)
	if r == nil || *(**child.LandlockRules)(unsafe.Pointer(&op.Args[0])) != r {
		t.Fatalf("op Ptr %p and Args[0] %#x disagree", op.Ptr, op.Args[0])
	}
	return r
}

// cstring reads the C string that a word of memory points to, reading the word as a
// pointer (the Program keeps the bytes alive).
func cstring(word *uintptr) string {
	p := *(**byte)(unsafe.Pointer(word))
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

func TestLandlockShape(t *testing.T) {
	s := landlock.Spec{Rules: []landlock.Rule{
		{Path: "/usr", Access: landlock.Read | landlock.Execute},
		{Path: "/tmp", Access: landlock.Read | landlock.Write},
		{Path: "/etc/hosts", Access: landlock.Read},
	}}
	for _, abi := range []int{1, 2, 3, 5, 7, 9} {
		var p child.Program
		Landlock(&p, s, abi)
		if len(p.Ops) != 1 || p.Ops[0].Kind != child.KindLandlock || p.Steps[0].Stage != "landlock" {
			t.Fatalf("ABI %d: ops %+v steps %+v", abi, p.Ops, p.Steps)
		}
		r := rulesOf(t, p.Ops[0])
		handled := landlock.HandledAccessFS(abi)
		if len(r.Attr) != 8 || binary.NativeEndian.Uint64(r.Attr) != handled {
			t.Errorf("ABI %d: attr %x, want handled_access_fs %#x", abi, r.Attr, handled)
		}
		if len(r.Paths) != 3 || len(r.Access) != 3 {
			t.Fatalf("ABI %d: %d paths, %d masks", abi, len(r.Paths), len(r.Access))
		}
		for i, rule := range s.Rules {
			if got := cstring(&r.Paths[i]); got != rule.Path {
				t.Errorf("ABI %d rule %d: path %q, want %q", abi, i, got, rule.Path)
			}
			if r.Access[i] != rule.Access.Rights()&handled || r.Access[i]&^handled != 0 {
				t.Errorf("ABI %d rule %d: access %#x", abi, i, r.Access[i])
			}
		}
		if r.FileAccess&^handled != 0 || r.FileAccess&unix.LANDLOCK_ACCESS_FS_READ_DIR != 0 {
			t.Errorf("ABI %d: file access %#x", abi, r.FileAccess)
		}
		if r.Strict {
			t.Errorf("ABI %d: Strict set", abi)
		}
		if !strings.Contains(p.Steps[0].What, "rx:/usr") {
			t.Errorf("step description %q", p.Steps[0].What)
		}
	}
	// ABI 1 knows neither REFER nor TRUNCATE: rw must not ask for them.
	var p child.Program
	Landlock(&p, s, 1)
	if a := rulesOf(t, p.Ops[0]).Access[1]; a&(unix.LANDLOCK_ACCESS_FS_REFER|unix.LANDLOCK_ACCESS_FS_TRUNCATE) != 0 {
		t.Errorf("ABI 1 rw access %#x has rights of later ABIs", a)
	}
	// No ABI (no Landlock, best effort) or no rules: nothing to do in the child.
	var q child.Program
	Landlock(&q, s, 0)
	Landlock(&q, landlock.Spec{Strict: true}, 7)
	if len(q.Ops) != 0 {
		t.Errorf("ABI 0 or no rules: %d ops, want none", len(q.Ops))
	}
}

// TestAttrAccepted hands the compiled attribute to the kernel: the ruleset is created
// and closed, nothing is enforced.
func TestAttrAccepted(t *testing.T) {
	abi := requireLandlock(t)
	var p child.Program
	Landlock(&p, landlock.Spec{Rules: []landlock.Rule{{Path: "/", Access: landlock.Read}}}, abi)
	r := rulesOf(t, p.Ops[0])
	fd, _, e := syscall.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&r.Attr[0])), uintptr(len(r.Attr)), 0)
	if e != 0 {
		t.Fatalf("landlock_create_ruleset with the compiled attr: %v", e)
	}
	unix.Close(int(fd))
}

// enforce does in this process what the child does with the compiled rules, on the
// calling thread only (Landlock and no_new_privs are per thread).
func enforce(r *child.LandlockRules) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	rs, _, e := syscall.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&r.Attr[0])), uintptr(len(r.Attr)), 0)
	if e != 0 {
		return e
	}
	defer unix.Close(int(rs))
	for i := range r.Paths {
		fd, err := unix.Open(cstring(&r.Paths[i]), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		access := r.Access[i]
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			access &= r.FileAccess
		}
		var attr [12]byte
		binary.NativeEndian.PutUint64(attr[:], access)
		binary.NativeEndian.PutUint32(attr[8:], uint32(fd))
		_, _, e := syscall.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, rs, unix.LANDLOCK_RULE_PATH_BENEATH, uintptr(unsafe.Pointer(&attr[0])), 0, 0, 0)
		unix.Close(fd)
		if e != 0 {
			return e
		}
	}
	_, _, e = syscall.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, rs, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

const enforceEnv = "PADDOCK_LANDLOCK_TEST_DIR"

// TestLandlockEnforced checks, in a subprocess, that the compiled rules mean what the
// Spec says once the kernel enforces them.
func TestLandlockEnforced(t *testing.T) {
	dir := os.Getenv(enforceEnv)
	if dir == "" {
		requireLandlock(t)
		dir = t.TempDir()
		for _, d := range []string{"ro", "rw", "none"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, d, "f"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestLandlockEnforced$", "-test.v")
		cmd.Env = append(os.Environ(), enforceEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestLandlockEnforced") {
			t.Fatalf("subprocess: %v\n%s", err, out)
		}
		return
	}

	// In the subprocess: restrict this thread, then look.
	runtime.LockOSThread() // never unlocked: the thread dies with the restricted goroutine
	s := landlock.Spec{Rules: []landlock.Rule{
		{Path: filepath.Join(dir, "ro"), Access: landlock.Read},
		{Path: filepath.Join(dir, "rw"), Access: landlock.Read | landlock.Write},
		{Path: filepath.Join(dir, "file"), Access: landlock.Read | landlock.Write}, // a file: directory rights are masked off
	}}
	var p child.Program
	abi, err := s.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	Landlock(&p, s, abi)
	if err := enforce(rulesOf(t, p.Ops[0])); err != nil {
		t.Fatalf("enforce: %v", err)
	}
	denied := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.EACCES) {
			t.Errorf("%s: %v, want EACCES", what, err)
		}
	}
	allowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v, want success", what, err)
		}
	}
	_, err = os.ReadFile(filepath.Join(dir, "ro", "f"))
	allowed("read ro/f", err)
	denied("write ro/f", os.WriteFile(filepath.Join(dir, "ro", "f"), []byte("y"), 0o644))
	denied("create ro/g", os.WriteFile(filepath.Join(dir, "ro", "g"), nil, 0o644))
	allowed("write rw/f", os.WriteFile(filepath.Join(dir, "rw", "f"), []byte("y"), 0o644))
	allowed("create rw/g", os.WriteFile(filepath.Join(dir, "rw", "g"), nil, 0o644))
	allowed("remove rw/g", os.Remove(filepath.Join(dir, "rw", "g")))
	allowed("write file", os.WriteFile(filepath.Join(dir, "file"), []byte("y"), 0o644))
	_, err = os.ReadFile(filepath.Join(dir, "none", "f"))
	denied("read none/f", err)
	_, err = os.ReadDir(dir)
	denied("list the parent", err)
	denied("exec /bin/true", syscall.Exec("/bin/true", []string{"true"}, nil))
}
