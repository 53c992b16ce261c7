package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// peerCaps are the capabilities every sandbox of BenchmarkPeers gets: those of
// `runc spec` and `crun spec` (bounding, effective and permitted; no inheritable
// or ambient ones).
var peerCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// peerProbe is what a sandbox of BenchmarkPeers runs, once, in place of /bin/true,
// to show what it got: its capabilities, no_new_privs and seccomp mode, its
// namespaces (by inode, which describeProbe compares with the benchmark's), its
// mount points, and whether its root is writable.
var peerProbe = []string{"/bin/sh", "-c", `grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\t\n' '  '
for n in mnt pid net ipc uts user cgroup; do printf '%s=%s ' $n "$(readlink /proc/self/ns/$n)"; done
awk '{printf "%s%s", (NR > 1 ? "," : "mounts="), $5} END {printf " "}' /proc/self/mountinfo
if touch /.paddock-peers 2>/dev/null; then echo root=rw; else echo root=ro; fi`}

// A peer is one way of running busybox's /bin/true from the busybox root
// filesystem: argv returns the command line that runs args in it, preparing
// whatever the command needs (a bundle, a state directory) under b.
type peer struct {
	name string
	bin  string // looked up in PATH; its absence skips the sub-benchmark
	ids  bool   // each run needs a fresh container ID, appended to argv
	argv func(b *testing.B, bin, root string, args []string) []string
}

var peers = []peer{
	{name: "bwrap", bin: "bwrap", argv: bwrapArgv},
	{name: "crun", bin: "crun", ids: true, argv: ociArgv},
	{name: "runc", bin: "runc", ids: true, argv: ociArgv},
}

// BenchmarkPeers is what a Go service that sandboxes a command compares: os/exec
// of bubblewrap, crun and runc against Start+Wait of a prebuilt Template in its
// own process, all running busybox's /bin/true from one busybox root filesystem
// with the same isolation: new mount, pid, ipc, uts and network namespaces (and a
// user namespace mapping only the caller, when the caller is not root; no cgroup
// namespace), the read-only root, the capabilities of peerCaps, no_new_privs, no
// cgroup limits. Paddock loads its default seccomp filter (Docker's profile); the
// peers load none, as none has a default. exec-true, os/exec of the same busybox
// /bin/true with no sandbox, is the floor. paddock-pooled is the same Template
// with a warm pool of poolSize, full again (untimed) before each start. Each sub-benchmark logs once, as a
// "probe" line, what its sandbox got (peerProbe).
func BenchmarkPeers(b *testing.B) {
	root := testutil.BusyboxRoot(b)
	b.Run("exec-true", func(b *testing.B) { benchExec(b, []string{filepath.Join(root, "bin/true")}, false) })
	b.Run("paddock", func(b *testing.B) { benchPaddockPeer(b, root, false) })
	b.Run("paddock-pooled", func(b *testing.B) { benchPaddockPeer(b, root, true) })
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			bin, err := exec.LookPath(p.bin)
			if err != nil {
				b.Skipf("%s: not in PATH: %v", p.bin, err)
			}
			if p.name == "crun" {
				skipCrunOnUnifiedControllers(b)
			}
			probe := p.argv(b, bin, root, peerProbe)
			if p.ids {
				probe = append(probe, "peers-probe")
			}
			b.Logf("probe: %s", describeProbe(b, runPeer(b, probe)))
			benchExec(b, p.argv(b, bin, root, []string{"/bin/true"}), p.ids)
		})
	}
}

// peerOptions is Paddock's sandbox with the isolation of BenchmarkPeers.
func peerOptions(root string) []sandbox.Option {
	base := sandbox.Rootful()
	if os.Geteuid() != 0 {
		base = sandbox.Rootless() // root inside is the caller outside, as the peers map it
	}
	return []sandbox.Option{base, sandbox.WithRootDir(root), sandbox.WithReadonlyRootfs(),
		sandbox.WithoutCgroup(), sandbox.WithHostNamespaces(namespace.Cgroup), sandbox.WithCaps(peerCaps...)}
}

