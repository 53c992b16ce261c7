package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestSysctl: a sysctl of the sandbox's new network namespace is set inside,
// as Podman sets net.ipv4.ping_group_range, and the host's stays as it was.
func TestSysctl(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		const file = "/proc/sys/net/ipv4/ping_group_range"
		host, err := os.ReadFile(file)
		if err != nil {
			t.Skipf("net.ipv4.ping_group_range: %v", err)
		}
		out, st := run(t, []sandbox.Option{sandbox.WithSysctl("net.ipv4.ping_group_range", "0 0"),
			sandbox.WithSysctl("net/ipv4/ip_unprivileged_port_start", "80")},
			"/bin/sh", "-c", "cat "+file+" /proc/sys/net/ipv4/ip_unprivileged_port_start")
		if f := strings.Fields(out); !st.Success() || len(f) != 3 || f[0] != "0" || f[1] != "0" || f[2] != "80" {
			t.Fatalf("inside: %v %q", st, out)
		}
		if after, _ := os.ReadFile(file); string(after) != string(host) {
			t.Fatalf("the host's ping_group_range changed: %q, was %q", after, host)
		}
		// A value the kernel refuses fails the start, naming the sysctl.
		tpl, err := sandbox.NewBuilder(sandbox.WithSysctl("net.ipv4.ping_group_range", "nonsense")).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		_, err = tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
		var ce *sandbox.ChildError
		if !errors.As(err, &ce) || ce.Stage != "sysctl" || ce.Errno != syscall.EINVAL || !strings.Contains(err.Error(), "net.ipv4.ping_group_range") {
			t.Fatalf("a refused value: %v", err)
		}
		// The Plan shows it.
		p, err := tpl.Spec().Plan()
		if err != nil {
			t.Fatal(err)
		}
		if sc := p.Process.Sysctl; len(sc) != 1 || sc[0].File != file || sc[0].Value != "nonsense" {
			t.Fatalf("the Plan's sysctls: %+v", sc)
		}
	})
}

// TestSysctlRefused: a sysctl of the whole host, one of a namespace the
// sandbox shares with the host, a bad name and a Spec without /proc are refused
// by Build, naming the field.
func TestSysctlRefused(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name  string
			opts  []sandbox.Option
			field string
			want  string
		}{
			{"host-wide", []sandbox.Option{sandbox.WithSysctl("kernel.panic", "1")}, "sysctl.kernel.panic", "whole host"},
			{"shared net", []sandbox.Option{sandbox.WithHostNamespaces(namespace.Net), sandbox.WithSysctl("net.ipv4.ping_group_range", "0 0")},
				"sysctl.net.ipv4.ping_group_range", "net namespace"},
			{"shared ipc", []sandbox.Option{sandbox.WithHostNamespaces(namespace.IPC), sandbox.WithSysctl("kernel.shmmax", "1000000")},
				"sysctl.kernel.shmmax", "ipc namespace"},
			{"dot-dot", []sandbox.Option{sandbox.WithSysctl("net/../kernel/panic", "1")}, "sysctl.net/../kernel/panic", "not a sysctl name"},
			{"no proc", []sandbox.Option{sandbox.WithoutRootfs(), sandbox.WithSysctl("net.ipv4.ping_group_range", "0 0")}, "sysctl", "no /proc"},
		} {
			_, err := sandbox.NewBuilder(c.opts...).Build()
			var se *sandbox.SpecError
			if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &se) || se.Field != c.field || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		// The kernel lets only the host's root write the uts sysctls.
		tpl, err := sandbox.NewBuilder(sandbox.WithSysctl("kernel.domainname", "dom")).Build()
		if testutil.Rootless() {
			var se *sandbox.SpecError
			if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &se) || se.Field != "sysctl.kernel.domainname" {
				t.Fatalf("kernel.domainname rootless: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("kernel.domainname: %v", err)
		}
		defer tpl.Close()
		if out, st := runTemplate(t, tpl, "/bin/cat", "/proc/sys/kernel/domainname"); !st.Success() || out != "dom\n" {
			t.Fatalf("kernel.domainname inside: %v %q", st, out)
		}
	})
}

// TestUmask: the target runs with the Spec's umask.
func TestUmask(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, []sandbox.Option{sandbox.WithUmask(0o077)}, "/bin/sh", "-c", "umask")
		if !st.Success() || strings.TrimSpace(out) != "0077" {
			t.Fatalf("umask inside: %v %q", st, out)
		}
	})
}

// TestPersonality: under LINUX32, uname -m says i686 on x86-64.
func TestPersonality(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, []sandbox.Option{sandbox.WithPersonality(sandbox.PersonalityLinux32)}, "/bin/uname", "-m")
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
		want := map[string]string{"x86_64": "i686", "aarch64": "armv8l"}[hostMachine(t)]
		if want == "" {
			t.Skipf("no 32-bit machine name known for %s", hostMachine(t))
		}
		if got := strings.TrimSpace(out); got != want {
			t.Fatalf("uname -m under LINUX32: %q, want %q", got, want)
		}
		_, err := sandbox.NewBuilder(sandbox.WithPersonality("BSD")).Build()
		if !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Fatalf("an unknown domain: %v", err)
		}
	})
}

func hostMachine(t *testing.T) string {
	b, err := os.ReadFile("/proc/sys/kernel/arch")
	if err == nil {
		return strings.TrimSpace(string(b))
	}
	t.Skipf("the host's machine name: %v", err)
	return ""
}

// TestOOMScoreAdj: a raised score is the target's; a lowered one is refused
// where the caller lacks CAP_SYS_RESOURCE (root on this host does).
func TestOOMScoreAdj(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		own := ownOOMScoreAdj(t)
		up := min(own+100, 1000)
		out, st := run(t, []sandbox.Option{sandbox.WithOOMScoreAdj(up)}, "/bin/cat", "/proc/self/oom_score_adj")
		if !st.Success() || strings.TrimSpace(out) != strconv.Itoa(up) {
			t.Fatalf("oom_score_adj inside: %v %q, want %d", st, out, up)
		}
		if own == -1000 {
			return
		}
		_, err := sandbox.NewBuilder(sandbox.WithOOMScoreAdj(own - 1)).Build()
		var se *sandbox.SpecError
		if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &se) || se.Field != "oomScoreAdj" {
			if err == nil && hasSysResource(t) {
				t.Skip("the caller has CAP_SYS_RESOURCE and no user namespace stands between")
			}
			t.Fatalf("a lowered score: %v", err)
		}
	})
}

func ownOOMScoreAdj(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func hasSysResource(t *testing.T) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			var eff uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &eff)
			return eff&(1<<24) != 0
		}
	}
	return false
}
