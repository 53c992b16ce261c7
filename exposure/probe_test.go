package exposure

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// TestHarmlessArguments checks that every system call a flaw may name can be
// probed with harmless arguments when the flaw fixes none, and that the
// arguments the flaw fixes reach the kernel (other than the invalid flag bits
// that make socket, clone and unshare fail).
func TestHarmlessArguments(t *testing.T) {
	for _, name := range Syscalls() {
		p, why := harmless(Call{Name: name}, syscalls[name].amd64)
		if why != "" {
			t.Errorf("%s: %s", name, why)
		}
		if p.Nr != syscalls[name].amd64 {
			t.Errorf("%s: number %d", name, p.Nr)
		}
	}
	p, _ := harmless(Call{Name: "setsockopt", Args: []ArgValue{{Index: 1, Value: Value{N: 263}}, {Index: 2, Value: Value{N: 5}}}}, 54)
	if p.Args != [6]uint64{badFD, 263, 5} {
		t.Errorf("setsockopt: %v", p.Args)
	}
	if _, why := harmless(Call{Name: "ptrace", Args: []ArgValue{{Index: 0, Value: Value{N: 0}}}}, 101); why == "" {
		t.Error("PTRACE_TRACEME is probed")
	}
}

// status renders capability sets as /proc/self/status shows them.
func statusText(eff, prm, bnd caps.Set, nnp bool, mode string) string {
	n := map[bool]int{false: 0, true: 1}[nnp]
	return fmt.Sprintf("CapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nNoNewPrivs:\t%d\nSeccomp:\t%s", uint64(prm), uint64(eff), uint64(bnd), n, mode)
}

// TestCompareStatus checks the judging of facts: the status a sandbox with m's
// sets shows agrees, one with an extra capability does not.
func TestCompareStatus(t *testing.T) {
	m := RootfulDefault()
	checks := Checks(m, []Flaw{flawByID(t, "CVE-2024-1086")})
	probes := Probes(checks)
	facts := func(eff caps.Set) []Fact {
		out := make([]Fact, len(probes))
		for i, p := range probes {
			if p.Kind == ProbeStatus {
				out[i] = Fact{Value: statusText(eff, eff, eff, true, "2")}
			}
		}
		return out
	}
	var status []Check
	for _, c := range checks {
		if c.Probe.Kind == ProbeStatus {
			status = append(status, c)
		}
	}
	if len(status) < 3 {
		t.Fatalf("status checks: %+v", status)
	}
	if n, diffs := Compare(status, probes, facts(m.Effective)); len(diffs) != 0 || n != len(status) {
		t.Errorf("%d agree, disagreements %+v", n, diffs)
	}
	_, diffs := Compare(status, probes, facts(m.Effective.Add(caps.NetAdmin)))
	if len(diffs) != 1 || !strings.Contains(diffs[0].Precondition, "CAP_NET_ADMIN") || !strings.Contains(diffs[0].Sandbox, "effective yes") {
		t.Errorf("an added CAP_NET_ADMIN: %+v", diffs)
	}
	if _, diffs := Compare(status, probes, nil); len(diffs) != len(status) {
		t.Errorf("checks without facts: %+v", diffs)
	}
	// An unreadable status agrees with nothing, not even "no" and "off".
	if _, diffs := Compare(status, probes, make([]Fact, len(probes))); len(diffs) != len(status) {
		t.Errorf("checks of an empty status: %+v", diffs)
	}
}

// TestKernelLacks checks that a call the kernel was built without is told from
// a filter's ENOSYS by making it outside the sandbox.
func TestKernelLacks(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nSeccomp:\t0\n") {
		t.Skip("this process is under a seccomp filter, which hides what the kernel lacks")
	}
	if !kernelLacks(Probe{Kind: ProbeSyscall, Nr: 1000}) {
		t.Error("system call 1000 is not absent")
	}
	if kernelLacks(Probe{Kind: ProbeSyscall, Nr: 39}) { // getpid
		t.Error("getpid is absent")
	}
}

// TestI386Call checks the probe's int 0x80 with arguments: i386 getpid answers
// this process's pid, i386 write(-1, ...) EBADF.
func TestI386Call(t *testing.T) {
	if g := hostI386Gate(); g != seccomp.I386Open {
		t.Skipf("the i386 gate: %q", g)
	}
	if r, e, ok := i386Call(20, [6]uint64{}); !ok || e != 0 || r != os.Getpid() {
		t.Errorf("i386 getpid: %d, errno %d, %v; pid %d", r, e, ok, os.Getpid())
	}
	if _, e, _ := i386Call(4, [6]uint64{badFD, badAddr, 1}); e != int(syscall.EBADF) {
		t.Errorf("i386 write(-1): errno %d", e)
	}
}

// TestProbeClosedGate checks the checks for a kernel without IA32 emulation: no
// i386 call is probed (int 0x80 would fault and end the probe), and the gate's
// check expects the gate closed, so that a gate found open is reported.
func TestProbeClosedGate(t *testing.T) {
	m := PrivilegedRootful()
	m.I386 = seccomp.I386NoEmulation
	checks := Checks(m, []Flaw{flawByID(t, "CVE-2021-22555")})
	probes := Probes(checks)
	facts := make([]Fact, len(probes))
	gates := 0
	for i, p := range probes {
		if p.ABI == "i386" {
			t.Errorf("an i386 call is probed behind a closed gate: %+v", p)
		}
		if p.Kind == ProbeI386 {
			gates++
			facts[i] = Fact{Value: string(seccomp.I386Open)}
		}
	}
	if gates != 1 {
		t.Fatalf("%d gate probes", gates)
	}
	var gate []Check
	for _, c := range checks {
		if c.Probe.Kind == ProbeI386 && c.Skip == "" {
			gate = append(gate, c)
		}
	}
	_, diffs := Compare(gate, probes, facts)
	if len(diffs) != 1 || diffs[0].Model != string(seccomp.I386NoEmulation) || diffs[0].Sandbox != string(seccomp.I386Open) {
		t.Errorf("a gate found open: %+v", diffs)
	}
}

// TestProbeIDMap checks the probe of the map a nested user namespace needs: the
// count of a sandbox's own map, and a wrong count found.
func TestProbeIDMap(t *testing.T) {
	m := RootlessDefault()
	var idmap []Check
	for _, c := range Checks(m, []Flaw{flawByID(t, "CVE-2018-18955")}) {
		if c.Probe.Kind == ProbeIDMap {
			idmap = append(idmap, c)
		}
	}
	if len(idmap) != 1 || idmap[0].Model != "65536" {
		t.Fatalf("checks %+v", idmap)
	}
	probes := []Probe{{Kind: ProbeIDMap}}
	for _, c := range []struct {
		uidMap string
		agree  bool
	}{
		{"         0       1000          1\n         1     100000      65535\n", true},
		{"         0       1000          1\n", false},
		{"", false},
	} {
		if n, _ := Compare(idmap, probes, []Fact{{Value: c.uidMap}}); (n == 1) != c.agree {
			t.Errorf("%q: agree %v", c.uidMap, n == 1)
		}
	}
	if n, ok := countIDs("0 0 4294967295\n"); !ok || n != maxMapped {
		t.Errorf("the initial map counts %d, %v", n, ok)
	}
}
