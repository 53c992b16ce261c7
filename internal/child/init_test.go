package child

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/initelf"
	"golang.org/x/sys/unix"
)

// cArray returns a NULL-terminated array of C strings for ss.
func cArray(ss ...string) []*byte {
	var a []*byte
	for _, s := range ss {
		b := append([]byte(s), 0)
		a = append(a, &b[0])
	}
	return append(a, nil)
}

// spawnInit runs a program of one KindInit op that executes the file open at fd as
// the init, with "/bin/sh -c script" as the target, and returns the child's Report
// (Op 0, Errno 0 for none) and the exit codes of the child and of the target, or -1
// for a target that the init reaped itself. The test is a subreaper for the time,
// so that a target orphaned by a failed init comes back to it.
func spawnInit(t *testing.T, fd uintptr, script string) (r Report, initCode, targetCode int) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	name := append([]byte(initelf.Name), 0)
	p := &Program{}
	op := Op{Kind: KindInit, Ptr: unsafe.Pointer(&name[0])}
	op.Args[0] = fd
	p.Append(op, "init", "fork the target and execute the init")
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	sh := append([]byte("/bin/sh"), 0)
	s := &Start{SyncFD: -1, NotifyFD: -1, Ctty: -1, ErrFD: int32(pipe[1])}
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	s.Paths = []*byte{&sh[0]}
	argv, envp := cArray("/bin/sh", "-c", script), cArray("PATH=/usr/bin:/bin")
	s.Argv, s.Envp = &argv[0], &envp[0]
	pid, errno := Spawn(p, s)
	unix.Close(pipe[1])
	if errno != 0 {
		t.Fatalf("Spawn: %v", errno)
	}
	buf := (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:]
	if n, err := unix.Read(pipe[0], buf); err != nil || n != 0 && n != len(buf) {
		t.Fatalf("read the report: %d bytes, %v", n, err)
	}
	initCode, targetCode = -1, -1
	for {
		var ws unix.WaitStatus
		w, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.ECHILD {
			break
		}
		if err != nil {
			t.Fatalf("wait4: %v", err)
		}
		code := ws.ExitStatus()
		if ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if w == pid {
			initCode = code
		} else {
			targetCode = code
		}
	}
	return r, initCode, targetCode
}

// TestInitExec runs KindInit without a sandbox around it: with the real init, the
// child exits with the target's status; with a file that cannot be executed, PID
// 1 reports InitExecOp with the kernel's errno and the target never runs.
func TestInitExec(t *testing.T) {
	f, err := initelf.Memfd(MaxFDs)
	if err != nil {
		t.Skipf("the init: %v", err)
	}
	defer f.Close()
	r, initCode, targetCode := spawnInit(t, f.Fd(), "exit 7")
	if r != (Report{}) || initCode != 7 || targetCode != -1 {
		t.Errorf("with the init: report %+v, init exit %d, target exit %d; want none, 7, reaped by the init", r, initCode, targetCode)
	}

	dir := t.TempDir()
	plain, err := os.OpenFile(filepath.Join(dir, "not-executable"), os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	marker := filepath.Join(dir, "ran")
	r, initCode, targetCode = spawnInit(t, plain.Fd(), "echo > "+marker)
	if r.Op != InitExecOp || syscall.Errno(r.Errno) != syscall.EACCES {
		t.Errorf("report %+v, want op %d (InitExecOp) with EACCES", r, InitExecOp)
	}
	if initCode != 125 || targetCode != 128+9 {
		t.Errorf("init exit %d, target exit %d; want 125, and the target killed", initCode, targetCode)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the target ran although the init could not start")
	}
}
