package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// Probes run by the re-executed test binary inside a cgroup.
const (
	probeEnv    = "PADDOCK_CGROUP_PROBE"
	probeDevice = "device"
	probeJoin   = "join"
	probeAccess = "access"
)

func TestMain(m *testing.M) {
	switch os.Getenv(probeEnv) {
	case probeDevice:
		os.Exit(deviceProbe())
	case probeJoin:
		os.Exit(joinProbe())
	case probeAccess:
		os.Exit(accessProbe())
	}
	testutil.Main(m)
}

// deviceProbe waits for a line on stdin (the parent places it in the cgroup
// meanwhile), then creates a block device node 8:0 and opens it, and opens
// /dev/null. It prints "block=<errno or ok> null=<errno or ok>".
func deviceProbe() int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	dir := os.Getenv("PROBE_DIR")
	node := filepath.Join(dir, "blk")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(8, 0))); err != nil {
		fmt.Printf("mknod=%v\n", err)
		return 1
	}
	defer os.Remove(node)
	res := func(p string) string {
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return strconv.Itoa(int(err.(unix.Errno)))
		}
		unix.Close(fd)
		return "ok"
	}
	fmt.Printf("block=%s null=%s\n", res(node), res("/dev/null"))
	return 0
}

// joinProbe writes "0" to each inherited descriptor from 3 on, as the child's
// KindJoinCgroups step does, then prints /proc/self/cgroup.
func joinProbe() int {
	// A write to "tasks" moves the writing thread: this one, whose cgroups
	// /proc/thread-self/cgroup shows.
	runtime.LockOSThread()
	n, _ := strconv.Atoi(os.Getenv("PROBE_FDS"))
	for fd := 3; fd < 3+n; fd++ {
		if _, err := unix.Write(fd, []byte("0")); err != nil {
			fmt.Printf("write fd %d: %v\n", fd, err)
			return 1
		}
	}
	b, _ := os.ReadFile("/proc/thread-self/cgroup")
	os.Stdout.Write(b)
	return 0
}

func requireRootV1(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating v1 cgroups needs root")
	}
	if m := Detect(); m != V1 && m != Hybrid {
		t.Skipf("cgroup v1 hierarchies: host mode is %v", m)
	}
}

var testSeq atomic.Int64

// testSpec returns a Spec whose parent is a fresh top-level test cgroup, removed with
// everything below it (processes killed) when the test ends.
func testSpec(t *testing.T, r *Resources) *Spec {
	t.Helper()
	parent := fmt.Sprintf("/paddock-test-%s-%d", testutil.RunID(), testSeq.Add(1))
	t.Cleanup(func() { removeTree(t, parent) })
	return &Spec{Parent: parent, Resources: r}
}

