package child

import (
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// newPIDNS returns the clone flags that make the child the init of a new pid
// namespace (in a new user namespace where this process is not root), which the
// kernel spares from every signal without a handler: the case that the deadline
// and the exit path must handle.
func newPIDNS() uint64 {
	if os.Geteuid() != 0 {
		return unix.CLONE_NEWUSER | unix.CLONE_NEWPID
	}
	return unix.CLONE_NEWPID
}

// spawnOps starts p in the spawn mode given and returns the child's report (or
// ok false on EOF), its wait status, and how long the parent waited in Spawn.
func spawnOps(t *testing.T, vfork bool, p *Program, s *Start) (r Report, ok bool, ws unix.WaitStatus, took time.Duration) {
	t.Helper()
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	truePath := append([]byte("/bin/true"), 0)
	argv, envp := cArray("/bin/true"), cArray()
	s.SyncFD, s.NotifyFD, s.Ctty, s.ErrFD = -1, -1, -1, int32(pipe[1])
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	s.Paths, s.Argv, s.Envp = []*byte{&truePath[0]}, &argv[0], &envp[0]
	start := time.Now()
	var pid int
	var errno syscall.Errno
	if vfork {
		pid, errno = SpawnVfork(p, s)
	} else {
		pid, errno = Spawn(p, s)
	}
	took = time.Since(start)
	unix.Close(pipe[1])
	if errno != 0 {
		t.Fatalf("spawn: %v", errno)
	}
	buf := (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:]
	n, err := unix.Read(pipe[0], buf)
	if err != nil || n != 0 && n != len(buf) {
		t.Fatalf("read the report: %d bytes, %v", n, err)
	}
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	return r, n != 0, ws, took
}

// TestExitRefused fails a step under a seccomp filter that refuses exit_group
// and exit: the child must report the step, then die of the fault that ends its
// exit path.
func TestExitRefused(t *testing.T) { testutil.Modes(t, testExitRefused) }

func testExitRefused(t *testing.T) {
	// seccomp_data.nr at 0; SECCOMP_RET_ERRNO|EPERM for the exits, else allow.
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 2, K: unix.SYS_EXIT_GROUP},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, K: unix.SYS_EXIT},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
	}
	fprog := &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	p := &Program{}
	p.Keep(prog)
	// No core dump of the dying child: it is not dumpable.
	p.Syscall("test", "not dumpable", 0, unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0)
	p.Syscall("test", "no_new_privs", 0, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1)
	op := Op{Kind: KindSeccomp, Trap: unix.SYS_SECCOMP}
	op.Args[0] = Ptr(p, fprog)
	p.Append(op, "test", "load the filter")
	p.Syscall("test", "fail", 0, unix.SYS_CLOSE, ^uintptr(0))
	s := &Start{}
	s.Clone.Flags = unix.CLONE_CLEAR_SIGHAND | newPIDNS()
	r, reported, ws, _ := spawnOps(t, false, p, s)
	if !reported || r.Op != 3 || syscall.Errno(r.Errno) != syscall.EBADF {
		t.Errorf("report %+v (%v): want op 3 failing with EBADF", r, reported)
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		t.Errorf("the child ended with %v, want SIGSEGV", ws)
	}
}
