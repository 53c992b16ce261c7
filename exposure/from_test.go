package exposure

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// presetOptions are the sandbox presets standing for the reference Mechanisms
// of the same name.
var presetOptions = map[string][]sandbox.Option{
	"rootful":             {sandbox.Rootful()},
	"rootless":            {sandbox.Rootless()},
	"privileged":          {sandbox.Rootful(), sandbox.Privileged()},
	"privileged-rootless": {sandbox.Rootless(), sandbox.Privileged()},
	"super-privileged":    {sandbox.SuperPrivileged()},
}

// specDifferencesAsRoot are the verdicts in which FromSpec of a sandbox preset, built
// by root, deliberately differs from the reference Mechanisms, and why.
var specDifferencesAsRoot = map[string]map[string]string{
	"rootful":          {},
	"privileged":       {},
	"super-privileged": {},
	"rootless": {
		// A root caller's rootless sandbox maps root inside to a block of an
		// automatic range, as the reference's unprivileged caller (uid 1000) is
		// mapped: no difference there. Root can create a cgroup, so the rootless-style sandbox gets moby's
		// device rules too.
		"CVE-2023-0386":  "mitigated (seccomp, device-cgroup, no-new-privs)",
		"CVE-2019-18683": "mitigated (user-namespace, device-cgroup)",
	},
	"privileged-rootless": {
		// A Paddock privileged sandbox keeps its own minimal /dev, where Docker's
		// and Podman's bind the host's nodes: /dev/fuse is absent and cannot be
		// created in a user namespace.
		"CVE-2023-0386": "mitigated (user-namespace+namespaces)",
	},
}

// specDifferencesUnprivileged are the same for an unprivileged caller, who can
// build only the rootless presets. Without subordinate IDs of its own it maps
// only its own uid, where the reference maps a range of 65536: its CAP_SETUID
// cannot write the six-extent nested map CVE-2018-18955 needs.
var specDifferencesUnprivileged = map[string]map[string]string{
	"rootless": {"CVE-2018-18955": "mitigated (seccomp, user-namespace)"},
	"privileged-rootless": {
		"CVE-2023-0386":  "mitigated (user-namespace+namespaces)",
		"CVE-2018-18955": "mitigated (user-namespace)",
	},
}

// TestFromSpecPresets checks that FromSpec of each sandbox preset gives the
// verdicts of the reference Mechanisms for the whole catalogue, except for the
// documented differences, each of which must occur. The kernel (release and
// build) is left unknown on both sides so that the layers are compared, not this
// kernel's fixes or options.
func TestFromSpecPresets(t *testing.T) {
	diffs := specDifferencesAsRoot
	if unix.Geteuid() != 0 {
		diffs = specDifferencesUnprivileged
	}
	for _, ref := range Presets() {
		t.Run(ref.Name, func(t *testing.T) {
			want, ok := diffs[ref.Name]
			if !ok {
				t.Skipf("the %s preset is started by root; this caller is uid %d", ref.Name, unix.Geteuid())
			}
			s := sandbox.NewBuilder(presetOptions[ref.Name]...).Spec()
			m, err := FromSpec(s)
			if err != nil {
				t.Fatal(err)
			}
			anyKernel(&m)
			if m.MappedUIDs >= 6 {
				// A caller with subordinate IDs of its own maps a range, as
				// the reference does: no difference on the nested map.
				want = maps.Clone(want)
				delete(want, "CVE-2018-18955")
			}
			seen := map[string]bool{}
			m.KernelCode = nil
			for _, f := range Catalogue() {
				r, g := Evaluate(ref, f).String(), Evaluate(m, f).String()
				if w, ok := want[f.ID]; ok {
					seen[f.ID] = true
					if g != w {
						t.Errorf("%s: FromSpec gives %q, the documented difference is %q (reference %q)", f.ID, g, w, r)
					}
					continue
				}
				if g != r {
					t.Errorf("%s: FromSpec gives %q, the reference %q", f.ID, g, r)
				}
			}
			for id := range want {
				if !seen[id] {
					t.Errorf("documented difference on %s is for a flaw not in the catalogue", id)
				}
			}
		})
	}
}

