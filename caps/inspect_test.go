package caps

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// capget returns the effective, permitted and inheritable sets of pid (a thread id; the
// process id names its main thread) from the capget system call.
func capget(t *testing.T, pid int) (eff, prm, inh Set) {
	t.Helper()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3, Pid: int32(pid)}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatalf("capget(%d): %v", pid, err)
	}
	join := func(lo, hi uint32) Set { return Set(lo) | Set(hi)<<32 }
	return join(data[0].Effective, data[1].Effective),
		join(data[0].Permitted, data[1].Permitted),
		join(data[0].Inheritable, data[1].Inheritable)
}

func TestInspectSelf(t *testing.T) {
	self, err := Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	byPid, err := Inspect(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self != byPid {
		t.Errorf("Inspect(0) = %v, Inspect(%d) = %v", self, os.Getpid(), byPid)
	}
	eff, prm, inh := capget(t, os.Getpid())
	if self.Effective != eff || self.Permitted != prm || self.Inheritable != inh {
		t.Errorf("Inspect(0) = %v; capget says effective %v, permitted %v, inheritable %v", self, eff, prm, inh)
	}
	// The bounding and ambient sets have no capget; ask prctl on this thread, which in a test
	// binary has the same sets as every other.
	var bnd, amb Set
	for c := Cap(0); c <= Last(); c++ {
		if r, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			t.Fatalf("PR_CAPBSET_READ %v: %v", c, err)
		} else if r == 1 {
			bnd = bnd.Add(c)
		}
		if r, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0); err != nil {
			t.Fatalf("PR_CAP_AMBIENT_IS_SET %v: %v", c, err)
		} else if r == 1 {
			amb = amb.Add(c)
		}
	}
	if self.Bounding != bnd || self.Ambient != amb {
		t.Errorf("Inspect(0) = %v; prctl says bounding %v, ambient %v", self, bnd, amb)
	}
}

func TestInspectChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as another user with ambient capabilities")
	}
	self, err := Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	if !self.Permitted.Has(NetBindService) || !self.Bounding.Has(NetBindService) {
		t.Skipf("needs CAP_NET_BIND_SERVICE to pass it on, have %v", self)
	}
	cmd := exec.Command("/bin/sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential:  &syscall.Credential{Uid: 65534, Gid: 65534},
		AmbientCaps: []uintptr{uintptr(NetBindService)},
	}
	if err := cmd.Start(); err != nil { // returns once execve succeeded
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	got, err := Inspect(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	one := Of(NetBindService)
	want := Sets{Bounding: self.Bounding, Effective: one, Permitted: one, Inheritable: self.Inheritable | one, Ambient: one}
	if got != want {
		t.Errorf("Inspect(child) =\n%v, want\n%v", got, want)
	}
	eff, prm, inh := capget(t, cmd.Process.Pid)
	if got.Effective != eff || got.Permitted != prm || got.Inheritable != inh {
		t.Errorf("Inspect(child) = %v; capget says effective %v, permitted %v, inheritable %v", got, eff, prm, inh)
	}
}

func TestInspectMissing(t *testing.T) {
	// Pid 0x7fffffff is above any pid_max, so it never names a live process.
	if _, err := Inspect(0x7fffffff); !os.IsNotExist(err) {
		t.Errorf("Inspect of a missing pid: %v, want a not-exist error", err)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tcat\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n" +
		"CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000400\nNoNewPrivs:\t0\n"
	got, err := parseStatus("status", []byte(status))
	if err != nil {
		t.Fatal(err)
	}
	want := Sets{Bounding: 0x1ffffffffff, Effective: DockerDefault, Permitted: DockerDefault, Ambient: Of(NetBindService)}
	if got != want {
		t.Errorf("parseStatus = %v, want %v", got, want)
	}
	if _, err := parseStatus("status", []byte("Name:\tcat\nCapInh:\t0\n")); err == nil {
		t.Error("parseStatus accepted a status without the capability lines")
	}
	if _, err := parseStatus("status", []byte("CapInh:\tzz\n")); err == nil {
		t.Error("parseStatus accepted a malformed mask")
	}
}
