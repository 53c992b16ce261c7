package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
)

// cmdUpdate is update: new limits for a container's cgroup, from runc's flags
// or, with -r FILE ("-" for standard input), from a runtime-spec
// LinuxResources object, in which case the flags are ignored, as runc ignores
// them.
func cmdUpdate(root string, args []string, stdin io.Reader) error {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var file string
	fs.StringVar(&file, "resources", "", "a LinuxResources JSON file, - for standard input")
	fs.StringVar(&file, "r", "", "a LinuxResources JSON file, - for standard input")
	f := map[string]*string{}
	for _, name := range []string{"memory", "memory-swap", "pids-limit", "cpu-shares", "cpu-share", "cpu-quota", "cpu-period", "cpuset-cpus", "blkio-weight"} {
		f[name] = fs.String(name, "", "")
	}
	refused := map[string]*string{}
	for _, name := range []string{"cpuset-mems", "memory-reservation", "kernel-memory", "kernel-memory-tcp", "cpu-rt-period", "cpu-rt-runtime", "l3-cache-schema", "mem-bw-schema"} {
		refused[name] = fs.String(name, "", "")
	}
	id, err := oneID(fs, args)
	if err != nil {
		return err
	}
	var r *cgroup.Resources
	if file != "" {
		r, err = readResources(file, stdin)
	} else {
		r, err = flagResources(f, refused)
	}
	if err != nil {
		return err
	}
	unlock, err := lock(root, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := loadRunning(root, id, specs.StateCreated, specs.StateRunning, statePaused)
	if err != nil {
		return err
	}
	cg := cgroup.FromDirs(c.Sandbox.Cgroup)
	if cg == nil && !r.IsZero() {
		return errNoCgroup("update")
	}
	if err := extend(root, c, cg, r); err != nil {
		return err
	}
	return cg.Update(r)
}

// extend puts the container's cgroup in the hierarchies r needs that it is
// not in yet (cpu, cpuset, blkio: a container is created in those only when
// its config limits them), and records the new directories, which delete
// removes.
func extend(root string, c *container, cg *cgroup.Cgroup, r *cgroup.Resources) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cg.Extend(ctx, r.Controllers()...)
	if dirs := cg.Dirs(); !slices.Equal(dirs, c.Sandbox.Cgroup) {
		c.Sandbox.Cgroup = dirs
		if c.Status == statePaused { // the status recorded; load computes paused
			c.Status = specs.StateRunning
		}
		if serr := save(root, c); err == nil {
			err = serr
		}
	}
	return err
}

// flagResources reads update's flags into Resources.
func flagResources(f, refused map[string]*string) (*cgroup.Resources, error) {
	for name, v := range refused {
		if *v != "" {
			return nil, fmt.Errorf("--%s is not supported by paddock-runtime", name)
		}
	}
	r := &cgroup.Resources{Cpuset: *f["cpuset-cpus"]}
	var err error
	num := func(name string, set func(int64)) {
		if err != nil || *f[name] == "" {
			return
		}
		var n int64
		if n, err = strconv.ParseInt(*f[name], 10, 64); err != nil {
			err = fmt.Errorf("--%s %q: not a number", name, *f[name])
			return
		}
		set(n)
	}
	bytes := func(name string, set func(int64)) {
		if err != nil || *f[name] == "" {
			return
		}
		var n int64
		if n, err = parseBytes(*f[name]); err != nil {
			err = fmt.Errorf("--%s: %w", name, err)
			return
		}
		set(n)
	}
	bytes("memory", func(n int64) { r.Memory = n })
	bytes("memory-swap", func(n int64) { r.MemorySwap = n })
	num("pids-limit", func(n int64) { r.Pids = pidsLimit(n) })
	num("cpu-share", func(n int64) { r.CPUShares = uint64(n) })
	num("cpu-shares", func(n int64) { r.CPUShares = uint64(n) })
	num("cpu-quota", func(n int64) { r.CPUQuota = n })
	num("cpu-period", func(n int64) { r.CPUPeriod = uint64(n) })
	num("blkio-weight", func(n int64) { r.IOWeight = uint16(min(max(n, 0), 1<<16-1)) })
	return r, err
}

// pidsLimit maps runc's pids limit (0 or less: unlimited) to Resources.Pids.
func pidsLimit(n int64) int64 {
	if n <= 0 {
		return cgroup.Unlimited
	}
	return n
}

// parseBytes reads a size in bytes with an optional binary suffix (k, m, g,
// t, with or without b), as runc's --memory takes it; -1 is unlimited.
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "-1" {
		return -1, nil
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if i := strings.IndexAny(t, "kmgt"); i >= 0 && i == len(t)-1 {
		mult = map[byte]int64{'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30, 't': 1 << 40}[t[i]]
		t = t[:i]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q: not a size in bytes", s)
	}
	return n * mult, nil
}

// readResources reads a runtime-spec LinuxResources object from file, or
// from stdin for "-", and converts what Paddock can update.
func readResources(file string, stdin io.Reader) (*cgroup.Resources, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, err
	}
	var lr specs.LinuxResources
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lr); err != nil {
		return nil, fmt.Errorf("--resources %s: %w", file, err)
	}
	return fromSpec(&lr)
}

// fromSpec converts the fields of lr that update can change; any other field
// set is refused by its name.
func fromSpec(lr *specs.LinuxResources) (*cgroup.Resources, error) {
	refuse := func(field string) error {
		return fmt.Errorf("--resources: %s cannot be updated by paddock-runtime", field)
	}
	switch {
	case len(lr.Devices) > 0:
		return nil, refuse("devices")
	case len(lr.HugepageLimits) > 0:
		return nil, refuse("hugepageLimits")
	case lr.Network != nil:
		return nil, refuse("network")
	case len(lr.Rdma) > 0:
		return nil, refuse("rdma")
	case len(lr.Unified) > 0:
		return nil, refuse("unified")
	}
	r := &cgroup.Resources{}
	if m := lr.Memory; m != nil {
		switch {
		case m.Reservation != nil:
			return nil, refuse("memory.reservation")
		//lint:ignore SA1019 a resources file may still set a kernel memory limit, which must be refused
		case m.Kernel != nil || m.KernelTCP != nil:
			return nil, refuse("memory.kernel")
		case m.Swappiness != nil:
			return nil, refuse("memory.swappiness")
		case m.DisableOOMKiller != nil:
			return nil, refuse("memory.disableOOMKiller")
		}
		if m.Limit != nil {
			r.Memory = *m.Limit
		}
		if m.Swap != nil {
			r.MemorySwap = *m.Swap
		}
	}
	if c := lr.CPU; c != nil {
		switch {
		case c.RealtimePeriod != nil || c.RealtimeRuntime != nil:
			return nil, refuse("cpu.realtime")
		case c.Mems != "":
			return nil, refuse("cpu.mems")
		case c.Burst != nil || c.Idle != nil:
			return nil, refuse("cpu.burst and cpu.idle")
		}
		if c.Shares != nil {
			r.CPUShares = *c.Shares
		}
		if c.Quota != nil {
			r.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			r.CPUPeriod = *c.Period
		}
		r.Cpuset = c.Cpus
	}
	if lr.Pids != nil && lr.Pids.Limit != nil {
		r.Pids = pidsLimit(*lr.Pids.Limit)
	}
	if b := lr.BlockIO; b != nil {
		if b.LeafWeight != nil || len(b.WeightDevice) > 0 || len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
			len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0 {
			return nil, refuse("blockIO other than weight")
		}
		if b.Weight != nil {
			r.IOWeight = *b.Weight
		}
	}
	return r, nil
}
