package sandbox_test

import (
	"context"
	"os/exec"
	"testing"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// BenchmarkExecTrue is the floor: os/exec of the same /bin/true, no isolation.
func BenchmarkExecTrue(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// presets are the benchmarked sandboxes. As root, "rootless" is the same Spec a
// rootless caller gets (a user namespace mapping the caller's own ID), mapping root.
var presets = []struct {
	name string
	opts []sandbox.Option
}{
	{"rootful", []sandbox.Option{sandbox.Rootful()}},
	{"rootless", []sandbox.Option{sandbox.Rootless()}},
	{"rootless-nocgroup", []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup()}},
	{"privileged", []sandbox.Option{sandbox.Privileged()}},
	{"rootful-nocgroup", []sandbox.Option{sandbox.Rootful(), sandbox.WithoutCgroup()}},
	{"norootfs", []sandbox.Option{sandbox.Rootless(), sandbox.WithoutCgroup(), sandbox.WithoutRootfs()}},
	{"super-privileged", []sandbox.Option{sandbox.SuperPrivileged()}},
}

func benchStart(b *testing.B, opts ...sandbox.Option) {
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		b.Skip(err)
	}
	defer tpl.Close()
	ctx := context.Background()
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := tpl.Run(ctx, cmd)
		if err != nil || !st.Success() {
			b.Fatal(st, err)
		}
	}
}

// BenchmarkStart measures Start+Wait of /bin/true in each preset, with and without
// a new network namespace, in fork and vfork mode.
func BenchmarkStart(b *testing.B) {
	for _, p := range presets {
		for _, net := range []bool{true, false} {
			for _, mode := range []sandbox.SpawnMode{sandbox.SpawnFork, sandbox.SpawnVfork} {
				name := p.name
				opts := append([]sandbox.Option(nil), p.opts...)
				if !net {
					name += "/nonet"
					opts = append(opts, sandbox.WithHostNamespaces(namespace.Net))
				} else if p.name == "super-privileged" {
					continue // always shares the host's network
				}
				name += "/" + string(mode)
				opts = append(opts, sandbox.WithSpawnMode(mode))
				b.Run(name, func(b *testing.B) { benchStart(b, opts...) })
			}
		}
	}
}

// BenchmarkBuild measures the one-time compilation of each preset.
func BenchmarkBuild(b *testing.B) {
	for _, p := range presets {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tpl, err := sandbox.NewBuilder(p.opts...).Build()
				if err != nil {
					b.Fatal(err)
				}
				tpl.Close()
			}
		})
	}
}

// TestStartAllocations holds the parent to a handful of allocations per Start+Wait
// of a prebuilt Template (the child allocates nothing: it is nosplit throughout,
// see internal/child's TestChildIsNosplit).
func TestStartAllocations(t *testing.T) {
	tpl, err := sandbox.NewBuilder(sandbox.Rootless(), sandbox.WithHostNamespaces(namespace.Net), sandbox.WithoutCgroup()).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	ctx := context.Background()
	cmd := sandbox.Command{Args: []string{"/bin/true"}}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := tpl.Run(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.0f allocations per Start+Wait", allocs)
	if allocs > 10 {
		t.Errorf("%.0f allocations per Start+Wait, want at most 10", allocs)
	}
}
