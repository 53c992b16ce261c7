package child

import (
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestDeadline holds a vfork child in a read that nothing answers: its deadline
// timer must end it, and the parent's clone3 with it, at the deadline.
func TestDeadline(t *testing.T) { testutil.Modes(t, testDeadline) }

func testDeadline(t *testing.T) {
	var hold [2]int
	if err := unix.Pipe2(hold[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(hold[0])
	defer unix.Close(hold[1])
	var b [1]byte
	p := &Program{}
	p.Syscall("test", "read what never comes", 0, unix.SYS_READ, uintptr(hold[0]), uintptr(unsafe.Pointer(&b[0])), 1)
	s := &Start{}
	s.Clone.Flags = unix.CLONE_CLEAR_SIGHAND | newPIDNS()
	const wait = 300 * time.Millisecond
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
		t.Fatal(err)
	}
	s.SetDeadline(unix.NsecToTimespec(now.Nano() + int64(wait)))
	r, reported, ws, took := spawnOps(t, true, p, s)
	if reported {
		t.Fatalf("the child reported op %d errno %v", r.Op, syscall.Errno(r.Errno))
	}
	if !ws.Exited() || ws.ExitStatus() != 125 {
		t.Errorf("the child ended with %v, want exit 125 from the deadline's handler", ws)
	}
	if took < wait-10*time.Millisecond || took > wait+time.Second {
		t.Errorf("the clone returned after %v, want about %v", took, wait)
	}
}