func TestFromSpecFields(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	m, err := FromSpec(sandbox.NewBuilder(sandbox.Rootless()).Spec())
	if err != nil {
		t.Fatal(err)
	}
	if m.Kernel != unix.ByteSliceToString(u.Release[:]) {
		t.Errorf("Kernel = %q, uname says %q", m.Kernel, unix.ByteSliceToString(u.Release[:]))
	}
	// Root's Rootless draws from an automatic range: root inside is never host root.
	if m.UserNS != namespace.New || (m.RootUID == unix.Geteuid()) == (unix.Geteuid() == 0) || m.MapsHostRoot {
		t.Errorf("rootless: userns %s, root uid %d, maps host root %v; caller uid %d", m.UserNS, m.RootUID, m.MapsHostRoot, unix.Geteuid())
	}
	if m.Seccomp == nil || !m.NoNewPrivs || m.Bounding != caps.DockerDefault {
		t.Errorf("rootless: seccomp %v, no_new_privs %v, bounding %s", m.Seccomp != nil, m.NoNewPrivs, m.Bounding)
	}

	mapped, err := FromSpec(sandbox.NewBuilder(sandbox.Rootless(), sandbox.WithUserNS(
		[]namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}},
		[]namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}})).Spec())
	if err != nil {
		t.Fatal(err)
	}
	if mapped.RootUID != 100000 || mapped.MapsHostRoot {
		t.Errorf("range map: root uid %d, maps host root %v", mapped.RootUID, mapped.MapsHostRoot)
	}

	// A non-root target keeps only its ambient capabilities across execve.
	user, err := FromSpec(sandbox.NewBuilder(sandbox.Rootful(), sandbox.WithUser(1000, 1000)).Spec())
	if err != nil {
		t.Fatal(err)
	}
	if user.Effective != 0 || user.Permitted != 0 || user.Bounding != caps.DockerDefault {
		t.Errorf("uid 1000: effective %s, permitted %s, bounding %s", user.Effective, user.Permitted, user.Bounding)
	}

	spc, err := FromSpec(sandbox.NewBuilder(sandbox.SuperPrivileged()).Spec())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(spc.HostPaths, HostPath{Sandbox: "/host", Host: "/"}) || spc.Seccomp != nil || len(spc.Masked) != 0 {
		t.Errorf("super-privileged: host paths %v, seccomp %v, masked %v", spc.HostPaths, spc.Seccomp != nil, spc.Masked)
	}

	bad := sandbox.NewBuilder(func(s *sandbox.Spec) { s.Caps.Bounding = []string{"CAP_NOPE"} }).Spec()
	if _, err := FromSpec(bad); !errors.Is(err, ErrUnknownMechanism) {
		t.Errorf("unknown capability: %v, want ErrUnknownMechanism", err)
	} else if !strings.Contains(err.Error(), "deriving capabilities: ") {
		t.Errorf("unknown capability: %v, want an error deriving capabilities", err)
	}
}

