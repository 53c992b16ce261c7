package sandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// An intendedDifference is a fact in which a Paddock sandbox and the matching
// `podman run --rootfs` container are meant to differ. The README's "Parity with
// Podman" table is generated from this list (TestParityTable), so the two cannot
// drift.
type intendedDifference struct {
	kinds   []string // the parity cases it applies to
	fact    string   // the probe's fact, as parityFacts names it
	paddock string   // what Paddock has, in words
	podman  string   // what Podman has, in words
	reason  string
}

// The parity cases.
const (
	parityRootful  = "rootful"
	parityRootless = "rootless"
	parityPriv     = "privileged"
	paritySuper    = "super-privileged"
)

var hardened = []string{parityRootful, parityRootless}

var intendedDifferences = []intendedDifference{
	{hardened, "CapBnd", "Docker's 14", "Podman's 11 (no NET_RAW, MKNOD, AUDIT_WRITE)",
		"Paddock follows Docker's defaults; `sandbox.WithCaps` with `caps.PodmanDefault` gives Podman's"},
	{hardened, "CapPrm", "Docker's 14", "Podman's 11", "as the bounding set"},
	{hardened, "CapEff", "Docker's 14", "Podman's 11", "as the bounding set"},
	{hardened, "NoNewPrivs", "1", "0",
		"Docker's presets set no_new_privs so that setuid binaries and file capabilities grant nothing; Podman sets it only with `--security-opt no-new-privileges`"},
	{[]string{parityRootful, parityRootless, parityPriv}, "ns cgroup", "new", "shared",
		"on a cgroup v1 or hybrid host Podman's default is `--cgroupns=host` (private only on v2); Paddock always creates a cgroup namespace, as Docker does on v2"},
	{[]string{paritySuper}, "ns uts", "shared", "new",
		"a super-privileged container shares the host's uts namespace (the SPC convention: the host's hostname); `podman run --privileged` keeps a new one unless `--uts=host`"},
	{hardened, "masked /proc/interrupts", "masked", "not masked",
		"Docker's list masks /proc/interrupts; Podman 4.3's containers-common list does not"},
	{hardened, "masked /sys/dev/block", "not masked", "masked",
		"Podman 4 also masks /sys/dev/block; Docker's list, which Paddock uses, does not"},
	{[]string{parityRootful, parityRootless}, "read-only /sys/fs/cgroup", "read-only", "writable tmpfs",
		"on cgroup v1 Podman mounts a writable tmpfs at /sys/fs/cgroup with each controller read-only below it; Paddock binds the host's hierarchy read-only"},
}

// TestParityTable fails if README.md does not hold the table of intended differences
// as intendedDifferences generates it; -update rewrites it.
func TestParityTable(t *testing.T) {
	checkGenerated(t, "../README.md", "<!-- parity-table -->\n", "<!-- /parity-table -->\n", parityMarkdown())
}

func parityMarkdown() string {
	var b strings.Builder
	b.WriteString("| kinds | fact | Paddock | Podman | why |\n|---|---|---|---|---|\n")
	for _, d := range intendedDifferences {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", strings.Join(d.kinds, ", "), d.fact, d.paddock, d.podman, d.reason)
	}
	return b.String()
}

