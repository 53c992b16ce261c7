package exposure

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// wantMatrix is the expected verdict of every catalogue flaw for the five
// presets, in the order of Presets: rootful, rootless, privileged,
// privileged-rootless, super-privileged.
var wantMatrix = map[string][5]string{
	"CVE-2022-0847":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2016-5195":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2022-0492":  {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2022-0185":  {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2021-22555": {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2022-25636": {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2024-1086":  {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2022-2588":  {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2020-14386": {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2017-7308":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2016-8655":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2021-41073": {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2023-2598":  {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2021-3490":  {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2022-0995":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2021-33909": {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2023-0386":  {"mitigated (seccomp, device-cgroup, no-new-privs)", "mitigated (seccomp, no-new-privs)", "exposed", "exposed", "exposed"},
	"CVE-2021-3493":  {"mitigated (seccomp, no-new-privs)", "mitigated (seccomp, no-new-privs)", "exposed", "exposed", "exposed"},
	"CVE-2014-3153":  {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2019-5736":  {"exposed", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2024-21626": {"exposed", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2020-15257": {"mitigated (namespaces)", "mitigated (user-namespace, namespaces)", "mitigated (namespaces)", "mitigated (user-namespace, namespaces)", "exposed"},
	"CVE-2020-8694": {"mitigated (seccomp+masked-paths, capabilities+masked-paths)",
		"mitigated (seccomp+masked-paths, capabilities+masked-paths, user-namespace+masked-paths)", "exposed", "exposed", "exposed"},
	"shocker":          {"mitigated (seccomp, capabilities)", "mitigated (seccomp, capabilities, user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"core-pattern":     {"mitigated (capabilities)", "mitigated (capabilities, user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"host-pid-setns":   {"mitigated (seccomp, capabilities, namespaces)", "mitigated (seccomp, capabilities, user-namespace, namespaces)", "mitigated (namespaces)", "mitigated (user-namespace, namespaces)", "exposed"},
	"host-root-mount":  {"mitigated (namespaces)", "mitigated (namespaces)", "mitigated (namespaces)", "mitigated (namespaces)", "exposed"},
	"CVE-2016-0728":    {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2017-5123":    {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2017-17053":   {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2015-3290":    {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2014-4699":    {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2019-13272":   {"mitigated (no-new-privs)", "mitigated (no-new-privs)", "exposed", "exposed", "exposed"},
	"CVE-2017-16995":   {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2013-2094":    {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2024-0582":    {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2017-15126":   {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2019-18683":   {"mitigated (device-cgroup)", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2016-3134":    {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2022-34918":   {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2023-3609":    {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2023-4207":    {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2021-26708":   {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2021-0920":    {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2017-1000112": {nfRootful, nfRootless, "exposed", "exposed", "exposed"},
	"CVE-2021-4154":    {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2015-1328":    {"mitigated (seccomp, no-new-privs)", "mitigated (seccomp, no-new-privs)", "exposed", "exposed", "exposed"},
	"release-agent":    {"mitigated (seccomp, capabilities)", "mitigated (seccomp, capabilities, user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2018-18955":   {"mitigated (seccomp)", "mitigated (seccomp)", "exposed", "exposed", "exposed"},
	"CVE-2016-9962":    {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2019-16884":   {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2019-19921":   {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2021-30465":   {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2018-15664":   {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2022-29162":   {"mitigated (no-new-privs)", "mitigated (no-new-privs)", "exposed", "exposed", "exposed"},
	"CVE-2022-24769":   {"mitigated (no-new-privs)", "mitigated (no-new-privs)", "exposed", "exposed", "exposed"},
	"CVE-2014-9357":    {"exposed", "exposed", "exposed", "exposed", "exposed"},
	"CVE-2025-31133":   {"exposed", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2025-52565":   {"exposed", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
	"CVE-2025-52881":   {"exposed", "mitigated (user-namespace)", "exposed", "mitigated (user-namespace)", "exposed"},
}

// The flaws that need CAP_NET_ADMIN over a network namespace (netfilter, traffic
// control, UDP offload): the default sandboxes lack it, and seccomp stops them
// from creating a user namespace to get it; either layer alone is not enough.
const (
	nfRootful  = "mitigated (seccomp+capabilities)"
	nfRootless = "mitigated (seccomp+capabilities, seccomp+user-namespace)"
)

func TestPresetMatrix(t *testing.T) {
	presets := Presets()
	flaws := Catalogue()
	if len(flaws) != len(wantMatrix) {
		t.Errorf("catalogue has %d flaws, the expected matrix %d", len(flaws), len(wantMatrix))
	}
	for _, f := range flaws {
		want, ok := wantMatrix[f.ID]
		if !ok {
			t.Errorf("%s: no expected verdicts", f.ID)
			continue
		}
		for i, m := range presets {
			v := Evaluate(m, f)
			if got := v.String(); got != want[i] {
				t.Errorf("%s on %s: got %q, want %q\n%s", f.ID, m.Name, got, want[i], strings.Join(v.Steps, "\n"))
			}
			checkReasoning(t, m, f, v)
		}
	}
}

// checkReasoning holds the steps to the verdict: an exposed verdict names no
// stopping layer and ends saying so; a mitigated one names each blocker as a
// layer that stops a step, and ends with the blocker summary.
func checkReasoning(t *testing.T, m Mechanisms, f Flaw, v Verdict) {
	t.Helper()
	all := strings.Join(v.Steps, "\n")
	if len(v.Steps) < 2 {
		t.Errorf("%s on %s: too few steps: %q", f.ID, m.Name, v.Steps)
		return
	}
	last := v.Steps[len(v.Steps)-1]
	if v.Exposed {
		if strings.Contains(all, "stops it") || strings.Contains(all, " stop it") {
			t.Errorf("%s on %s: exposed but a step says a layer stops it:\n%s", f.ID, m.Name, all)
		}
		if !strings.Contains(last, "reachable") {
			t.Errorf("%s on %s: last step %q", f.ID, m.Name, last)
		}
		return
	}
	if !strings.Contains(all, "stops") && !strings.Contains(all, " stop it") {
		t.Errorf("%s on %s: mitigated but no step says what stops it:\n%s", f.ID, m.Name, all)
	}
	for _, b := range v.Blockers {
		if !strings.Contains(all, "["+string(b)+"]") {
			t.Errorf("%s on %s: blocker %s not named in the steps:\n%s", f.ID, m.Name, b, all)
		}
	}
	// A pair blocks in a world where everything else is removed; the actual
	// evaluation may stop the flaw through the other member's route, so at least
	// one member of each pair must be named.
	for _, p := range v.Combinations {
		if !strings.Contains(all, "["+string(p[0])+"]") && !strings.Contains(all, "["+string(p[1])+"]") {
			t.Errorf("%s on %s: neither layer of pair %v named in the steps:\n%s", f.ID, m.Name, p, all)
		}
	}
}

// exposedSet returns the IDs of the catalogue flaws m is exposed to.
func exposedSet(m Mechanisms) map[string]bool {
	out := map[string]bool{}
	for _, f := range Catalogue() {
		if Evaluate(m, f).Exposed {
			out[f.ID] = true
		}
	}
	return out
}

// changed returns the sorted IDs whose exposure differs between a and b.
func changed(a, b map[string]bool) []string {
	var out []string
	for _, f := range Catalogue() {
		if a[f.ID] != b[f.ID] {
			out = append(out, f.ID)
		}
	}
	sort.Strings(out)
	return out
}

func sorted(ids ...string) []string { sort.Strings(ids); return ids }

// netfilterFlaws are the flaws that need CAP_NET_ADMIN over a network namespace.
var netfilterFlaws = []string{"CVE-2022-25636", "CVE-2024-1086", "CVE-2022-2588",
	"CVE-2016-3134", "CVE-2022-34918", "CVE-2023-3609", "CVE-2023-4207", "CVE-2017-1000112"}

// withRule compiles Docker's profile for set s with rule r in front.
func withRule(t *testing.T, s caps.Set, r seccomp.Rule) *seccomp.Filter {
	t.Helper()
	p := seccomp.Default(s.Names())
	p.Syscalls = append([]seccomp.Rule{r}, p.Syscalls...)
	f, err := seccomp.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOneMechanismChanges(t *testing.T) {
	base := RootfulDefault()
	before := exposedSet(base)

	t.Run("allow unshare", func(t *testing.T) {
		// The sandbox can now create a user namespace with a network namespace, and
		// holds CAP_NET_ADMIN there: the netfilter flaws open. So does the nested
		// ID map, which its CAP_SETUID in the initial user namespace can write.
		// Mount-based flaws stay closed (mount and fsopen are still refused), so
		// does the i386-only x_tables flaw (foreign architectures are killed).
		m := RootfulDefault()
		m.Seccomp = withRule(t, m.Bounding, seccomp.Rule{Names: []string{"unshare"}, Action: seccomp.ActAllow})
		got := changed(before, exposedSet(m))
		if want := sorted(append([]string{"CVE-2018-18955"}, netfilterFlaws...)...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
		v := Evaluate(m, flawByID(t, "CVE-2024-1086"))
		if !strings.Contains(strings.Join(v.Steps, "\n"), "unshare(arg0=CLONE_NEWUSER|CLONE_NEWNET) is allowed") {
			t.Errorf("steps do not show the new user namespace:\n%s", strings.Join(v.Steps, "\n"))
		}
	})

	t.Run("add CAP_NET_ADMIN", func(t *testing.T) {
		m := RootfulDefault()
		m.Bounding = m.Bounding.Add(caps.NetAdmin)
		m.Effective, m.Permitted = m.Bounding, m.Bounding
		m.Seccomp = compileDefault(m.Bounding)
		got := changed(before, exposedSet(m))
		if want := sorted(netfilterFlaws...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})

	t.Run("add CAP_NET_ADMIN rootless", func(t *testing.T) {
		// Rootless holds it over its own network namespace: same flaws.
		m := RootlessDefault()
		before := exposedSet(m)
		m.Bounding = m.Bounding.Add(caps.NetAdmin)
		m.Effective, m.Permitted = m.Bounding, m.Bounding
		m.Seccomp = compileDefault(m.Bounding)
		got := changed(before, exposedSet(m))
		if want := sorted(netfilterFlaws...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})

	t.Run("drop the powercap mask", func(t *testing.T) {
		m := RootfulDefault()
		m.Masked = nil
		for _, p := range mounts.DefaultMasked {
			if p != "/sys/devices/virtual/powercap" {
				m.Masked = append(m.Masked, p)
			}
		}
		got := changed(before, exposedSet(m))
		if want := []string{"CVE-2020-8694"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})

	t.Run("drop read-only paths with CAP_SYS_ADMIN in the initial namespace", func(t *testing.T) {
		// core_pattern is stopped by the missing capability; read-only /proc/sys alone
		// would not stop root with CAP_SYS_ADMIN, who may remount it.
		m := RootfulDefault()
		m.ReadOnly = nil
		if got := changed(before, exposedSet(m)); len(got) != 0 {
			t.Errorf("changed %v, want none", got)
		}
	})

	t.Run("SELinux container_t", func(t *testing.T) {
		m := RootfulDefault()
		m.SELinux = SELinux{Enabled: true, Type: "container_t"}
		got := changed(before, exposedSet(m))
		// The runc flaws that need a host descriptor or a host file: container_t may
		// not use them. The runc exec ptrace flaw is among them (Red Hat's analysis).
		if want := sorted("CVE-2019-5736", "CVE-2024-21626", "CVE-2016-9962"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
		v := Evaluate(m, flawByID(t, "CVE-2019-5736"))
		if v.String() != "mitigated (selinux)" {
			t.Errorf("CVE-2019-5736 under container_t: %s", v)
		}
	})

	t.Run("no_new_privs off", func(t *testing.T) {
		m := RootfulDefault()
		m.NoNewPrivs = false
		// Seccomp still stops the gain-on-exec flaws that need a mount or a user
		// namespace; those that need only ptrace(PTRACE_TRACEME) or an execve of a
		// program with inheritable file capabilities have no other layer.
		if got, want := changed(before, exposedSet(m)), sorted("CVE-2019-13272", "CVE-2022-24769", "CVE-2022-29162"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
		v := Evaluate(m, flawByID(t, "CVE-2021-3493"))
		if v.String() != "mitigated (seccomp)" {
			t.Errorf("CVE-2021-3493 without no_new_privs: %s", v)
		}
	})

	t.Run("fixed kernel", func(t *testing.T) {
		m := RootfulDefault()
		m.Kernel = "6.18.0"
		after := exposedSet(m)
		for _, f := range Catalogue() {
			wantFlip := before[f.ID] && f.Kind == "kernel" && len(f.Versions.Fixed) > 0
			if got := before[f.ID] != after[f.ID]; got != wantFlip {
				t.Errorf("%s: flipped %v, want %v", f.ID, got, wantFlip)
			}
			if wantFlip {
				if v := Evaluate(m, f); v.String() != "mitigated (kernel-version)" {
					t.Errorf("%s on 6.18: %s", f.ID, v)
				}
			}
		}
	})

	t.Run("Landlock", func(t *testing.T) {
		m := RootfulDefault()
		m.Landlock = nil
		v := Evaluate(m, flawByID(t, "CVE-2016-5195"))
		if !v.Exposed {
			t.Fatalf("Dirty COW: %s", v)
		}
	})
}

func flawByID(t *testing.T, id string) Flaw {
	t.Helper()
	for _, f := range Catalogue() {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no flaw %s", id)
	return Flaw{}
}

func TestLandlockStopsPathsAndMounts(t *testing.T) {
	m := PrivilegedRootful()
	m.Landlock = landlockRules("/usr", "/tmp")
	if v := Evaluate(m, flawByID(t, "CVE-2016-5195")); v.Exposed || v.String() != "mitigated (landlock)" {
		t.Errorf("Dirty COW under Landlock: %s", v)
	}
	// A flaw with no path need is not Landlock's business.
	if v := Evaluate(m, flawByID(t, "CVE-2022-0847")); !v.Exposed {
		t.Errorf("Dirty Pipe under Landlock: %s", v)
	}
}

// Hand-assembled filters that leave the i386 ABI open show the evaluator asks the
// filter about every ABI, as the kernel would run it.
func bpfStmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
func bpfJump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
}

// denyNativeSocket is a deny-list: native socket() fails with EPERM, everything
// else (every other ABI included) is allowed.
func denyNativeSocket() *seccomp.Filter {
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
	)
	prog := []unix.SockFilter{
		bpfStmt(ld, 4), // arch
		bpfJump(jeq, AuditArchX8664, 0, 3),
		bpfStmt(ld, 0), // nr
		bpfJump(jeq, unix.SYS_SOCKET, 0, 1),
		bpfStmt(ret, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)),
		bpfStmt(ret, unix.SECCOMP_RET_ALLOW),
	}
	return &seccomp.Filter{Program: prog}
}

func TestForeignABIs(t *testing.T) {
	m := RootfulDefault()
	m.Seccomp = denyNativeSocket()
	f := flawByID(t, "CVE-2020-14386")
	v := Evaluate(m, f)
	if !v.Exposed {
		t.Fatalf("AF_PACKET with native socket denied but i386 open: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	if all := strings.Join(v.Steps, "\n"); !strings.Contains(all, "x86_64: errno 1; i386: allow") {
		t.Errorf("steps do not show the i386 route:\n%s", all)
	}

	// The compiled default kills every foreign ABI: the i386-only flaw is out of reach
	// even with no other layer.
	v = Evaluate(RootfulDefault(), flawByID(t, "CVE-2021-22555"))
	if all := strings.Join(v.Steps, "\n"); !strings.Contains(all, "i386: kill_process") {
		t.Errorf("steps do not show the i386 kill:\n%s", all)
	}
}

func TestSocketcall(t *testing.T) {
	// A filter that denies native socket and i386 socket(359) but leaves i386
	// socketcall open: the family is invisible to it.
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
	)
	prog := []unix.SockFilter{
		bpfStmt(ld, 0),
		bpfJump(jeq, unix.SYS_SOCKET, 2, 0), // 41 native
		bpfJump(jeq, 359, 1, 0),             // i386 socket
		bpfStmt(ret, unix.SECCOMP_RET_ALLOW),
		bpfStmt(ret, unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)),
	}
	m := RootfulDefault()
	m.Seccomp = &seccomp.Filter{Program: prog}
	v := Evaluate(m, flawByID(t, "CVE-2020-14386"))
	if !v.Exposed {
		t.Fatalf("socketcall route missed: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	if all := strings.Join(v.Steps, "\n"); !strings.Contains(all, "i386 socketcall: allow") {
		t.Errorf("steps do not show socketcall:\n%s", all)
	}
}

func TestCapabilityScopes(t *testing.T) {
	// Privileged rootless holds CAP_DAC_READ_SEARCH only in its own user namespace:
	// open_by_handle_at checks the initial one.
	v := Evaluate(PrivilegedRootless(), flawByID(t, "shocker"))
	if v.Exposed || !strings.Contains(strings.Join(v.Steps, "\n"), "only in its own user namespace") {
		t.Errorf("shocker rootless privileged: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	// Rootless with a host network namespace: CAP_NET_RAW of its user namespace does
	// not reach the host's network namespace, and seccomp forbids a new one.
	m := RootlessDefault()
	m.Namespaces["net"] = "host"
	v = Evaluate(m, flawByID(t, "CVE-2020-14386"))
	if v.Exposed {
		t.Errorf("AF_PACKET rootless with host net: %s", v)
	}
	// Unconfined, it can create its own user and network namespaces.
	m.Seccomp = nil
	if v = Evaluate(m, flawByID(t, "CVE-2020-14386")); !v.Exposed {
		t.Errorf("AF_PACKET rootless unconfined with host net: %s", v)
	}
}

func TestMaskUndoneWithSysAdmin(t *testing.T) {
	m := RootfulDefault()
	m.Bounding = m.Bounding.Add(caps.SysAdmin)
	m.Effective, m.Permitted = m.Bounding, m.Bounding
	m.Seccomp = compileDefault(m.Bounding)
	v := Evaluate(m, flawByID(t, "CVE-2020-8694"))
	if !v.Exposed || !strings.Contains(strings.Join(v.Steps, "\n"), "may unmount the mask") {
		t.Errorf("powercap with CAP_SYS_ADMIN: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
}

// TestI386GateClosed checks that a flaw reachable only through the i386 gate is
// stopped by the kernel itself where the gate is closed: without IA32 emulation no
// i386 call reaches the kernel, with a seccomp filter or without one.
func TestI386GateClosed(t *testing.T) {
	f := flawByID(t, "CVE-2021-22555")
	for _, c := range []struct {
		name string
		m    Mechanisms
	}{{"privileged", PrivilegedRootful()}, {"rootful", RootfulDefault()}, {"rootless", RootlessDefault()}} {
		t.Run(c.name, func(t *testing.T) {
			m := c.m
			m.Kernel = "5.10.0" // in the flaw's range
			open := Evaluate(m, f)
			m.I386 = seccomp.I386NoEmulation
			closed := Evaluate(m, f)
			if closed.Exposed {
				t.Fatalf("exposed with the i386 gate closed: %v", closed.Steps)
			}
			if open.Exposed && !slices.Contains(closed.Blockers, LayerKernelConfig) {
				t.Errorf("exposed with the gate open, but the closed gate is not a blocker: %v %v", closed.Blockers, closed.Steps)
			}
			if !strings.Contains(strings.Join(closed.Steps, " "), string(seccomp.I386NoEmulation)) {
				t.Errorf("the reasons do not say why the gate is closed: %v", closed.Steps)
			}
			// The i386-only calls are refused by the kernel, not by the filter;
			// with the gate open, a filter that refuses them is named instead.
			if !slices.ContainsFunc(closed.Steps, func(s string) bool {
				return strings.HasPrefix(s, "The kernel refuses socket(") && strings.HasSuffix(s, "[kernel-config] stops it.")
			}) {
				t.Errorf("the i386-only calls are not said to be refused by the kernel: %v", closed.Steps)
			}
			if m.Seccomp != nil && !slices.ContainsFunc(open.Steps, func(s string) bool {
				return strings.HasPrefix(s, "Seccomp refuses socket(") && strings.HasSuffix(s, "[seccomp] stops it.")
			}) {
				t.Errorf("with the gate open, the filter is not named: %v", open.Steps)
			}
		})
	}
	if !Evaluate(PrivilegedRootful(), f).Exposed {
		t.Error("a privileged sandbox with the gate open and an unknown kernel should be exposed")
	}
}