// TestSpecOptionChanges changes one mechanism of a rootful Spec through a
// sandbox option and checks, through FromSpec, that exactly the flaws it should
// change do. The kernel (release and build) is left unknown so that the layers
// are judged.
func TestSpecOptionChanges(t *testing.T) {
	eval := func(t *testing.T, opts ...sandbox.Option) map[string]bool {
		t.Helper()
		m, err := FromSpec(sandbox.NewBuilder(append([]sandbox.Option{sandbox.Rootful()}, opts...)...).Spec())
		m.KernelCode = nil
		if err != nil {
			t.Fatal(err)
		}
		anyKernel(&m)
		return exposedSet(m)
	}
	before := eval(t)

	t.Run("custom profile allowing unshare", func(t *testing.T) {
		p := seccomp.Default(caps.DockerDefault.Names())
		p.Syscalls = append([]seccomp.Rule{{Names: []string{"unshare"}, Action: seccomp.ActAllow}}, p.Syscalls...)
		got := changed(before, eval(t, sandbox.WithSeccompProfile(p)))
		if want := sorted(append([]string{"CVE-2018-18955"}, netfilterFlaws...)...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})
	t.Run("WithCapAdd CAP_NET_ADMIN", func(t *testing.T) {
		got := changed(before, eval(t, sandbox.WithCapAdd("CAP_NET_ADMIN")))
		if want := sorted(netfilterFlaws...); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})
	t.Run("WithUnmask powercap", func(t *testing.T) {
		got := changed(before, eval(t, sandbox.WithUnmask("/sys/devices/virtual/powercap")))
		if want := []string{"CVE-2020-8694"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})
	t.Run("WithBind of the host's root", func(t *testing.T) {
		got := changed(before, eval(t, sandbox.WithBind("/", "/host", true)))
		if want := []string{"host-root-mount"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})
	t.Run("WithoutSeccomp", func(t *testing.T) {
		// Without the filter, the flaws that only seccomp stopped open, and so do
		// the netfilter flaws (a new user namespace gives CAP_NET_ADMIN) and the
		// nested ID map (CAP_SETUID in the initial user namespace writes it).
		got := changed(before, eval(t, sandbox.WithoutSeccomp()))
		want := sorted(append([]string{"CVE-2022-0492", "CVE-2022-0185", "CVE-2021-22555", "CVE-2018-18955",
			"CVE-2021-41073", "CVE-2023-2598", "CVE-2021-3490", "CVE-2021-33909",
			"CVE-2016-0728", "CVE-2015-3290", "CVE-2017-16995", "CVE-2013-2094", "CVE-2024-0582", "CVE-2021-26708", "CVE-2017-15126",
			"CVE-2021-4154"}, netfilterFlaws...)...)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("changed %v, want %v", got, want)
		}
	})
}

// liveDifferences are the verdicts in which FromReport of a live default sandbox
// deliberately differs from FromSpec of its Spec, and why.
var liveDifferences = map[string]string{}

// TestFromReportLive starts a real default sandbox (rootful as root, rootless
// otherwise) running sleep, inspects it from outside, and checks that FromReport
// gives the verdicts of FromSpec for the whole catalogue.
func TestFromReportLive(t *testing.T) {
	b := sandbox.NewBuilder()
	spec := b.Spec()
	tpl, err := b.Build()
	if errors.Is(err, sandbox.ErrNotSupported) {
		t.Skipf("the default sandbox needs a kernel feature missing here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpl.Close() })
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait()
	})
	r, err := inspect.ProcessAgainst(p.Pid(), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if r.Seccomp.Mode != "filter" || r.Kind != spec.Kind {
		t.Errorf("report: seccomp mode %q, kind %q; want filter, %q", r.Seccomp.Mode, r.Kind, spec.Kind)
	}
	live, err := FromReport(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live: %d device rules, nodes %v, masked %v, host paths %v", len(live.Devices), live.DeviceNodes, live.Masked, live.HostPaths)
	want, err := FromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	if live.Bounding != want.Bounding || live.Effective != want.Effective || live.NoNewPrivs != want.NoNewPrivs || live.UserNS != want.UserNS {
		t.Errorf("live bounding %s effective %s nnp %v userns %s; spec %s %s %v %s",
			live.Bounding, live.Effective, live.NoNewPrivs, live.UserNS, want.Bounding, want.Effective, want.NoNewPrivs, want.UserNS)
	}
	for _, k := range containerKinds {
		if live.ns(k) != want.ns(k) {
			t.Errorf("%s namespace: live %s, spec %s", k, live.ns(k), want.ns(k))
		}
	}
	// Judge the layers, and the running kernel too.
	for _, kernel := range []string{"", want.Kernel} {
		live.Kernel, want.Kernel = kernel, kernel
		for _, f := range Catalogue() {
			l, s := Evaluate(live, f).String(), Evaluate(want, f).String()
			if w, ok := liveDifferences[f.ID]; ok {
				if l != w {
					t.Errorf("kernel %q, %s: live %q, documented %q (spec %q)", kernel, f.ID, l, w, s)
				}
				continue
			}
			if l != s {
				t.Errorf("kernel %q, %s: live %q, spec %q\n%s", kernel, f.ID, l, s, strings.Join(Evaluate(live, f).Steps, "\n"))
			}
		}
	}
}

func TestFromReportErrors(t *testing.T) {
	if _, err := FromReport(nil); !errors.Is(err, ErrUnknownMechanism) {
		t.Errorf("nil report: %v", err)
	}
	r, err := inspect.Self()
	if err != nil {
		t.Fatal(err)
	}
	r.Seccomp.Mode = "unknown"
	if _, err := FromReport(r); !errors.Is(err, ErrUnknownMechanism) {
		t.Errorf("unknown seccomp mode: %v", err)
	}
	r.Seccomp.Mode = "strict"
	m, err := FromReport(r)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := (&evaluator{m: &m}).callReachable(Call{Name: "unshare"}); ok {
		t.Error("strict mode lets unshare through")
	}
	if ok, _ := (&evaluator{m: &m}).callReachable(Call{Name: "read", ABI: "x86_64"}); !ok {
		t.Error("strict mode refuses read")
	}
}
