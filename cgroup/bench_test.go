package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
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
		e    DeviceEnforcement
	}{
		{"devices-only", nil, DevicesAuto},
		{"limits", &Resources{Memory: 64 << 20, Pids: 100, CPUs: 1}, DevicesAuto},
		{"devices-program", nil, DevicesProgram},
		{"devices-both", nil, DevicesBoth},
	} {
		b.Run(c.name, func(b *testing.B) {
			parent := fmt.Sprintf("/paddock-bench-%s", testutil.RunID())
			defer removeTree(b, parent)
			pl, err := NewPlanner(&Spec{Parent: parent, Resources: c.r, DeviceEnforcement: c.e})
			if errors.Is(err, ErrNotSupported) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer pl.Close()
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

// BenchmarkDeviceProgram measures the device program's parts on an empty v2
// directory: "mkdir" is the directory alone (the baseline), "attach" adds attaching
// a program loaded once (what Create does), "load-attach" instead loads and attaches
// one per directory (as containerd and runc do), and
// "load" is the compilation and verification alone (what NewPlanner does once).
func BenchmarkDeviceProgram(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("loading a device program needs root")
	}
	l, err := loadLayout()
	if err != nil || l.v2 == nil {
		b.Skip("no unified hierarchy")
	}
	own, err := ReadMembership(0)
	if err != nil {
		b.Fatal(err)
	}
	rules := DefaultDevices()
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			prog, err := loadDeviceProgram(rules)
			if err != nil {
				b.Fatal(err)
			}
			prog.Close()
		}
	})
	prog, err := loadDeviceProgram(rules)
	if err != nil {
		b.Fatal(err)
	}
	defer prog.Close()
	for _, mode := range []string{"mkdir", "attach", "load-attach"} {
		b.Run(mode, func(b *testing.B) {
			parent := fmt.Sprintf("/paddock-bench-%s", testutil.RunID())
			defer removeTree(b, parent)
			base := l.v2.dir(resolveParent(parent, own.V2))
			if err := os.MkdirAll(base, 0o755); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				dir := filepath.Join(base, fmt.Sprintf("b%d", i))
				if err := os.Mkdir(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				switch mode {
				case "attach":
					if err := attachDeviceProgram(prog, dir); err != nil {
						b.Fatal(err)
					}
				case "load-attach":
					p, err := loadDeviceProgram(rules)
					if err != nil {
						b.Fatal(err)
					}
					err = attachDeviceProgram(p, dir)
					p.Close()
					if err != nil {
						b.Fatal(err)
					}
				}
				if err := unix.Rmdir(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