// checkGenerated compares the text between begin and end in path with want and, with
// -update, rewrites it.
func checkGenerated(t *testing.T, path, begin, end, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(begin))
	j := bytes.Index(data, []byte(end))
	if i < 0 || j < i {
		t.Errorf("%s: no %q ... %q markers", path, strings.TrimSpace(begin), strings.TrimSpace(end))
		return
	}
	if string(data[i+len(begin):j]) == want {
		return
	}
	if !*update {
		t.Errorf("%s: the generated table differs; run go test ./sandbox -run %s -update\nwant:\n%s\ngot:\n%s", path, t.Name(), want, data[i+len(begin):j])
		return
	}
	out := append(append(append([]byte{}, data[:i+len(begin)]...), want...), data[j:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: table rewritten", path)
}

// parityScript is the probe run in both: the process's status lines, its namespaces,
// its uid map and its mount table.
const parityScript = `busybox grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status
for n in user mnt pid net ipc uts cgroup time; do echo "ns $n $(busybox readlink /proc/self/ns/$n)"; done
echo "uid_map $(busybox cat /proc/self/uid_map)"
echo mountinfo
busybox cat /proc/self/mountinfo`

// parityFacts turns the probe's output into facts: the five capability sets by
// name, seccomp mode and filters, no_new_privs, each namespace as new or shared with
// this process, the uid map, and for each mount of /proc and /sys whether it masks a
// path ("masked P") or is read-only ("read-only P").
func parityFacts(t *testing.T, out string) map[string]string {
	t.Helper()
	f := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	inMounts := false
	for sc.Scan() {
		line := sc.Text()
		if inMounts {
			parityMount(f, line)
			continue
		}
		switch key, val, _ := strings.Cut(line, ":"); {
		case line == "mountinfo":
			inMounts = true
		case strings.HasPrefix(key, "Cap"):
			n, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
			if err != nil {
				t.Fatalf("probe line %q: %v", line, err)
			}
			f[key] = strings.Join(caps.Set(n).Names(), " ")
		case key == "Seccomp" || key == "Seccomp_filters" || key == "NoNewPrivs":
			f[key] = strings.TrimSpace(val)
		case strings.HasPrefix(line, "ns "):
			parts := strings.Fields(line)
			if len(parts) != 3 {
				t.Fatalf("probe line %q", line)
			}
			f["ns "+parts[1]] = nsState(parts[1], parts[2])
		case strings.HasPrefix(line, "uid_map "):
			f["uid_map"] = strings.Join(strings.Fields(strings.TrimPrefix(line, "uid_map ")), " ")
		}
	}
	if !inMounts {
		t.Fatalf("the probe did not finish:\n%s", out)
	}
	return f
}

// nsState compares a namespace link ("net:[4026531840]") with this process's.
func nsState(kind, link string) string {
	own, err := os.Readlink("/proc/self/ns/" + kind)
	switch {
	case err != nil:
		return "unknown"
	case own == link:
		return "shared"
	}
	return "new"
}

// parityMount records a mount of /proc or /sys: a mask (a read-only tmpfs, or a
// bind of a null device) or a read-only mount. The cgroup controllers below
// /sys/fs/cgroup are left out: their layout depends on the host's hierarchies.
func parityMount(f map[string]string, line string) {
	pre, post, ok := strings.Cut(line, " - ")
	fields, fsFields := strings.Fields(pre), strings.Fields(post)
	if !ok || len(fields) < 6 || len(fsFields) < 1 {
		return
	}
	root, mp, opts, fstype := fields[3], fields[4], strings.Split(fields[5], ","), fsFields[0]
	if !(mp == "/proc" || mp == "/sys" || strings.HasPrefix(mp, "/proc/") || strings.HasPrefix(mp, "/sys/")) ||
		strings.HasPrefix(mp, "/sys/fs/cgroup/") {
		return
	}
	ro := slices.Contains(opts, "ro")
	if (fstype == "tmpfs" && ro && mp != "/sys/fs/cgroup") || strings.HasSuffix(root, "/null") {
		f["masked "+mp] = "masked"
		delete(f, "read-only "+mp)
		return
	}
	if ro {
		f["read-only "+mp] = "read-only"
	} else {
		delete(f, "read-only "+mp)
	}
}

// TestParityWithPodman runs the same probe in Paddock's rootful, rootless, privileged
// and super-privileged sandboxes and in `podman run --rootfs` with the matching
// flags, on the same busybox root filesystem, and fails on any difference that
// intendedDifferences does not list.
func TestParityWithPodman(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed: no peer to compare with")
	}
	if os.Getenv(testutil.EnvMode) != "" || testutil.Rootless() {
		parityRootlessCase(t, podman)
		return
	}
	for _, tc := range []struct {
		name       string
		opts       []sandbox.Option
		podmanArgs []string
	}{
		{parityRootful, nil, []string{"--network", "none"}},
		{parityPriv, []sandbox.Option{sandbox.Privileged()}, []string{"--network", "none", "--privileged"}},
		{paritySuper, []sandbox.Option{sandbox.SuperPrivileged()},
			[]string{"--privileged", "--ipc=host", "--net=host", "--pid=host", "-v", "/:/host"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rootfs := testutil.BusyboxRoot(t)
			paddock := paddockProbe(t, rootfs, tc.opts...)
			pm := newPodman(t, podman)
			compareParity(t, tc.name, paddock, pm.probe(t, rootfs, tc.podmanArgs...))
		})
	}
	t.Run(parityRootless, func(t *testing.T) { testutil.RunAsNobody(t, "^TestParityWithPodman$") })
}

// parityRootlessCase runs the rootless comparison as an unprivileged user.
func parityRootlessCase(t *testing.T, podman string) {
	rootfs := testutil.BusyboxRoot(t)
	paddock := paddockProbe(t, rootfs)
	pm := newPodman(t, podman)
	compareParity(t, parityRootless, paddock, pm.probe(t, rootfs, "--network", "none"))
}

