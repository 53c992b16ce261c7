package child

import (
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// heldChild is a child started on a program of one KindHold op.
type heldChild struct {
	pid      int
	errR     int
	fifo     string
	opath    int
	procfd   int
	argv     []*byte
	envp     []*byte
	truePath []byte
}

// spawnHeld starts a child that holds on a new FIFO (by its O_PATH descriptor,
// through a procfs descriptor), then executes /bin/true; with noPath the start
// names no FIFO.
func spawnHeld(t *testing.T, noPath bool) *heldChild {
	t.Helper()
	h := &heldChild{fifo: filepath.Join(t.TempDir(), "exec.fifo"), truePath: append([]byte("/bin/true"), 0)}
	if err := unix.Mkfifo(h.fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if h.opath, err = unix.Open(h.fifo, unix.O_PATH|unix.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(h.opath) })
	if h.procfd, err = unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(h.procfd) })
	p := &Program{}
	op := Op{Kind: KindHold}
	op.Args[0] = uintptr(h.procfd)
	p.Append(op, "start", "hold before execve")
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	h.errR = pipe[0]
	t.Cleanup(func() { unix.Close(h.errR) })
	h.argv, h.envp = cArray("/bin/true"), cArray()
	s := &Start{SyncFD: -1, NotifyFD: -1, TerminalFD: -1, Ctty: -1, ErrFD: int32(pipe[1])}
	if !noPath {
		copy(s.HoldPath[:], "self/fd/"+strconv.Itoa(h.opath))
	}
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	s.Paths, s.Argv, s.Envp = []*byte{&h.truePath[0]}, &h.argv[0], &h.envp[0]
	pid, errno := Spawn(p, s)
	unix.Close(pipe[1])
	if errno != 0 {
		t.Fatalf("spawn: %v", errno)
	}
	h.pid = pid
	return h
}

// report reads the next report of the child, ok false at EOF.
func (h *heldChild) report(t *testing.T) (r Report, ok bool) {
	t.Helper()
	buf := (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:]
	n, err := unix.Read(h.errR, buf)
	if err != nil || n != 0 && n != len(buf) {
		t.Fatalf("read the report: %d bytes, %v", n, err)
	}
	return r, n != 0
}

func (h *heldChild) wait(t *testing.T) unix.WaitStatus {
	t.Helper()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(h.pid, &ws, 0, nil); err != nil {
		t.Fatal(err)
	}
	return ws
}

// TestHold: a child held before execve reports that it waits, executes nothing
// until a reader opens its FIFO and reads the one byte it writes, then executes
// the target.
func TestHold(t *testing.T) { testutil.Modes(t, testHold) }

func testHold(t *testing.T) {
	h := spawnHeld(t, false)
	if r, ok := h.report(t); !ok || r.Op != HoldOp || r.Errno != 0 {
		t.Fatalf("first report %+v (%v), want the hold's marker", r, ok)
	}
	// Held: the error pipe stays open (no exec), the child lives.
	pfd := []unix.PollFd{{Fd: int32(h.errR), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 100); n != 0 {
		t.Errorf("the error pipe is ready (%#x) while the child is held", pfd[0].Revents)
	}
	var ws unix.WaitStatus
	if pid, err := unix.Wait4(h.pid, &ws, unix.WNOHANG, nil); pid != 0 || err != nil {
		t.Fatalf("the held child ended: %v %v", ws, err)
	}
	fd, err := unix.Open(h.fifo, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b [2]byte
	n, err := unix.Read(fd, b[:])
	unix.Close(fd)
	if n != 1 || err != nil {
		t.Errorf("read the FIFO: %d bytes (%q), %v; want one", n, b[:n], err)
	}
	if r, ok := h.report(t); ok {
		t.Errorf("after the release: report %+v, want EOF (exec)", r)
	}
	if ws := h.wait(t); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("the target ended with %v, want exit 0", ws)
	}
}

// TestHoldWithoutFIFO: a start that names no FIFO fails the hold with EBADF,
// before it says it waits.
func TestHoldWithoutFIFO(t *testing.T) {
	h := spawnHeld(t, true)
	if r, ok := h.report(t); !ok || r.Op != 0 || syscall.Errno(r.Errno) != syscall.EBADF {
		t.Errorf("report %+v (%v), want op 0 failing with EBADF", r, ok)
	}
	if ws := h.wait(t); !ws.Exited() || ws.ExitStatus() != 125 {
		t.Errorf("the child ended with %v, want exit 125", ws)
	}
}
