package mounts

import (
	"slices"
	"testing"
)

// TestParentsFirst: mounts keep their listed order, except that one moves
// before any earlier one below its target; mounts on one target stack in the
// listed order.
func TestParentsFirst(t *testing.T) {
	for _, c := range []struct {
		in, want []string
	}{
		{[]string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"}, []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/sys"}},
		{[]string{"/a/b/c", "/a/b", "/a"}, []string{"/a", "/a/b", "/a/b/c"}},
		{[]string{"/x/y", "/z", "/x"}, []string{"/x", "/x/y", "/z"}},
		{[]string{"/x/y", "/z", "/x/"}, []string{"/x/", "/x/y", "/z"}},
		{[]string{"/ab", "/a/b", "/a"}, []string{"/ab", "/a", "/a/b"}},
		{[]string{"/t", "/u", "/t"}, []string{"/t", "/u", "/t"}},
		{[]string{"/t/u", "/t", "/t"}, []string{"/t", "/t", "/t/u"}},
		{nil, nil},
	} {
		order := parentsFirst(len(c.in), func(i int) string { return c.in[i] })
		var got []string
		for _, i := range order {
			got = append(got, c.in[i])
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("parentsFirst(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPlanListedOrder: Plan makes the Spec's mounts in the listed order where
// none covers another (an OCI configuration's /sys after /dev/pts stays there),
// and a parent listed late before what lies below it.
func TestPlanListedOrder(t *testing.T) {
	spec := Spec{Mounts: []Mount{
		{Source: "proc", Target: "/proc", FSType: "proc"},
		{Source: "tmpfs", Target: "/dev", FSType: "tmpfs"},
		{Source: "devpts", Target: "/dev/pts", FSType: "devpts"},
		{Source: "sysfs", Target: "/sys", FSType: "sysfs"},
		{Source: "tmpfs", Target: "/run/x", FSType: "tmpfs"},
		{Source: "tmpfs", Target: "/run", FSType: "tmpfs"},
	}}
	steps, err := Plan(spec, Env{NewRoot: "/staging/root", NewPIDNS: true, NewNetNS: true, NewIPCNS: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range steps {
		if st.Action == ActMount {
			got = append(got, st.Path)
		}
	}
	want := []string{"/proc", "/dev", "/dev/pts", "/sys", "/run", "/run/x"}
	if !slices.Equal(got, want) {
		t.Errorf("mount steps %q, want %q", got, want)
	}
}

// TestPlanMountPropagation: a Mount's propagation is a step of its own right
// after the mount, and an unknown one is refused.
func TestPlanMountPropagation(t *testing.T) {
	spec := Spec{Mounts: []Mount{{Source: "tmpfs", Target: "/t", FSType: "tmpfs", Propagation: RShared}}}
	steps, err := Plan(spec, Env{NewRoot: "/staging/root"})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(steps, func(st Step) bool { return st.Action == ActMount && st.Path == "/t" })
	if i < 0 || i+1 >= len(steps) || steps[i+1].Action != ActPropagation || steps[i+1].Path != "/t" || steps[i+1].FlagText != "rshared" || !steps[i+1].InRoot {
		t.Errorf("steps %+v: want the mount of /t, then its rshared propagation", steps)
	}
	spec.Mounts[0].Propagation = "sideways"
	if err := spec.Validate(); err == nil {
		t.Error("an unknown propagation was taken")
	}
}
