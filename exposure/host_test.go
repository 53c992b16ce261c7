package exposure

import (
	"slices"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

// judge evaluates flaw id on m with host settings h.
func judge(t *testing.T, m Mechanisms, h *HostFacts, id string) Verdict {
	t.Helper()
	m.Host = h
	return Evaluate(m, flawByID(t, id))
}

func wantClosedByConfig(t *testing.T, v Verdict, words string) {
	t.Helper()
	if v.Exposed {
		t.Fatalf("%s: exposed: %s", v.Flaw, strings.Join(v.Steps, "\n"))
	}
	if !strings.Contains(strings.Join(v.Steps, "\n"), words) {
		t.Errorf("%s: the reasons do not name %q:\n%s", v.Flaw, words, strings.Join(v.Steps, "\n"))
	}
}

// TestHostSettingsClose checks the sysctls that close flaws whatever the filter:
// unprivileged bpf, io_uring and user namespace creation.
func TestHostSettingsClose(t *testing.T) {
	t.Run("unprivileged_bpf_disabled", func(t *testing.T) {
		h := &HostFacts{UnprivilegedBPFDisabled: intp(2)}
		// Every capability, but in its own user namespace: the sysctl wants
		// CAP_BPF or CAP_SYS_ADMIN in the initial one.
		wantClosedByConfig(t, judge(t, PrivilegedRootless(), h, "CVE-2021-3490"), "kernel.unprivileged_bpf_disabled is 2")
		if v := judge(t, PrivilegedRootful(), h, "CVE-2021-3490"); !v.Exposed {
			t.Errorf("CAP_SYS_ADMIN in the initial user namespace passes the sysctl: %s", v)
		}
		if v := judge(t, PrivilegedRootless(), &HostFacts{UnprivilegedBPFDisabled: intp(0)}, "CVE-2021-3490"); !v.Exposed {
			t.Errorf("with unprivileged bpf allowed: %s", v)
		}
	})
	t.Run("io_uring_disabled", func(t *testing.T) {
		v := judge(t, PrivilegedRootful(), &HostFacts{IOURingDisabled: intp(2)}, "CVE-2021-41073")
		wantClosedByConfig(t, v, "kernel.io_uring_disabled is 2")
		if !slices.Contains(v.Blockers, LayerKernelConfig) {
			t.Errorf("io_uring_disabled=2 stops it on its own: blockers %v", v.Blockers)
		}
		one := &HostFacts{IOURingDisabled: intp(1), IOURingGroup: intp(-1)}
		if v := judge(t, PrivilegedRootful(), one, "CVE-2021-41073"); !v.Exposed {
			t.Errorf("io_uring_disabled=1 with CAP_SYS_ADMIN in the initial user namespace: %s", v)
		}
		wantClosedByConfig(t, judge(t, PrivilegedRootless(), one, "CVE-2021-41073"), "kernel.io_uring_disabled is 1")
	})
	t.Run("user namespaces", func(t *testing.T) {
		// No capability and no filter: only a new user namespace gives CAP_NET_ADMIN.
		var m Mechanisms
		if v := judge(t, m, nil, "CVE-2024-1086"); !v.Exposed {
			t.Fatalf("unconfined process: %s", v)
		}
		v := judge(t, m, &HostFacts{MaxUserNamespaces: intp(0)}, "CVE-2024-1086")
		wantClosedByConfig(t, v, "user.max_user_namespaces is 0")
		// The sandbox's own capabilities would do without a user namespace: the
		// setting stops it together with the capability layer.
		if !slices.ContainsFunc(v.Combinations, func(p []Layer) bool { return slices.Equal(p, []Layer{LayerCapabilities, LayerKernelConfig}) }) {
			t.Errorf("combinations %v", v.Combinations)
		}
		wantClosedByConfig(t, judge(t, m, &HostFacts{UnprivilegedUsernsClone: intp(0)}, "CVE-2024-1086"), "kernel.unprivileged_userns_clone is 0")
	})
}

func TestDistribution(t *testing.T) {
	for _, c := range []struct{ release, version, want string }{
		{"6.1.0-18-amd64", "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) ... Debian 6.1.76-1", "Debian"},
		{"5.15.0-91-generic", "", "Ubuntu"},
		{"4.18.0-513.el8.x86_64", "", "Red Hat"},
		{"6.5.6-300.fc39.x86_64", "", "Fedora"},
		{"6.18.3", "", ""},
		{"6.18.44-fc-v1272", "Linux version 6.18.44-fc-v1272 (builder@sandboxing) (gcc (GCC) 15.3.0)", ""},
	} {
		if got := Distribution(c.release, c.version); got != c.want {
			t.Errorf("Distribution(%q) = %q, want %q", c.release, got, c.want)
		}
	}
}

// TestVersionDependent checks that a distribution's kernel whose base release
// lies in the affected range is judged version-dependent, not fixed nor plainly
// affected, and that bases outside the range still count.
func TestVersionDependent(t *testing.T) {
	f := flawByID(t, "CVE-2022-0847") // from 5.8 up to 5.17, stable 5.10.102
	m := PrivilegedRootful()
	m.Kernel = "5.10.0-18-amd64"
	v := Evaluate(m, f)
	if !v.Exposed || !v.VersionDependent || v.String() != "exposed (version-dependent)" {
		t.Errorf("Debian 5.10: %s (version-dependent %v)\n%s", v, v.VersionDependent, strings.Join(v.Steps, "\n"))
	}
	m.Kernel = "5.10.0" // an upstream build: the stable backport says affected
	if v := Evaluate(m, f); !v.Exposed || v.VersionDependent {
		t.Errorf("upstream 5.10.0: %s", v)
	}
	m.Kernel = "5.10.200" // upstream stable with the backport
	if v := Evaluate(m, f); v.Exposed {
		t.Errorf("upstream 5.10.200: %s", v)
	}
	m.Kernel = "6.1.0-18-amd64" // based on a release after the mainline fix
	if v := Evaluate(m, f); v.Exposed || v.VersionDependent || !slices.Contains(v.Blockers, LayerKernelVersion) {
		t.Errorf("Debian 6.1: %s", v)
	}
}

// TestWorldDevices checks that a sandbox seeing the host's /dev from its own user
// namespace opens only the nodes the host leaves open to every user.
func TestWorldDevices(t *testing.T) {
	m := PrivilegedRootless()
	if v := judge(t, m, &HostFacts{WorldDevices: []string{"/dev/null", "/dev/fuse"}}, "CVE-2023-0386"); !v.Exposed {
		t.Errorf("/dev/fuse 0666: %s\n%s", v, strings.Join(v.Steps, "\n"))
	}
	wantClosedByConfig(t, judge(t, m, &HostFacts{WorldDevices: []string{"/dev/null"}}, "CVE-2023-0386"), "not on this host")
}

// TestReadHost checks the host's facts as this kernel shows them.
func TestReadHost(t *testing.T) {
	h := ReadHost()
	if h.Release == "" || h.IA32 == "" {
		t.Errorf("release %q, i386 gate %q", h.Release, h.IA32)
	}
	if h.MaxUserNamespaces == nil || h.PerfEventParanoid == nil {
		t.Errorf("sysctls present on every kernel are missing: %+v", h)
	}
	if h.WorldDevices == nil || !slices.Contains(h.WorldDevices, "/dev/null") {
		t.Errorf("world-open devices %v lack /dev/null", h.WorldDevices)
	}
	if h.LSMs == nil {
		t.Skip("neither securityfs nor lsm_list_modules (Linux 6.8) shows the LSMs")
	}
	if !slices.Contains(h.LSMs, "capability") {
		t.Errorf("LSMs %v lack capability", h.LSMs)
	}
}

// TestNestedIDMap checks CVE-2018-18955's nested map of six IDs: it needs
// CAP_SETUID or CAP_SETGID over a user namespace that maps them, held or raised
// by a setuid helper, and a user namespace created without any capability.
func TestNestedIDMap(t *testing.T) {
	const id = "CVE-2018-18955"
	rootless := RootlessDefault()
	rootless.Seccomp = nil
	if v := judge(t, rootless, nil, id); !v.Exposed {
		t.Errorf("CAP_SETUID over 65536 IDs, no filter: %s", v)
	}
	rootless.MappedUIDs = 1
	wantClosedByConfig(t, judge(t, rootless, nil, id), "maps only 1 of the 6 IDs")
	rootful := RootfulDefault()
	rootful.Seccomp = nil
	if v := judge(t, rootful, nil, id); !v.Exposed {
		t.Errorf("CAP_SETUID in the initial user namespace, no_new_privs on: %s", v)
	}
	rootful.Effective, rootful.Permitted = 0, 0
	wantClosedByConfig(t, judge(t, rootful, nil, id), "does not hold")
	rootful.NoNewPrivs = false
	if v := judge(t, rootful, nil, id); !v.Exposed {
		t.Errorf("newuidmap raises CAP_SETUID with no_new_privs off: %s", v)
	}
	wantClosedByConfig(t, judge(t, rootful, &HostFacts{MaxUserNamespaces: intp(0)}, id), "user.max_user_namespaces is 0")
}
