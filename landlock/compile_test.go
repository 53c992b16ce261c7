package landlock

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

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// requireLandlock skips when the kernel has no Landlock and fails on any other error.
func requireLandlock(t *testing.T) int {
	t.Helper()
	abi, err := ABI()
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("kernel Landlock: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	return abi
}

func TestABI(t *testing.T) {
	abi := requireLandlock(t)
	if abi < 1 {
		t.Fatalf("ABI = %d", abi)
	}
	again, err := ABI()
	if err != nil || again != abi {
		t.Fatalf("second ABI() = %d, %v; want %d", again, err, abi)
	}
	t.Logf("Landlock ABI %d", abi)
}

func TestHandledAccessFS(t *testing.T) {
	cases := []struct {
		abi  int
		want uint64
	}{
		{0, 0},
		{1, 1<<13 - 1},
		{2, 1<<14 - 1},
		{3, 1<<15 - 1},
		{4, 1<<15 - 1},
		{5, 1<<16 - 1},
		{7, 1<<16 - 1},
		{9, 1<<16 - 1}, // RESOLVE_UNIX (ABI 9) is not handled: MaxKnownABI is 7
	}
	for _, c := range cases {
		if got := HandledAccessFS(c.abi); got != c.want {
			t.Errorf("HandledAccessFS(%d) = %#x, want %#x", c.abi, got, c.want)
		}
	}
	if r := (Read | Write | Execute).Rights(); r != 1<<16-1 {
		t.Errorf("rwx rights = %#x, want every right up to ABI 7", r)
	}
	if r := Read.Rights(); r != unix.LANDLOCK_ACCESS_FS_READ_FILE|unix.LANDLOCK_ACCESS_FS_READ_DIR {
		t.Errorf("ro rights = %#x", r)
	}
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

func TestCompileShape(t *testing.T) {
	s := Spec{Rules: []Rule{{"/usr", Read | Execute}, {"/tmp", Read | Write}, {"/etc/hosts", Read}}}
	for _, abi := range []int{1, 2, 3, 5, 7, 9} {
		var p child.Program
		s.compile(&p, abi)
		if len(p.Ops) != 1 || p.Ops[0].Kind != child.KindLandlock || p.Steps[0].Stage != "landlock" {
			t.Fatalf("ABI %d: ops %+v steps %+v", abi, p.Ops, p.Steps)
		}
		r := rulesOf(t, p.Ops[0])
		handled := HandledAccessFS(abi)
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
	s.compile(&p, 1)
	if a := rulesOf(t, p.Ops[0]).Access[1]; a&(unix.LANDLOCK_ACCESS_FS_REFER|unix.LANDLOCK_ACCESS_FS_TRUNCATE) != 0 {
		t.Errorf("ABI 1 rw access %#x has rights of later ABIs", a)
	}
}

func TestCompileThisHost(t *testing.T) {
	var p child.Program
	if err := (Spec{}).Compile(&p); err != nil || len(p.Ops) != 0 {
		t.Fatalf("zero Spec: %v, %d ops", err, len(p.Ops))
	}
	if err := (Spec{Rules: []Rule{{"tmp", Read}}}).Compile(&p); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid Spec: %v", err)
	}
	s := Spec{Rules: []Rule{{"/", Read | Execute}}, Strict: true}
	_, abiErr := ABI()
	err := s.Compile(&p)
	switch {
	case errors.Is(abiErr, ErrNotSupported):
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("strict Compile without Landlock = %v, want ErrNotSupported", err)
		}
		s.Strict = false
		if err := s.Compile(&p); err != nil || len(p.Ops) != 0 {
			t.Errorf("best-effort Compile without Landlock = %v, %d ops; want nil, none", err, len(p.Ops))
		}
	case abiErr != nil:
		t.Fatal(abiErr)
	default:
		if err != nil || len(p.Ops) != 1 || !rulesOf(t, p.Ops[0]).Strict {
			t.Errorf("Compile = %v, %d ops", err, len(p.Ops))
		}
	}
}

// TestAttrAccepted hands the compiled attribute to the kernel: the ruleset is created
// and closed, nothing is enforced.
func TestAttrAccepted(t *testing.T) {
	abi := requireLandlock(t)
	var p child.Program
	Spec{Rules: []Rule{{"/", Read}}}.compile(&p, abi)
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

// TestEnforceCompiled checks, in a subprocess, that the compiled rules mean what the
// Spec says once the kernel enforces them.
func TestEnforceCompiled(t *testing.T) {
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
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnforceCompiled$", "-test.v")
		cmd.Env = append(os.Environ(), enforceEnv+"="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestEnforceCompiled") {
			t.Fatalf("subprocess: %v\n%s", err, out)
		}
		return
	}

	// In the subprocess: restrict this thread, then look.
	runtime.LockOSThread() // never unlocked: the thread dies with the restricted goroutine
	s := Spec{Rules: []Rule{
		{filepath.Join(dir, "ro"), Read},
		{filepath.Join(dir, "rw"), Read | Write},
		{filepath.Join(dir, "file"), Read | Write}, // a file: directory rights are masked off
	}}
	var p child.Program
	if err := s.Compile(&p); err != nil {
		t.Fatal(err)
	}
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
	_, err := os.ReadFile(filepath.Join(dir, "ro", "f"))
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