// benchPaddockPeer logs what Paddock's sandbox got, then measures its Start+Wait;
// pooled, with a warm pool (benchPooled), whose sandbox the probe comes from.
func benchPaddockPeer(b *testing.B, root string, pooled bool) {
	tpl, err := sandbox.NewBuilder(peerOptions(root)...).Build()
	if err != nil {
		b.Fatal(err)
	}
	if pooled {
		if err := tpl.Pool(context.Background(), poolSize); err != nil {
			b.Fatal(err)
		}
		if !waitPool(tpl, poolSize, 10*time.Second) {
			b.Fatalf("%d warm sandboxes after 10s, want %d", tpl.Warm(), poolSize)
		}
	}
	var out bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: peerProbe, Stdout: &out, Stderr: &out})
	tpl.Close()
	if err != nil || !st.Success() {
		b.Fatalf("probe: %v %v: %s", st, err, out.String())
	}
	b.Logf("probe: %s", describeProbe(b, out.String()))
	if pooled {
		benchPooled(b, peerOptions(root)...)
		return
	}
	benchStart(b, peerOptions(root)...)
}

// maxPeerFailures is the fraction of its runs that a peer may fail before
// BenchmarkPeers gives up on it: rootless runc exits 1 about once in 200 runs
// here, which says nothing of its speed.
const maxPeerFailures = 0.05

// benchExec measures os/exec of argv, with its standard streams on /dev/null;
// with ids, each run gets a fresh container ID as its last argument. A run that
// fails is counted ("failed", logged once with the command's message) and left
// out of ns/op, which is the mean of the runs that succeeded; more than
// maxPeerFailures of b.N failed (and at least 2) fail b.
func benchExec(b *testing.B, argv []string, ids bool) {
	b.ReportAllocs()
	b.ResetTimer()
	var ok time.Duration
	failed := 0
	for i := range b.N {
		cmd := exec.Command(argv[0], argv[1:]...)
		if ids {
			cmd.Args = append(cmd.Args, fmt.Sprintf("peers-%d-%d", b.N, i))
		}
		t0 := time.Now()
		err := cmd.Run()
		if d := time.Since(t0); err == nil {
			ok += d
			continue
		}
		if failed++; failed == 1 {
			again := slices.Clone(cmd.Args)
			if ids {
				again[len(again)-1] += "-again" // a container the failed run left keeps its ID
			}
			out, _ := exec.Command(again[0], again[1:]...).CombinedOutput() // for its message
			b.Logf("%q: %v (run again: %s)", cmd.Args, err, bytes.TrimSpace(out))
		}
		if failed > 1 && float64(failed) > maxPeerFailures*float64(b.N) {
			b.Fatalf("%q failed %d of %d runs", argv, failed, b.N)
		}
	}
	if failed == b.N {
		b.Fatalf("%q failed every run", argv)
	}
	b.ReportMetric(float64(ok.Nanoseconds())/float64(b.N-failed), "ns/op")
	b.ReportMetric(float64(failed), "failed")
}

// runPeer runs argv once and returns its output, failing b if it fails.
func runPeer(b *testing.B, argv []string) string {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		b.Fatalf("%q: %v: %s", argv, err, out)
	}
	return string(out)
}

// describeProbe restates peerProbe's output with the namespaces named by whether
// they are new ("new: mnt pid ...") rather than by inode.
func describeProbe(b *testing.B, out string) string {
	var kept, fresh []string
	fields := strings.Fields(out)
	for _, f := range fields {
		name, link, ok := strings.Cut(f, "=")
		if !ok || !strings.Contains(link, ":[") {
			if ok {
				kept = append(kept, f)
			}
			continue
		}
		own, err := os.Readlink("/proc/self/ns/" + name)
		if err != nil {
			b.Fatal(err)
		}
		if own != link {
			fresh = append(fresh, name)
		}
	}
	var status []string
	for i := 0; i+1 < len(fields); i++ {
		if strings.HasSuffix(fields[i], ":") {
			status = append(status, fields[i]+" "+fields[i+1])
		}
	}
	return fmt.Sprintf("%s; new namespaces: %s; %s", strings.Join(status, " "), strings.Join(fresh, " "), strings.Join(kept, " "))
}

