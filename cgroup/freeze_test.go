package cgroup

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// counter starts a shell in c that writes a growing count to a file, and
// returns a function that reads the count.
func counter(t *testing.T, c *Cgroup) func() int {
	t.Helper()
	f := filepath.Join(t.TempDir(), "count")
	_, in := startInCgroup(t, c, "/bin/sh", "-c", `read x; i=0; while :; do i=$((i+1)); echo $i > `+f+`; done`)
	io.WriteString(in, "go\n")
	read := func() int {
		b, _ := os.ReadFile(f)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return n
	}
	for deadline := time.Now().Add(5 * time.Second); read() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the counter did not start")
		}
	}
	return read
}

// TestFreezeThaw freezes a counting shell through a Cgroup rebuilt from its
// directories (as an OCI runtime's pause finds it): the count stops while
// frozen and goes on once thawed.
func TestFreezeThaw(t *testing.T) {
	requireRootV1(t)
	made := create(t, testSpec(t, nil), "freeze")
	c := FromDirs(made.Dirs())
	if _, _, err := c.freezer(); err != nil {
		t.Skipf("freezer: %v", err)
	}
	read := counter(t, made)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Freeze(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := c.FreezerState(); err != nil || st != Frozen {
		t.Fatalf("FreezerState after Freeze: %v, %v", st, err)
	}
	a := read()
	time.Sleep(200 * time.Millisecond)
	if b := read(); b != a {
		t.Errorf("the count went on while frozen: %d then %d", a, b)
	}
	if err := c.Thaw(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.FreezerState(); st != Thawed {
		t.Errorf("FreezerState after Thaw: %v", st)
	}
	for deadline := time.Now().Add(5 * time.Second); read() == a; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the count did not go on after Thaw")
		}
	}
}

// TestFreezeNoCgroup: a sandbox without a cgroup cannot be frozen, and says
// why.
func TestFreezeNoCgroup(t *testing.T) {
	var c *Cgroup
	if err := c.Freeze(context.Background()); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Freeze of no cgroup: %v, want ErrNotSupported", err)
	}
	if _, err := c.Usage(); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Usage of no cgroup: %v, want ErrNotSupported", err)
	}
	if err := c.Update(&Resources{Pids: 10}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("Update of no cgroup: %v, want ErrNotSupported", err)
	}
}

// TestUpdateAndUsage creates a cgroup without limits, extends it to the cpu
// and cpuset hierarchies (its process moved in), updates memory, pids, CPU shares and quota and cpuset, reads the
// files back, and reads them through Usage.
func TestUpdateAndUsage(t *testing.T) {
	requireRootV1(t)
	made := create(t, testSpec(t, nil), "update")
	c := FromDirs(made.Dirs())
	cmd, _ := startInCgroup(t, made, "/bin/sleep", "30")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Extend(ctx, "cpu", "cpuset"); err != nil {
		t.Fatal(err)
	}
	for _, ctrl := range []string{"cpu", "cpuset"} {
		if d := c.Dir(ctrl); d != "" {
			t.Cleanup(func() { removeDir(t, d) })
			if pids, _ := readPids(filepath.Join(d, "cgroup.procs")); len(pids) != 1 || pids[0] != cmd.Process.Pid {
				t.Errorf("%s after Extend: pids %v, want [%d]", d, pids, cmd.Process.Pid)
			}
		}
	}
	if st, _ := c.FreezerState(); st != Thawed {
		t.Errorf("freezer after Extend: %s", st)
	}
	r := &Resources{Memory: 64 << 20, Pids: 32}
	if c.Dir("cpu") != "" {
		r.CPUShares, r.CPUQuota, r.CPUPeriod = 512, 50000, 100000
	}
	if c.Dir("cpuset") != "" {
		r.Cpuset = "0"
	}
	if err := c.Update(r); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"memory/memory.limit_in_bytes": "67108864", "pids/pids.max": "32"}
	if r.CPUShares != 0 {
		files["cpu/cpu.shares"], files["cpu/cpu.cfs_quota_us"] = "512", "50000"
	}
	if r.Cpuset != "" {
		files["cpuset/cpuset.cpus"] = "0"
	}
	for f, want := range files {
		ctrl, name, _ := strings.Cut(f, "/")
		if got := readTrim(t, filepath.Join(c.Dir(ctrl), name)); got != want {
			t.Errorf("%s = %s, want %s", f, got, want)
		}
	}
	u, err := c.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if u.Memory.Usage.Limit != 64<<20 || u.Pids.Limit != 32 || u.Pids.Current != 1 {
		t.Errorf("Usage: memory %+v, pids %+v", u.Memory.Usage, u.Pids)
	}
	if err := c.Update(&Resources{Pids: Unlimited}); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(c.Dir("pids"), "pids.max")); got != "max" {
		t.Errorf("pids.max after an update to unlimited: %s", got)
	}
	if err := c.Update(&Resources{Memory: Unlimited}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
		p := filepath.Join(c.Dir("memory"), f)
		if !exists(p) {
			continue // swap is not accounted
		}
		if got, err := strconv.ParseUint(readTrim(t, p), 10, 64); err != nil || got < 1<<60 {
			t.Errorf("%s after an update to unlimited: %d, %v", f, got, err)
		}
	}
	if err := c.Update(&Resources{Memory: Unlimited, MemorySwap: 128 << 20}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Update with a swap limit and unlimited memory: %v, want ErrInvalid", err)
	}
	if err := c.Update(&Resources{Pids: -5}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Update with negative pids: %v, want ErrInvalid", err)
	}
}

// TestUpdateMissingController: a limit whose controller the cgroup is not in
// fails with ErrNotSupported naming it, and writes nothing.
func TestUpdateMissingController(t *testing.T) {
	requireRootV1(t)
	made := create(t, testSpec(t, nil), "nocpu")
	c := FromDirs(made.Dirs())
	if c.Dir("cpu") != "" {
		t.Skip("the cgroup is in the cpu hierarchy without asking")
	}
	err := c.Update(&Resources{CPUShares: 512, Pids: 7})
	if !errors.Is(err, ErrNotSupported) || !strings.Contains(err.Error(), "cpu") {
		t.Errorf("Update of cpu shares outside the cpu hierarchy: %v", err)
	}
	if got := readTrim(t, filepath.Join(c.Dir("pids"), "pids.max")); got != "max" {
		t.Errorf("pids.max written by a refused update: %s", got)
	}
}

// removeDir kills what is left in cgroup directory d and removes it.
func removeDir(t *testing.T, d string) {
	for range 500 {
		killListed(d)
		if err := unix.Rmdir(d); err == nil || err == unix.ENOENT {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("cleanup: rmdir %s", d)
}
