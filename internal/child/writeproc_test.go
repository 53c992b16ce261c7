package child

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// runWriteProc runs a child whose program opens root as the in-root root and
// writes value to path inside it (KindWriteProcIn), then executes /bin/true,
// and returns its report: ok false when the child reached execve.
func runWriteProc(t *testing.T, root, path, value string) (Report, bool) {
	t.Helper()
	p := &Program{}
	open := Op{Kind: KindOpenRoot}
	open.Args[0] = p.CString(root)
	p.Append(open, "mount", "open the root")
	w := Op{Kind: KindWriteProcIn, Ptr: unsafe.Pointer(p.InRoot(path, CreateNone))}
	w.Args[0], w.Args[1] = p.Bytes([]byte(value))
	p.Append(w, "sysctl", "write "+path)
	p.Append(Op{Kind: KindCloseRoots}, "mount", "close the root")
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	truePath := append([]byte("/bin/true"), 0)
	argv, envp := cArray("/bin/true"), cArray()
	s := &Start{SyncFD: -1, NotifyFD: -1, TerminalFD: -1, Ctty: -1, ErrFD: int32(pipe[1])}
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	s.Paths, s.Argv, s.Envp = []*byte{&truePath[0]}, &argv[0], &envp[0]
	pid, errno := Spawn(p, s)
	unix.Close(pipe[1])
	if errno != 0 {
		t.Fatalf("spawn: %v", errno)
	}
	defer func() {
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
	}()
	var r Report
	buf := (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:]
	n, err := unix.Read(pipe[0], buf)
	if err != nil || n != 0 && n != len(buf) {
		t.Fatalf("read the report: %d bytes, %v", n, err)
	}
	return r, n != 0
}

// TestWriteProcIn: the step writes a procfs file inside the root, and refuses a
// file planted where it expects one (EXDEV: not a procfs) and a symbolic link
// on the way (ELOOP, while resolving), writing nothing outside.
func TestWriteProcIn(t *testing.T) {
	// /proc/self is a symbolic link, which the step does not follow.
	if r, failed := runWriteProc(t, "/", "/proc/self/comm", "paddock-w"); !failed || syscall.Errno(r.Errno) != syscall.ELOOP {
		t.Fatalf("writing through /proc/self: %+v (failed %v)", r, failed)
	}
	// A host sysctl written with the value it has, as root.
	const burst = "/proc/sys/kernel/printk_ratelimit_burst"
	if v, err := os.ReadFile(burst); err == nil && os.Geteuid() == 0 {
		if r, failed := runWriteProc(t, "/", burst, string(v)); failed {
			t.Fatalf("writing %s: %+v", burst, r)
		}
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/sys/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(root, "proc/sys/net/x")
	if err := os.WriteFile(planted, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, failed := runWriteProc(t, root, "/proc/sys/net/x", "1"); !failed || syscall.Errno(r.Errno) != syscall.EXDEV || r.Phase != PhaseStep {
		t.Fatalf("a planted file: %+v (failed %v)", r, failed)
	}
	if b, _ := os.ReadFile(planted); len(b) != 0 {
		t.Fatalf("the planted file was written: %q", b)
	}
	if err := os.Symlink("/proc/sys", filepath.Join(root, "sys")); err != nil {
		t.Fatal(err)
	}
	if r, failed := runWriteProc(t, root, "/sys/kernel/hostname", "x"); !failed || syscall.Errno(r.Errno) != syscall.ELOOP || r.Phase != PhaseResolve {
		t.Fatalf("a symbolic link: %+v (failed %v)", r, failed)
	}
}