// bwrapArgv is bubblewrap with the isolation of BenchmarkPeers.
func bwrapArgv(_ *testing.B, bin, root string, args []string) []string {
	argv := []string{bin, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"}
	if os.Geteuid() != 0 {
		argv = append(argv, "--unshare-user", "--uid", "0", "--gid", "0")
	}
	argv = append(argv, "--ro-bind", root, "/", "--proc", "/proc", "--dev", "/dev", "--cap-drop", "ALL")
	for _, c := range peerCaps {
		argv = append(argv, "--cap-add", c)
	}
	return append(argv, args...)
}

// ociArgv is `run` of a bundle made from the runtime's own `spec` (`spec
// --rootless` when the caller is not root) with the isolation of BenchmarkPeers,
// under a state directory of its own; each call of the returned command line
// needs a fresh container ID, appended to it, and every container left
// in the state directory is deleted when b ends.
func ociArgv(b *testing.B, bin, root string, args []string) []string {
	dir := b.TempDir()
	bundle, state := filepath.Join(dir, "bundle"), filepath.Join(dir, "state")
	writeOCIConfig(b, bin, bundle, root, args)
	b.Cleanup(func() { deleteContainers(b, bin, state) })
	return []string{bin, "--root", state, "run", "--bundle", bundle}
}

// writeOCIConfig writes bundle/config.json: bin's generated spec with the root,
// the process and the namespaces of BenchmarkPeers.
func writeOCIConfig(b *testing.B, bin, bundle, root string, args []string) {
	if err := os.Mkdir(bundle, 0o755); err != nil {
		b.Fatal(err)
	}
	spec := exec.Command(bin, "spec")
	if os.Geteuid() != 0 {
		spec.Args = append(spec.Args, "--rootless")
	}
	spec.Dir = bundle
	if out, err := spec.CombinedOutput(); err != nil {
		b.Fatalf("%s spec: %v: %s", bin, err, out)
	}
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		b.Fatal(err)
	}
	alignOCIConfig(cfg, root, args)
	if data, err = json.Marshal(cfg); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
}

// alignOCIConfig sets cfg's root, process and namespaces to BenchmarkPeers'.
// The generated specs already have no seccomp section and no limits beyond a
// device rule; both are left as they are.
func alignOCIConfig(cfg map[string]any, root string, args []string) {
	cfg["root"] = map[string]any{"path": root, "readonly": true}
	proc := cfg["process"].(map[string]any)
	proc["args"], proc["terminal"] = args, false
	proc["capabilities"] = map[string]any{"bounding": peerCaps, "effective": peerCaps, "permitted": peerCaps}
	linux := cfg["linux"].(map[string]any)
	ns := []map[string]string{{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}}
	if id := os.Geteuid(); id != 0 {
		ns = append(ns, map[string]string{"type": "user"})
		linux["uidMappings"] = []map[string]int{{"containerID": 0, "hostID": id, "size": 1}}
		linux["gidMappings"] = []map[string]int{{"containerID": 0, "hostID": os.Getegid(), "size": 1}}
	}
	linux["namespaces"] = ns
}

// deleteContainers deletes every container that a failed run left in state.
func deleteContainers(b *testing.B, bin, state string) {
	out, err := exec.Command(bin, "--root", state, "list", "-q").Output()
	if err != nil {
		return // no state directory: nothing ran
	}
	for _, id := range strings.Fields(string(out)) {
		if out, err := exec.Command(bin, "--root", state, "delete", "--force", id).CombinedOutput(); err != nil {
			b.Errorf("%s delete --force %s: %v: %s", bin, id, err, out)
		}
	}
}

// skipCrunOnUnifiedControllers skips b where crun 1.8.1 refuses to run: while
// the cgroup v2 mount of a hybrid host lists a controller. bench/peers.sh runs
// the benchmark in a mount namespace where that mount is detached.
func skipCrunOnUnifiedControllers(b *testing.B) {
	data, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		b.Skipf("crun: refuses to run while /sys/fs/cgroup/unified lists controllers (%s); detach it in a private mount namespace, as bench/peers.sh does",
			bytes.TrimSpace(data))
	}
}
