//go:build amd64

package child

import (
	"syscall"
	"testing"
)

// TestProbeInt80 checks both ends of the probe: on this kernel the i386 exit runs
// or faults (the kernel decides), and a child that faults where it would enter the
// gate dies of SIGSEGV although the Go runtime handles SIGSEGV in this process.
func TestProbeInt80(t *testing.T) {
	ws, err := ProbeInt80()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case Int80Ran(ws):
		t.Log("int 0x80 reaches the kernel's i386 table here")
	case ws.Signaled() && ws.Signal() == syscall.SIGSEGV:
		t.Log("this kernel has no IA32 emulation: int 0x80 faults")
	case ws.Signaled() && ws.Signal() == syscall.SIGSYS:
		t.Log("a seccomp filter on this process kills i386 calls")
	default:
		t.Fatalf("the probe ended with %#x: neither exit 42, SIGSEGV nor SIGSYS", ws)
	}
	ws, err = probeInt80(true)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGSEGV || ws.CoreDump() {
		t.Fatalf("a faulting probe ended with %#x, want death by SIGSEGV without a core", ws)
	}
}
