package cgroup

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkCreateRemove measures the cgroup work of one sandbox start and wait:
// create its cgroup (directories, limits and device rules, descriptors), then remove
// it. Joining is measured with the start itself (sandbox's BenchmarkStart with and
// without a cgroup): on cgroup v1 it is a migration, which waits for an RCU grace
// period.
func BenchmarkCreateRemove(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("creating cgroups needs root")
	}
	if m := Detect(); m != V1 && m != Hybrid && m != V2 {
		b.Skipf("no cgroup hierarchy: %v", m)
	}
	for _, c := range []struct {
		name string
		r    *Resources
	}{{"devices-only", nil}, {"limits", &Resources{Memory: 64 << 20, Pids: 100, CPUs: 1}}} {
		b.Run(c.name, func(b *testing.B) {
			parent := fmt.Sprintf("/paddock-bench-%d", os.Getpid())
			defer removeTree(b, parent)
			pl, err := NewPlanner(&Spec{Parent: parent, Resources: c.r})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				cg, err := pl.Create(fmt.Sprintf("b%d", i))
				if err != nil {
					b.Fatal(err)
				}
				if err := cg.Remove(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