// compareParity fails t on each fact that differs and is not an intended difference.
func compareParity(t *testing.T, kind string, paddock, podman map[string]string) {
	t.Helper()
	keys := map[string]bool{}
	for k := range paddock {
		keys[k] = true
	}
	for k := range podman {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	seen := map[string]bool{}
	for _, k := range sorted {
		a, b := paddock[k], podman[k]
		if a == b {
			continue
		}
		if d := intendedFor(kind, k); d != nil {
			seen[k] = true
			t.Logf("intended: %s: Paddock %q, Podman %q: %s", k, a, b, d.reason)
			continue
		}
		t.Errorf("%s: %s: Paddock %q, Podman %q, and this difference is not in the README's table of intended differences", kind, k, orNone(a), orNone(b))
	}
	for _, d := range intendedDifferences {
		if slices.Contains(d.kinds, kind) && !seen[d.fact] {
			t.Logf("listed difference not seen on this host: %s (%s)", d.fact, d.reason)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func intendedFor(kind, fact string) *intendedDifference {
	for i, d := range intendedDifferences {
		if d.fact == fact && slices.Contains(d.kinds, kind) {
			return &intendedDifferences[i]
		}
	}
	return nil
}

// paddockProbe runs the probe in a Paddock sandbox on rootfs.
func paddockProbe(t *testing.T, rootfs string, opts ...sandbox.Option) map[string]string {
	t.Helper()
	tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithRootfs(rootfs))...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	var out, errOut bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", parityScript}, Stdout: &out, Stderr: &errOut})
	if err != nil || !st.Success() {
		t.Fatalf("probe in Paddock: %v %v\n%s%s", st, err, out.String(), errOut.String())
	}
	return parityFacts(t, out.String())
}

// podmanRun is a Podman whose state lives in a temporary directory: storage,
// run root, temporary files, network configuration, runc's state and, as root, a
// cgroup parent of its own, all removed by the test's cleanup.
type podmanRun struct {
	bin, dir, cgroupParent string
	env                    []string
}

// podmanRunDirs are host paths Podman or runc create whatever their options say;
// the cleanup removes those that did not exist before, once empty.
var podmanRunDirs = []string{"/run/containers/networks", "/run/containers", "/run/libpod", "/run/runc", "/run/crun"}

func newPodman(t *testing.T, bin string) *podmanRun {
	t.Helper()
	dir, err := os.MkdirTemp("", "pm") // short: Podman takes no run root of over 50 characters
	if err != nil {
		t.Fatal(err)
	}
	p := &podmanRun{bin: bin, dir: dir}
	var existed []string
	for _, d := range podmanRunDirs {
		if _, err := os.Lstat(d); err == nil {
			existed = append(existed, d)
		}
	}
	if !testutil.Rootless() {
		p.cgroupParent = "/paddock-parity-" + testutil.RunID() + "-" + strings.TrimPrefix(filepath.Base(dir), "pm")
	} else {
		// Rootless Podman needs a home, a runtime directory and a storage of its own.
		for _, d := range []string{"home", "xdg"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		p.env = append(os.Environ(), "HOME="+filepath.Join(dir, "home"), "XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg"),
			"XDG_CONFIG_HOME="+filepath.Join(dir, "home/.config"), "XDG_DATA_HOME="+filepath.Join(dir, "home/.local/share"))
	}
	t.Cleanup(func() {
		if testutil.Rootless() {
			// Rootless Podman leaves a pause process holding its user namespace.
			if b, err := os.ReadFile(filepath.Join(dir, "tmp/pause.pid")); err == nil {
				if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if p.cgroupParent != "" {
			removeCgroupTrees(t, p.cgroupParent)
		}
		for _, d := range podmanRunDirs {
			if !slices.Contains(existed, d) {
				os.Remove(d) // only if empty: another runtime may be using it
			}
		}
		makeWritable(dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing Podman's state: %v", err)
		}
		if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(b), dir) {
			t.Errorf("a mount of %s was left behind:\n%s", dir, b)
		}
	})
	return p
}

// probe runs the probe in `podman run --rootfs rootfs` with args.
func (p *podmanRun) probe(t *testing.T, rootfs string, args ...string) map[string]string {
	t.Helper()
	global := []string{
		"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "runroot"),
		"--tmpdir", filepath.Join(p.dir, "tmp"), "--network-config-dir", filepath.Join(p.dir, "net"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none",
	}
	// crun 1.8 refuses a hybrid cgroup host ("cgroups in hybrid mode not
	// supported"); runc runs there.
	if runc, err := exec.LookPath("runc"); err == nil {
		global = append(global, "--runtime", runc, "--runtime-flag", "root="+filepath.Join(p.dir, "runc"))
	}
	run := []string{"run", "--rm", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}
	if p.cgroupParent != "" {
		run = append(run, "--cgroup-parent", p.cgroupParent)
	}
	argv := append(append(append(global, run...), args...), "--rootfs", rootfs, "/bin/sh", "-c", parityScript)
	cmd := exec.Command(p.bin, argv...)
	cmd.Env = p.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("podman %s: %v\n%s%s", strings.Join(argv, " "), err, out.String(), errOut.String())
	}
	return parityFacts(t, out.String())
}

// removeCgroupTrees removes the cgroup parent that Podman created, with everything
// below it, in every hierarchy. Podman's conmon can still be finishing when
// podman run --rm returns: what is left in the cgroups is killed, and removal is
// retried for a while.
func removeCgroupTrees(t *testing.T, parent string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*" + parent)
	if own, err := os.Stat("/sys/fs/cgroup" + parent); err == nil && own.IsDir() {
		roots = append(roots, "/sys/fs/cgroup"+parent)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var busy []string
		for _, root := range roots {
			busy = append(busy, testutil.RemoveCgroupTree(root)...)
		}
		if len(busy) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("removing Podman's cgroups: %v still busy", busy)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// makeWritable gives the owner write access to every directory below dir, so that
// RemoveAll can empty the read-only directories a container storage may hold.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if fi, err := d.Info(); err == nil {
				os.Chmod(p, fi.Mode().Perm()|0o700)
			}
		}
		return nil
	})
}
