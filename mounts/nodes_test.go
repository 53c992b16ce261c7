package mounts

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestPlanNodes: nodes are made after the mounts, with their type in the
// step's mode; a device node in a user namespace, an unknown type, a relative
// path and mode bits beyond the permissions are refused.
func TestPlanNodes(t *testing.T) {
	spec := Spec{
		Mounts: []Mount{{Source: "tmpfs", Target: "/dev", FSType: "tmpfs"}},
		Nodes:  []Node{{Path: "/dev/b", Type: unix.S_IFBLK, Major: 8, Minor: 666, Mode: 0o660}, {Path: "/dev/p", Type: unix.S_IFIFO, Mode: 0o600}},
	}
	steps, err := Plan(spec, Env{NewRoot: "/staging/root"})
	if err != nil {
		t.Fatal(err)
	}
	var mounted bool
	var got []Step
	for _, st := range steps {
		switch {
		case st.Action == ActMount && st.Path == "/dev":
			mounted = true
		case st.Action == ActMknod:
			if !mounted {
				t.Errorf("%s made before /dev is mounted", st.Path)
			}
			got = append(got, st)
		}
	}
	if len(got) != 2 || got[0].Mode != unix.S_IFBLK|0o660 || got[0].Major != 8 || got[0].Minor != 666 || got[1].Mode != unix.S_IFIFO|0o600 {
		t.Errorf("mknod steps %+v", got)
	}
	for _, c := range []struct {
		name string
		n    Node
		env  Env
	}{
		{"device in a user namespace", Node{Path: "/dev/c", Type: unix.S_IFCHR}, Env{InUserNS: true}},
		{"a socket", Node{Path: "/dev/s", Type: unix.S_IFSOCK}, Env{}},
		{"relative", Node{Path: "dev/p", Type: unix.S_IFIFO}, Env{}},
		{"setuid and more", Node{Path: "/dev/p", Type: unix.S_IFIFO, Mode: 0o10755}, Env{}},
	} {
		c.env.NewRoot = "/staging/root"
		if _, err := Plan(Spec{Nodes: []Node{c.n}}, c.env); err == nil {
			t.Errorf("%s: planned", c.name)
		}
	}
	if _, err := Plan(Spec{Nodes: []Node{{Path: "/p", Type: unix.S_IFIFO}}}, Env{NewRoot: "/r", InUserNS: true}); err != nil {
		t.Errorf("a FIFO in a user namespace: %v", err)
	}
}