// removeTree kills every process below cgroup path p in every hierarchy and removes
// the directories, deepest first.
func removeTree(t testing.TB, p string) {
	l, err := loadLayout()
	if err != nil {
		t.Error(err)
		return
	}
	seen := map[string]bool{}
	var hs []*hierarchy
	for _, h := range l.v1 {
		if !seen[h.mountpoint] {
			seen[h.mountpoint] = true
			hs = append(hs, h)
		}
	}
	if l.v2 != nil {
		hs = append(hs, l.v2)
	}
	for _, h := range hs {
		root := h.dir(p)
		if _, err := os.Stat(root); err != nil {
			continue
		}
		var dirs []string
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if fs := filepath.Join(dirs[i], "freezer.state"); exists(fs) {
				writeFile(fs, "THAWED")
			}
			var err error
			for range 500 {
				killListed(dirs[i])
				if err = unix.Rmdir(dirs[i]); err != unix.EBUSY {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err != nil && err != unix.ENOENT {
				t.Errorf("cleanup: rmdir %s: %v", dirs[i], err)
			}
		}
	}
}

func readTrim(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// startInCgroup starts args with a stdin pipe, adds the process to c, and returns it
// with the pipe; the command typically waits for a line before doing its work.
func startInCgroup(t *testing.T, c *Cgroup, args ...string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	if err := c.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	return cmd, in
}

// runInCgroup starts cmd with a stdin pipe, moves it into c before it does anything
// (it waits for a line), releases it and returns its output and how it ended.
func runInCgroup(t *testing.T, c *Cgroup, cmd *exec.Cmd) (string, error) {
	t.Helper()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	io.WriteString(in, "go\n")
	in.Close()
	err = cmd.Wait()
	return out.String(), err
}

func create(t *testing.T, spec *Spec, name string) *Cgroup {
	t.Helper()
	c, err := Create(spec, name)
	if err != nil {
		t.Fatal(err)
	}
	if c == nil {
		t.Fatal("Create returned no cgroup for root")
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCreateLimitsStatsKillRemove(t *testing.T) {
	requireRootV1(t)
	spec := testSpec(t, &Resources{Memory: 64 << 20, Pids: 20, CPUs: 0.5})
	c := create(t, spec, "box")
	if c.Version() != 1 {
		t.Fatalf("Version = %d, want 1", c.Version())
	}
	for ctrl, want := range map[string][2]string{
		"memory": {"memory.limit_in_bytes", strconv.Itoa(64 << 20)},
		"pids":   {"pids.max", "20"},
		"cpu":    {"cpu.cfs_quota_us", "50000"},
	} {
		if got := readTrim(t, filepath.Join(c.Dir(ctrl), want[0])); got != want[1] {
			t.Errorf("%s = %s, want %s", want[0], got, want[1])
		}
	}
	cmd, _ := startInCgroup(t, c, "/bin/sleep", "30")
	pid := cmd.Process.Pid

	info, err := Inspect(pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := spec.Parent + "/box"; info.V1["memory"] != want || info.V1["pids"] != want {
		t.Errorf("Inspect paths = %v, want %s", info.V1, want)
	}
	if info.Memory != 64<<20 || info.Pids != 20 || info.CPUQuota != 50000 || info.CPUPeriod != DefaultCPUPeriod {
		t.Errorf("Inspect limits = memory %d pids %d cpu %d/%d", info.Memory, info.Pids, info.CPUQuota, info.CPUPeriod)
	}
	if c.Dir("") != "" && info.Dirs[""] != c.Dir("") {
		t.Errorf("Inspect v2 dir = %q, want %q", info.Dirs[""], c.Dir(""))
	}

	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.PidsCurrent != 1 || st.MemoryPeak < st.MemoryCurrent || st.OOMKills != 0 || st.PidsLimited != 0 {
		t.Errorf("Stats = %+v", st)
	}
	if u, err := c.CPUUsage(); err != nil || u < st.CPUUsage {
		t.Errorf("CPUUsage = %d, %v; Stats.CPUUsage %d", u, err, st.CPUUsage)
	}
	if pids, err := c.Pids(); err != nil || len(pids) != 1 || pids[0] != pid {
		t.Errorf("Pids = %v, %v; want [%d]", pids, err, pid)
	}

	if err := c.KillAll(); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want SIGKILL", err)
	}
	dirs := c.Dirs()
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if exists(d) {
			t.Errorf("%s still exists after Remove", d)
		}
	}
	if _, ok := c.CloneFD(); ok {
		t.Error("CloneFD still available after Remove")
	}
}

// TestCPUUsage: a busy loop in the cgroup shows in CPUUsage, as in Stats.
func TestCPUUsage(t *testing.T) {
	requireRootV1(t)
	c := create(t, testSpec(t, nil), "cpu")
	before, err := c.CPUUsage()
	if err != nil {
		t.Fatal(err)
	}
	loop := `read x; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done`
	if out, err := runInCgroup(t, c, exec.Command("/bin/sh", "-c", loop)); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	after, err := c.CPUUsage()
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || after < 10*1e6 || st.CPUUsage != after {
		t.Errorf("CPUUsage %d before, %d after a busy loop (want at least 10 ms more); Stats.CPUUsage %d", before, after, st.CPUUsage)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CPUUsage(); err == nil {
		t.Error("CPUUsage of a removed cgroup: no error")
	}
}

func TestPidsLimitEnforced(t *testing.T) {
	requireRootV1(t)
	c := create(t, testSpec(t, &Resources{Pids: 10}), "pids")
	script := `read x; i=0; while [ $i -lt 50 ]; do /bin/sleep 30 & i=$((i+1)); done; echo forked`
	cmd, in := startInCgroup(t, c, "/bin/sh", "-c", script)
	io.WriteString(in, "go\n")
	in.Close()
	// Wait for the shell; it fails (or gives up) once fork returns EAGAIN.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("shell did not finish")
	}
	events := readTrim(t, filepath.Join(c.Dir("pids"), "pids.events"))
	if events == "max 0" || !strings.HasPrefix(events, "max ") {
		t.Errorf("pids.events = %q, want a non-zero max count (forks refused)", events)
	}
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.PidsCurrent > 10 {
		t.Errorf("PidsCurrent = %d above the limit 10", st.PidsCurrent)
	}
	if st.PidsLimited == 0 {
		t.Errorf("Stats.PidsLimited = 0 after pids.events said %q", events)
	}
	if err := c.KillAll(); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryLimitOOM(t *testing.T) {
	requireRootV1(t)
	c := create(t, testSpec(t, &Resources{Memory: 32 << 20}), "oom")
	script := `read x; x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}`
	cmd, in := startInCgroup(t, c, "/bin/sh", "-c", script)
	io.WriteString(in, "go\n")
	in.Close()
	cmd.Wait()
	st, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.OOMKills == 0 {
		t.Errorf("Stats = %+v, want an OOM kill", st)
	}
	if st.MemoryPeak > 32<<20 {
		t.Errorf("MemoryPeak %d above the 32 MiB limit", st.MemoryPeak)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestDeviceRulesEnforced(t *testing.T) {
	requireRootV1(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Control: outside the sandbox cgroup, opening 8:0 fails for lack of a driver,
	// not with EPERM.
	dir := t.TempDir()
	node := filepath.Join(dir, "blk")
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(8, 0))); err != nil {
		t.Fatal(err)
	}
	if fd, err := unix.Open(node, unix.O_RDONLY, 0); err == nil {
		unix.Close(fd)
	} else if err == unix.EPERM {
		t.Skip("the test's own cgroup already denies block devices")
	}
	os.Remove(node)

	spec := testSpec(t, nil) // nil Devices: DefaultDevices, which deny opening block devices
	c := create(t, spec, "dev")
	if got := readTrim(t, filepath.Join(c.Dir("devices"), "devices.list")); strings.Contains(got, "a *:* rwm") {
		t.Fatalf("devices.list still allows everything: %q", got)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), probeEnv+"="+probeDevice, "PROBE_DIR="+dir)
	out, err := runInCgroup(t, c, cmd)
	want := fmt.Sprintf("block=%d null=ok", int(unix.EPERM))
	if err != nil || strings.TrimSpace(out) != want {
		t.Errorf("probe: %v, output %q, want %q", err, out, want)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestJoinByDescriptor(t *testing.T) {
	requireRootV1(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec := testSpec(t, &Resources{Pids: 5})
	c := create(t, spec, "join")

	fds := c.JoinFDs()
	want1 := len(c.Dirs())
	if c.Dir("") != "" {
		want1-- // the v2 directory is joined by clone3, not by a write
	}
	if len(fds) != want1 {
		t.Fatalf("JoinFDs gave %d descriptors for %d v1 directories", len(fds), want1)
	}
	// Hand copies of the descriptors (c keeps its own) to a process, which writes
	// "0" to each as the child's KindJoinCgroups step does.
	cmd := exec.Command(exe)
	for _, fd := range fds {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(dup), "tasks")
		defer f.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	}
	cmd.Env = append(os.Environ(), probeEnv+"="+probeJoin, "PROBE_FDS="+strconv.Itoa(len(fds)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe: %v: %s", err, out)
	}
	want := spec.Parent + "/join"
	for _, ctrl := range []string{"memory", "pids", "freezer", "devices"} {
		if !strings.Contains(string(out), ":"+ctrl+":"+want+"\n") {
			t.Errorf("probe not in %s cgroup %s:\n%s", ctrl, want, out)
		}
	}
	// The v2 directory is joined by clone3 (TestUnifiedCloneIntoCgroupAndKill).
	if _, ok := c.CloneFD(); ok != (c.Dir("") != "") {
		t.Errorf("CloneFD: %v, with v2 directory %q", ok, c.Dir(""))
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestUnifiedCloneIntoCgroupAndKill(t *testing.T) {
	requireRootV1(t)
	if Detect() != Hybrid {
		t.Skip("a v2 hierarchy beside v1: host mode is not hybrid")
	}
	spec := testSpec(t, nil)
	c := create(t, spec, "v2")
	fd, ok := c.CloneFD()
	if !ok {
		t.Fatal("no v2 descriptor on a hybrid host")
	}
	cmd := exec.Command("/bin/sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.E2BIG) {
			t.Skipf("clone3 CLONE_INTO_CGROUP: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	m, err := ReadMembership(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if want := spec.Parent + "/v2"; m.V2 != want {
		t.Fatalf("v2 path = %q, want %q", m.V2, want)
	}
	// The unified group alone kills it: cgroup.kill.
	if !exists(filepath.Join(c.Dir(""), "cgroup.kill")) {
		t.Skip("cgroup.kill (Linux 5.14)")
	}
	if err := writeFile(filepath.Join(c.Dir(""), "cgroup.kill"), "1"); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want SIGKILL", err)
	}
	dir := c.Dir("")
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if exists(dir) {
		t.Errorf("%s remains", dir)
	}
}

func TestCpusetCopied(t *testing.T) {
	requireRootV1(t)
	c := create(t, testSpec(t, &Resources{Cpuset: "0"}), "cpuset")
	if got := readTrim(t, filepath.Join(c.Dir("cpuset"), "cpuset.cpus")); got != "0" {
		t.Errorf("cpuset.cpus = %q, want 0", got)
	}
	if got := readTrim(t, filepath.Join(c.Dir("cpuset"), "cpuset.mems")); got == "" {
		t.Error("cpuset.mems not copied from the parent")
	}
	cmd, _ := startInCgroup(t, c, "/bin/sleep", "30")
	info, err := Inspect(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.V1["cpuset"], "/cpuset") {
		t.Errorf("process not in the cpuset cgroup: %v", info.V1)
	}
	c.KillAll()
	cmd.Wait()
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

func TestCreateFailureCleansUp(t *testing.T) {
	requireRootV1(t)
	spec := testSpec(t, &Resources{Memory: 64 << 20})
	c := create(t, spec, "dup")
	// A second cgroup of the same name must fail and leave the first intact.
	if _, err := Create(spec, "dup"); !errors.Is(err, unix.EEXIST) {
		t.Errorf("Create of an existing name: %v, want EEXIST", err)
	}
	for _, d := range c.Dirs() {
		if !exists(d) {
			t.Errorf("%s removed by the failed Create", d)
		}
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}

// TestKillAllV1Freezer kills a forking shell and its children that are only in the
// v1 groups (moved back out of the unified one), so the freezer path does the work.
func TestKillAllV1Freezer(t *testing.T) {
	requireRootV1(t)
	c := create(t, testSpec(t, &Resources{Pids: 64}), "freeze")
	if c.Dir("freezer") == "" {
		t.Skip("the freezer controller is not mounted")
	}
	script := `read x; while :; do /bin/sleep 30 & /bin/sleep 30 & wait -n 2>/dev/null || sleep 0.01; done`
	cmd, in := startInCgroup(t, c, "/bin/sh", "-c", script)
	if c.Dir("") != "" {
		l, _ := loadLayout()
		own, err := ReadMembership(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeFile(filepath.Join(l.v2.dir(own.V2), "cgroup.procs"), strconv.Itoa(cmd.Process.Pid)); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(in, "go\n")
	for range 1000 {
		if st, err := c.Stats(); err == nil && st.PidsCurrent >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.KillAll(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("shell ended with %v, want SIGKILL", err)
	}
	if got := readTrim(t, filepath.Join(c.Dir("freezer"), "freezer.state")); got != "THAWED" {
		t.Errorf("freezer.state = %s after KillAll, want THAWED", got)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
}
