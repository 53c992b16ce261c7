package exposure

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

func TestParseKernelConfig(t *testing.T) {
	got := ParseKernelConfig(strings.NewReader("#\n# Automatically generated\nCONFIG_NET_CLS_U32=y\nCONFIG_NET_CLS_FW=m\n# CONFIG_NET_CLS_ROUTE4 is not set\nCONFIG_LOCALVERSION=\"-x\"\n\n"))
	want := map[string]string{"CONFIG_NET_CLS_U32": "y", "CONFIG_NET_CLS_FW": "m", "CONFIG_NET_CLS_ROUTE4": "n", "CONFIG_LOCALVERSION": `"-x"`}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestKernelCodeState(t *testing.T) {
	u32 := KernelNeed{Config: "CONFIG_NET_CLS_U32", Module: "cls_u32"}
	fw := KernelNeed{Config: "CONFIG_NET_CLS_FW", Module: "cls_fw"}
	for _, c := range []struct {
		name string
		k    *KernelCode
		n    KernelNeed
		want string
	}{
		{"unknown kernel", nil, u32, ""},
		{"built in", &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_U32": "y"}}, u32, "y"},
		{"module", &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_U32": "m"}}, u32, "m"},
		{"module, loading disabled", &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_U32": "m"}, ModulesDisabled: true}, u32, "n"},
		{"module loaded, loading disabled", &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_U32": "m"}, Modules: map[string]string{"cls_u32": "loaded"}, ModulesDisabled: true}, u32, "y"},
		{"not set", &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_FW": "n"}}, fw, "n"},
		{"not named by a known configuration", &KernelCode{Config: map[string]string{}}, fw, "n"},
		{"only modules.dep", &KernelCode{Modules: map[string]string{"cls_fw": "loadable"}}, fw, "m"},
		{"only modules.builtin", &KernelCode{Modules: map[string]string{"cls_fw": "builtin"}}, fw, "y"},
		{"absent from complete module lists", &KernelCode{Modules: map[string]string{"cls_u32": "builtin"}, ModulesListed: true}, fw, "n"},
		{"absent from partial module lists", &KernelCode{Modules: map[string]string{"cls_u32": "loaded"}}, fw, ""},
		{"bool option, lists only", &KernelCode{Modules: map[string]string{}, ModulesListed: true}, KernelNeed{Config: "CONFIG_IO_URING"}, ""},
	} {
		if got, why := c.k.state(c.n); got != c.want || (got != "" && why == "") {
			t.Errorf("%s: state %q (%s), want %q", c.name, got, why, c.want)
		}
	}
}

// TestKernelConfigVerdict checks that a kernel built without a flaw's code
// closes it as the kernel-config layer, and that an unknown kernel names the
// code it needs without closing it.
func TestKernelConfigVerdict(t *testing.T) {
	fw := flawByID(t, "CVE-2023-4207")
	m := PrivilegedRootful()
	v := Evaluate(m, fw)
	if !v.Exposed || !hasStep(v, "needs CONFIG_NET_CLS_FW (module cls_fw); whether this kernel has it is unknown") {
		t.Errorf("unknown kernel: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	m.KernelCode = &KernelCode{Config: map[string]string{"CONFIG_NET_CLS_U32": "y", "CONFIG_NET_CLS_FW": "n"}}
	v = Evaluate(m, fw)
	if v.String() != "mitigated (kernel-config)" || !hasStep(v, "CONFIG_NET_CLS_FW is not set") {
		t.Errorf("kernel without cls_fw: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	if v := Evaluate(m, flawByID(t, "CVE-2023-3609")); !v.Exposed || !hasStep(v, "built in (CONFIG_NET_CLS_U32=y)") {
		t.Errorf("kernel with cls_u32: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	// The default sandbox already stops it; the missing classifier is one more
	// layer that does so on its own.
	m = RootfulDefault()
	m.KernelCode = &KernelCode{Config: map[string]string{}}
	if v := Evaluate(m, fw); v.String() != "mitigated (kernel-config)" {
		t.Errorf("default sandbox, kernel without cls_fw: %s", v)
	}
}

// TestTriggersReported checks that a runtime flaw says what must happen outside
// the sandbox, and that no layer is credited with stopping it.
func TestTriggersReported(t *testing.T) {
	for id, words := range map[string]string{
		"CVE-2018-15664": "copies files into or out of the sandbox through the engine (cp)",
		"CVE-2022-29162": "runs a process in the sandbox through the runtime (exec)",
		"CVE-2019-19921": "runs an image the attacker supplied, and a volume shared with another sandbox",
		"CVE-2014-9357":  "unpacks an image the attacker supplied",
	} {
		for _, m := range Presets() {
			v := Evaluate(m, flawByID(t, id))
			if !hasStep(v, words) || !hasStep(v, "none of its layers stands") {
				t.Errorf("%s on %s: the steps do not say %q\n%s", id, m.Name, words, strings.Join(v.Steps, "\n"))
			}
		}
	}
}

func hasStep(v Verdict, s string) bool {
	for _, st := range v.Steps {
		if strings.Contains(st, s) {
			return true
		}
	}
	return false
}

func TestValidateConditions(t *testing.T) {
	for _, c := range []struct {
		json, field string
	}{
		{`{"id": "x", "kind": "kernel", "kernelConfig": [{"config": "NET_CLS_U32"}], "sources": ["man:tc(8)"]}`, "kernelConfig[0].config"},
		{`{"id": "x", "kind": "kernel", "kernelConfig": [{"config": "CONFIG_NET_CLS_U32", "module": "cls u32"}], "sources": ["man:tc(8)"]}`, "kernelConfig[0].module"},
		{`{"id": "x", "kind": "runtime", "triggers": ["attach"], "sources": ["man:tc(8)"]}`, "triggers[0]"},
		{`{"id": "x", "kind": "kernel", "triggers": ["exec"], "sources": ["man:tc(8)"]}`, "triggers[0]"},
	} {
		_, err := ParseJSON([]byte(`{"flaws": [` + c.json + `]}`))
		var fe *FlawError
		if !errors.Is(err, ErrInvalidFlaw) || !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%s: got %v, want an invalid-flaw error for %s", c.json, err, c.field)
		}
	}
}

// TestReadKernelCodeHost reads this host's kernel build and checks it against
// the kernel itself: a socket family, or a system call, that is not built
// answers EAFNOSUPPORT or ENOSYS before any permission check, for root and for
// uid 65534 alike.
func TestReadKernelCodeHost(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if b, err := os.ReadFile("/proc/self/status"); err != nil || !strings.Contains(string(b), "Seccomp:\t0") {
			t.Skipf("a seccomp filter on the test could answer ENOSYS itself")
		}
		k := ReadKernelCode(inspect.KernelRelease())
		if k == nil {
			t.Skipf("kernel configuration: none of /proc/config.gz, /boot/config-%s, /sys/module, modules.builtin is readable", inspect.KernelRelease())
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
		if err == nil {
			unix.Close(fd)
		}
		check(t, k, KernelNeed{Config: "CONFIG_PACKET", Module: "af_packet"}, err == unix.EAFNOSUPPORT, err)
		_, _, errno := unix.Syscall(unix.SYS_BPF, ^uintptr(0), 0, 0)
		check(t, k, KernelNeed{Config: "CONFIG_BPF_SYSCALL"}, errno == unix.ENOSYS, errno)
		_, _, errno = unix.Syscall(unix.SYS_IO_URING_SETUP, 0, 0, 0)
		check(t, k, KernelNeed{Config: "CONFIG_IO_URING"}, errno == unix.ENOSYS, errno)
	})
}

// check compares what ReadKernelCode says of n with what the kernel answered.
func check(t *testing.T, k *KernelCode, n KernelNeed, absent bool, answer error) {
	t.Helper()
	st, why := k.state(n)
	switch {
	case st == "":
		t.Logf("%s: unknown from the host's files; the kernel answered %v", n.Config, answer)
	case absent != (st == "n"):
		t.Errorf("%s: ReadKernelCode says %q (%s), but the kernel answered %v", n.Config, st, why, answer)
	default:
		t.Logf("%s: %s; the kernel answered %v", n.Config, why, answer)
	}
}

// TestFromSpecKernelCode checks, as root and as uid 65534, that a Spec judged on
// this host gets the running kernel's build, and that a Plan made for another
// kernel gets none.
func TestFromSpecKernelCode(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		host := ReadKernelCode(inspect.KernelRelease())
		if host == nil {
			t.Skipf("kernel configuration: nothing readable for %s", inspect.KernelRelease())
		}
		s := sandbox.NewBuilder(sandbox.Rootless()).Spec()
		m, err := FromSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		if m.KernelCode == nil || len(m.KernelCode.Config) != len(host.Config) || len(m.KernelCode.Modules) != len(host.Modules) {
			t.Errorf("FromSpec: kernel code %+v, the host's has %d options and %d modules", m.KernelCode, len(host.Config), len(host.Modules))
		}
		p, err := s.Plan()
		if err != nil {
			t.Fatal(err)
		}
		p.Kernel = "4.4.0-other"
		if m, err := FromPlan(p); err != nil || m.KernelCode != nil {
			t.Errorf("a Plan for another kernel: kernel code %+v, err %v", m.KernelCode, err)
		}
	})
}
