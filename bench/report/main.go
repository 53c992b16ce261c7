package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Result mirrors one entry of the side-by-side JSON.
type Result struct {
	Name     string   `json:"name"`
	Argv     []string `json:"argv"`
	Runs     int      `json:"runs"`
	Failures int      `json:"failures"`
	MedianMS float64  `json:"median_ms"`
	P10MS    float64  `json:"p10_ms"`
	P90MS    float64  `json:"p90_ms"`
	Ratio    float64  `json:"ratio_to_true"`
}

// Report mirrors the side-by-side JSON document.
type Report struct {
	Date      string   `json:"date"`
	Kernel    string   `json:"kernel"`
	CPUs      int      `json:"cpus"`
	GoVersion string   `json:"go_version"`
	UID       int      `json:"uid"`
	MountNS   string   `json:"mount_ns"`
	N         int      `json:"n"`
	Warmup    int      `json:"warmup"`
	Baseline  string   `json:"baseline"`
	Results   []Result `json:"results"`
}

func (r *Report) get(name string) *Result {
	for i := range r.Results {
		if r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}

// bench is one line of `go test -bench` output.
type bench struct {
	name   string
	nsOp   float64
	allocs string
	perSec float64 // the sandboxes/s metric of BenchmarkThroughput
	// The halves of a Start+Wait (BenchmarkStart): the call to the target's exec,
	// and the rest, to the end of Wait; 0 where not reported.
	startUS, waitUS float64
	metrics         map[string]float64 // every "VALUE UNIT" pair after ns/op, by unit
}

var (
	benchLine  = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:.*?\s(\d+) allocs/op)?`)
	perSecLine = regexp.MustCompile(`([\d.]+) sandboxes/s`)
	startLine  = regexp.MustCompile(`([\d.]+) start-µs/op`)
	waitLine   = regexp.MustCompile(`([\d.]+) wait-µs/op`)
	metricPair = regexp.MustCompile(`\s([\d.]+) (\S+)`)
)

func readBench(path string) ([]bench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []bench
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil || !(m[1] == "BenchmarkExecTrue" || strings.HasPrefix(m[1], "BenchmarkStart/") ||
			strings.HasPrefix(m[1], "BenchmarkHeap/") || strings.HasPrefix(m[1], "BenchmarkThroughput/") ||
			strings.HasPrefix(m[1], "BenchmarkPool/")) {
			continue
		}
		ns, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
		}
		b := bench{name: m[1], nsOp: ns, allocs: m[3], metrics: map[string]float64{}}
		for _, pair := range metricPair.FindAllStringSubmatch(sc.Text(), -1) {
			b.metrics[pair[2]], _ = strconv.ParseFloat(pair[1], 64)
		}
		if ps := perSecLine.FindStringSubmatch(sc.Text()); ps != nil {
			b.perSec, _ = strconv.ParseFloat(ps[1], 64)
		}
		if m := startLine.FindStringSubmatch(sc.Text()); m != nil {
			b.startUS, _ = strconv.ParseFloat(m[1], 64)
		}
		if m := waitLine.FindStringSubmatch(sc.Text()); m != nil {
			b.waitUS, _ = strconv.ParseFloat(m[1], 64)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no BenchmarkExecTrue or BenchmarkStart lines", path)
	}
	return out, nil
}

func findBench(bs []bench, name string) *bench {
	for i := range bs {
		if bs[i].name == name {
			return &bs[i]
		}
	}
	return nil
}

func readReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Report{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.get(r.Baseline) == nil || r.get("paddock") == nil {
		return nil, fmt.Errorf("%s: needs the %q and \"paddock\" commands", path, r.Baseline)
	}
	return r, nil
}

func main() {
	rootful := flag.String("rootful", "", "side-by-side JSON of the rootful run")
	rootless := flag.String("rootless", "", "side-by-side JSON of the rootless run (optional)")
	gbRoot := flag.String("gobench-root", "", "go test -bench output of package sandbox, run as root (optional)")
	gbRootless := flag.String("gobench-rootless", "", "go test -bench output of package sandbox, run as uid 65534 (optional)")
	probeRoot := flag.String("probe-rootful", "", "what each rootful sandbox reported of its status (optional)")
	probeRootless := flag.String("probe-rootless", "", "what each rootless sandbox reported of its status (optional)")
	peersRoot := flag.String("peers-root", "", "BenchmarkPeers output of bench/peers.sh, run as root (optional)")
	peersRootless := flag.String("peers-rootless", "", "BenchmarkPeers output of bench/peers.sh, run as uid 65534 (optional)")
	nosplit := flag.String("nosplit", "", `the outcome of internal/child's TestChildIsNosplit: "ok", or what failed (optional)`)
	runs := flag.Int("runs", 0, "the -n given to run.sh, to restate the command")
	mdPath := flag.String("md", "BENCHMARKS.md", "Markdown output")
	svgPath := flag.String("svg", "bench/chart.svg", "SVG output")
	flag.Parse()
	if *rootful == "" {
		fail(errors.New("-rootful is required"))
	}
	var runsets []runset
	r, err := readReport(*rootful)
	fail(err)
	runsets = append(runsets, runset{"rootful (as root)", r, readOpt(*probeRoot)})
	if *rootless != "" {
		r, err := readReport(*rootless)
		fail(err)
		runsets = append(runsets, runset{fmt.Sprintf("rootless (as uid %d)", r.UID), r, readOpt(*probeRootless)})
	}
	var gbs []gorun
	if *gbRoot != "" {
		b, err := readBench(*gbRoot)
		fail(err)
		gbs = append(gbs, gorun{"as root", b})
	}
	if *gbRootless != "" {
		b, err := readBench(*gbRootless)
		fail(err)
		gbs = append(gbs, gorun{"as uid 65534", b})
	}
	var prs []peerRun
	for _, f := range []struct{ path, title string }{{*peersRoot, "as root"}, {*peersRootless, "as uid 65534"}} {
		if f.path != "" {
			pr, err := readPeers(f.path, f.title)
			fail(err)
			prs = append(prs, pr)
		}
	}
	mdAbs, err := filepath.Abs(*mdPath)
	fail(err)
	svgAbs, err := filepath.Abs(*svgPath)
	fail(err)
	svgRel, err := filepath.Rel(filepath.Dir(mdAbs), svgAbs)
	fail(err)
	md := markdown(runsets, gbs, prs, *nosplit, *runs, filepath.ToSlash(svgRel))
	fail(os.WriteFile(*mdPath, []byte(md), 0o644))
	fail(os.WriteFile(*svgPath, []byte(chart(runsets)), 0o644))
}

type runset struct {
	title string
	r     *Report
	probe string
}

type gorun struct {
	title   string
	benches []bench
}

func readOpt(path string) string {
	if path == "" {
		return ""
	}
	data, err := os.ReadFile(path)
	fail(err)
	return strings.TrimRight(string(data), "\n")
}

func markdown(runsets []runset, gbs []gorun, prs []peerRun, nosplit string, runs int, svg string) string {
	var b strings.Builder
	first := runsets[0].r
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Benchmarks\n\n")
	p("Generated by `bench/run.sh` (rerun it, as root, with `--rootless` for the second half, to\n")
	p("regenerate this file and `bench/chart.svg`). Wall time of a whole spawn of `/bin/true` in\n")
	p("each sandbox, from fork to the end of wait, measured side by side: the commands alternate\n")
	p("run by run (A B C D A B C D …) after %d warm-up runs each, so that the phases of a shared,\n", first.Warmup)
	p("noisy machine weigh on all of them alike. Compare ratios, not milliseconds.\n\n")
	p("- Machine: %s, %d CPUs, %s\n", first.Kernel, first.CPUs, first.GoVersion)
	p("- Date: %s\n", first.Date)
	p("- Runs: %d per command and mode", first.N)
	if runs > 0 {
		p(" (`bench/run.sh -n %d`)", runs)
	}
	p("\n- Mount namespace of every command: %s. crun 1.8.1 refuses to\n", first.MountNS)
	p("  run while the cgroup v2 mount of this hybrid host lists a controller; every command,\n")
	p("  not only crun, runs in that same namespace.\n\n")
	p("![median spawn time per sandbox](%s)\n\n", svg)

	targetsTable(p, runsets, gbs, prs, nosplit)
	p("\nThe side-by-side target compares whole processes: `paddock` there is `examples/run`, a Go\n")
	p("program that starts, builds its Template (seccomp compilation included) and spawns once.\n")
	p("The Go benchmark targets measure Start+Wait of a prebuilt Template against\n")
	p("`Pool/exec-true`, os/exec of `/bin/true` in the same run of the same test binary. Before\n")
	p("each pooled start the pool (2 warm sandboxes) is full again, untimed: the refill that a\n")
	p("start begins runs beside it and its Wait, not on the next start's path; the throughput\n")
	p("rows wait for nothing, so the refill counts there. `rootless` is `Rootless()` on the\n")
	p("host's `/`: as uid 65534 the default sandbox (vfork unpooled; a pool keeps warm\n")
	p("children that share its address space). As root it maps a block of subordinate IDs per\n")
	p("start (so its warm children are forks: see the README's pool paragraph) and may create a\n")
	p("per-start cgroup, which a real rootless caller on cgroup v1 cannot: where both exist, the\n")
	p("run as uid 65534 is the one that answers the target. The peer targets are the medians of\n")
	p("the rounds of `bench/peers.sh` (its section below has each round's spread). A warm child\n")
	p("of the default Template shares the caller's address space (`CLONE_VM`) and costs nothing\n")
	p("per page of the caller's heap; one that must fork shares the heap until the caller writes\n")
	p("to it, then keeps the old pages, and copies the page tables: the memory row counts each\n")
	p("sharing child as 0 and reads `/proc/PID/smaps_rollup` and `status` of each other one.\n\n")

	for _, rs := range runsets {
		r := rs.r
		pd := r.get("paddock")
		p("## Side by side, %s\n\n", rs.title)
		p("| command | median ms | p10 ms | p90 ms | ratio to `%s` | its median ÷ paddock's | failed runs |\n|---|---:|---:|---:|---:|---:|---:|\n", r.Baseline)
		for _, res := range r.Results {
			vs := ""
			if res.Name != r.Baseline && pd.MedianMS > 0 {
				vs = fmt.Sprintf("%.2f×", res.MedianMS/pd.MedianMS)
				if !strings.HasPrefix(res.Name, "paddock") {
					vs = "**" + vs + "**"
				}
			}
			p("| %s | %.3f | %.3f | %.3f | %.2f× | %s | %d of %d |\n", res.Name, res.MedianMS, res.P10MS, res.P90MS, res.Ratio, vs, res.Failures, res.Runs+res.Failures)
		}
		p("\nA run that fails is counted in the last column and left out of the figures; the\n")
		p("harness stops only when a command fails more than 5%% of its runs.\n")
		p("\nExact commands (`{id}` is a number unique to each run; `$TMP` the run's temporary directory):\n\n```\n")
		for _, res := range r.Results {
			p("%-18s %s\n", res.Name, tmpName(strings.Join(res.Argv, " ")))
		}
		p("```\n\n")
		if rs.probe != "" {
			p("What each sandbox reports from `/proc/self/status` inside it (same setup, same rootfs,\n")
			p("`grep -E '^(CapEff|NoNewPrivs|Seccomp):'` in place of `/bin/true`):\n\n```\n%s\n```\n\n", tmpName(rs.probe))
		}
	}

	for _, g := range gbs {
		et := findBench(g.benches, "BenchmarkExecTrue")
		p("## Go benchmarks, %s\n\n", g.title)
		p("`go test -c ./sandbox`, then `sandbox.test -test.run '^$' -test.bench '^Benchmark(ExecTrue|Start|Heap|Throughput|Pool)$'\n")
		p("-test.benchtime %dx` in the same kind of mount namespace (as a user, only the presets a user\n", max(runs, 1))
		p("can start). Start is Start+Wait of a prebuilt Template: no Build and no Go start-up,\n")
		p("unlike `paddock-run` above. Its two halves: *start*, from the call to the target's exec\n")
		p("(the clone and the child's whole setup), and *wait*, from there to the end of Wait (the\n")
		p("target's run, its exit, the reaping). `rootless-rootfs` is the default rootless sandbox on\n")
		p("a busybox root filesystem instead of the host's `/`: one overlay, where the host's `/` takes\n")
		p("one per top-level directory (see below). The `Pool` rows are `BenchmarkPool`, whose ratios\n")
		p("are to its own `Pool/exec-true`, measured in the same run: an unpooled and a pooled start\n")
		p("of each Template of the targets above, and the throughput of the default Template with 2\n")
		p("starters, unpooled and pooled.\n\n")
		p("| benchmark | ms/op | ratio to ExecTrue | start ms | wait ms | sandboxes/s | allocs/op |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, bm := range g.benches {
			floor := et
			if strings.HasPrefix(bm.name, "BenchmarkPool/") {
				floor = findBench(g.benches, "BenchmarkPool/exec-true")
			}
			ratio := "—"
			if x, ok := ratioTo(&bm, floor); ok {
				ratio = fmt.Sprintf("%.2f×", x)
			}
			perSec := ""
			if bm.perSec > 0 {
				perSec = fmt.Sprintf("%.0f", bm.perSec)
			}
			half := func(us float64) string {
				if us == 0 {
					return ""
				}
				return fmt.Sprintf("%.3f", us/1e3)
			}
			p("| %s | %.3f | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(bm.name, "Benchmark"), bm.nsOp/1e6, ratio, half(bm.startUS), half(bm.waitUS), perSec, bm.allocs)
		}
		p("\n")
	}

	whereTheTimeGoes(p)
	p("## What each command isolates\n\n")
	p("All run `/bin/true` (busybox) of the same busybox-static root filesystem, with stdin, stdout\n")
	p("and stderr on `/dev/null` and no terminal.\n\n")
	p("- **true**: the host's `/bin/true`, no isolation: the floor.\n")
	p("- **paddock**: `examples/run` with its default preset: an overlay root (ephemeral upper\n")
	p("  layer) on the rootfs; new mount, pid, net, ipc, uts and cgroup namespaces (and a user\n")
	p("  namespace when rootless); Docker's default mounts, masked and read-only paths; Docker's\n")
	p("  14 capabilities; Docker's seccomp profile; no_new_privs.\n")
	p("- **paddock-nonet**: the same with `--net host` (no new network namespace).\n")
	p("- **paddock-noseccomp**: the same with `--security-opt seccomp=unconfined`, as the peers'\n")
	p("  defaults load no filter.\n")
	p("- **paddock-dryrun**: `examples/run --dry-run`: Go start-up, flags, the Spec printed as JSON;\n")
	p("  no Build, no spawn. Not a sandbox: the share of `paddock` that is the front end's start-up.\n")
	p("- **bwrap**: `--unshare-all` (user, ipc, pid, net, uts, cgroup namespaces), the rootfs bound\n")
	p("  read-only as `/`, a new `/proc`, a minimal `/dev`, a tmpfs `/tmp`. It lacks seccomp, masked\n")
	p("  and read-only kernel paths, `/sys`, an overlay (a read-only root instead), cgroups, and a\n")
	p("  capability bound: as root it keeps the full set of its user namespace, as non-root none.\n")
	p("- **crun**, **runc**: `run` of a bundle whose config.json is the runtime's own `spec`\n")
	p("  (`spec --rootless`, generated as the rootless user, for the rootless run) with only\n")
	p("  `root.path`, `process.args` and `process.terminal=false` changed: new pid, net, ipc, uts\n")
	p("  and mount namespaces (and user, rootless; no cgroup namespace), the rootfs read-only (no\n")
	p("  overlay), default mounts, masked and read-only paths, 3 capabilities (AUDIT_WRITE, KILL,\n")
	p("  NET_BIND_SERVICE), no_new_privs, a device cgroup rule, and **no seccomp**: the generated\n")
	p("  spec has none. Each run also writes and removes a container state directory (`--root` in\n")
	p("  the temporary directory) and, as root, creates and removes a cgroup. Rootless: runc's\n")
	p("  generated spec has **no network namespace** (compare it with `paddock-nonet`); crun's has\n")
	p("  no ID maps, so `run.sh` adds the single map `0 → 65534` that runc's spec has (without it\n")
	p("  crun first tries `newuidmap` for a range uid 65534 does not own, then falls back).\n\n")
	p("Where the comparison is not even: paddock pays for Docker's seccomp filter and 14\n")
	p("capabilities where the peers' defaults load no filter (compare `paddock-noseccomp`); the\n")
	p("peers get a read-only root where paddock mounts an overlay; bubblewrap skips masks, `/sys`\n")
	p("and cgroups; crun and runc keep state on disk, and runc re-executes itself (`runc init`).\n")
	p("`paddock` is a whole Go program per run, start-up included, where bubblewrap and crun are C.\n")
	return b.String()
}

// whereTheTimeGoes is the analysis behind the targets that are not met: what perf
// showed on this machine (2026-11-29), not figures of the run above.
func whereTheTimeGoes(p func(string, ...any)) {
	p("## Where the time goes\n\n")
	p("Measured on this machine with `perf` (sched and syscall tracepoints, and a kernel\n")
	p("profile of `BenchmarkStart/rootless-nocgroup/nonet/vfork`) on 2026-11-29; not figures of\n")
	p("the run above, and slower under tracing.\n\n")
	p("- **The default root of a rootless sandbox is 8 overlays here.** Inside a user namespace\n")
	p("  every inherited mount is locked, and overlayfs refuses a lower layer with locked\n")
	p("  mounts beneath it, so the host's `/` becomes one overlay per non-empty top-level\n")
	p("  directory on a tmpfs root, with an upper and a work directory each (and a bind for\n")
	p("  each of the 2 that uid 65534 may not search, `/root` and `/lost+found`). A writable\n")
	p("  overlay mount costs about 53 µs here (a read-only one 23 µs: the rest is the work\n")
	p("  directory's checks). The child's setup makes 43 mounts and 47 directories; in the\n")
	p("  kernel profile `mount` is 30%% of all samples (`ovl_fill_super` 15%%), the teardown of\n")
	p("  the mount tree 16%%, `mkdir` 7%%. On one lower layer with nothing mounted beneath it\n")
	p("  (`rootless-rootfs`, the shape of every container image and of bubblewrap's\n")
	p("  `--ro-bind`) the same sandbox needs one overlay: compare its rows above.\n")
	p("- **Resolving inside the root, and hiding the host's secrets** (2026-12-05, five\n")
	p("  interleaved runs of 300 starts each, the binaries before and after): every mount\n")
	p("  point, mask and device node is resolved from a descriptor of the root (`openat2`),\n")
	p("  and a bind is a detached copy attached with `move_mount`; on one lower layer\n")
	p("  (`rootless-rootfs`) that costs about 0.1 ms a start (1.50 → 1.59 ms). On the host's\n")
	p("  `/`, the default root also gets empty tmpfs on `/tmp`, `/var/tmp` and `/run`, a copy\n")
	p("  of one empty read-only tmpfs on each hidden directory and `/dev/null` on each\n")
	p("  hidden file (README, \"The default root\"): about 0.45 ms more (`rootful-nocgroup/nonet`\n")
	p("  1.57 → 2.04 ms, `rootless-nocgroup/nonet` 2.60 → 3.12 ms). `WithHostRoot` with an\n")
	p("  empty HostRoot, or a root filesystem of its own, leaves that cost out.\n")
	p("- **Setup, not exec or wait.** From clone to exec the child spends 1.4 to 1.7 ms (its\n")
	p("  own system calls are 1.5 ms of that under tracing: mounts 0.85, mkdir 0.23, the\n")
	p("  seccomp load 0.08, the 30 prctl calls of the capability bound 0.05). `norootfs`, the\n")
	p("  same namespaces and privileges without a root filesystem, starts in about a third of\n")
	p("  a millisecond: compare the *start* column above.\n")
	p("- **The mount namespace's teardown is off Wait.** The last process of a mount\n")
	p("  namespace unmounts its tree before its parent can reap it: 0.4 to 0.5 ms from exit to\n")
	p("  the end of Wait with the host's `/` as the lower layer. The parent now holds the\n")
	p("  namespace from the clone and drops it in a goroutine after Wait, so exit to reaped is\n")
	p("  about 0.15 ms. In these back-to-back loops the teardown then runs during the next\n")
	p("  start and competes with it for the CPUs and the grace periods below, so the\n")
	p("  Start+Wait figures barely move; a caller that does anything between two sandboxes\n")
	p("  gets it.\n")
	p("- **A new network namespace** adds about 0.4 ms to the clone (`copy_net_ns`), 0.2 ms to\n")
	p("  bring the loopback up, and its asynchronous cleanup competes for the two CPUs.\n")
	p("  `WithSharedNetNS` prepares one in Build for every start, as root only: a rootless\n")
	p("  sandbox would have to join a user namespace shared by all sandboxes to join it.\n")
	p("- **Throughput is not CPU-bound.** As uid 65534, 2 starters use about 3.9 ms of CPU per\n")
	p("  sandbox (2.8 ms of it in the kernel), 60%% of the two CPUs. The rest is waiting for\n")
	p("  expedited RCU grace periods, which the kernel runs one at a time: the destruction of\n")
	p("  every overlay superblock waits for one (`ovl_free_fs` → `kern_unmount_array`), eight for\n")
	p("  the host's `/` split per directory, and so do the unmount of the old root in the child\n")
	p("  and the namespace's teardown (`namespace_unlock`); these are most of the blocked time\n")
	p("  in an off-CPU profile of `Throughput/default/starters=2`. With one overlay instead of\n")
	p("  eight, `Throughput/rootless-rootfs` shows what the same sandbox reaches.\n")
	p("- **Cgroups (rootful default)** cost about 1 ms a start on this cgroup v1 host: a\n")
	p("  directory made and removed in each of 6 hierarchies (0.28 ms), 12 device rule writes,\n")
	p("  and 6 joins. A join writes the hierarchy's `tasks` file, which takes no global lock for a\n")
	p("  single thread that moves itself; a write to `cgroup.procs` takes `cgroup_threadgroup_rwsem`\n")
	p("  and waits for an RCU grace period (5 to 15 ms for a process's first start, as in an OCI\n")
	p("  runtime's `create`).\n")
	p("- **The front end** (`paddock` side by side): Go's start and package initialisation\n")
	p("  are most of `paddock-dryrun` above (containerd's cgroup package brought protobuf and\n")
	p("  dbus, 0.3 ms of each start's initialisation and 5 MB: package cgroup now makes the v2\n")
	p("  device program itself); a cold Build takes 1.5 ms as uid 65534 (a third of it the overlay\n")
	p("  probe, with the seccomp profile and filter compiled on the other CPU meanwhile) and\n")
	p("  1 ms as root. bubblewrap's whole run is about 5.5× `true`: a Go program, whose\n")
	p("  start alone is most of that, cannot be twice as fast.\n\n")
}

var tmpPath = regexp.MustCompile(`/tmp/paddock-bench\.[A-Za-z0-9]+`)

func tmpName(s string) string { return tmpPath.ReplaceAllString(s, "$$TMP") }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// chart draws horizontal bars of the median per command, one group per mode,
// with the p10-p90 range as a whisker.
func chart(runsets []runset) string {
	const (
		left, right, barH, gap, top = 160.0, 150.0, 18.0, 6.0, 34.0
		width                       = 800.0
	)
	var maxMS float64
	rows := 0
	for _, rs := range runsets {
		for _, res := range rs.r.Results {
			maxMS = max(maxMS, res.P90MS)
			rows++
		}
	}
	if maxMS == 0 {
		maxMS = 1
	}
	plotW := width - left - right
	height := top + float64(rows)*(barH+gap) + float64(len(runsets))*28 + 16
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="10" y="22" font-size="15" font-weight="bold">Spawn of /bin/true: median wall time in ms (ratio to /bin/true), p10–p90 whiskers</text>` + "\n")
	y := top
	for _, rs := range runsets {
		y += 18
		p(`<text x="10" y="%.1f" font-weight="bold">%s</text>`+"\n", y, esc(rs.title))
		y += 10
		for _, res := range rs.r.Results {
			w := res.MedianMS / maxMS * plotW
			color := "#8a8a8a"
			switch {
			case strings.HasPrefix(res.Name, "paddock"):
				color = "#2b7a3d"
			case res.Name == rs.r.Baseline:
				color = "#c8c8c8"
			}
			p(`<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+barH-5, esc(res.Name))
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", left, y, max(w, 1), barH, color)
			x10, x90 := left+res.P10MS/maxMS*plotW, left+res.P90MS/maxMS*plotW
			p(`<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="black" fill="none"/>`+"\n",
				x10, y+barH/2, x90, x10, y+4, y+barH-4, x90, y+4, y+barH-4)
			p(`<text x="%.1f" y="%.1f">%.2f ms (%.1f×)</text>`+"\n", max(x90, left+w)+6, y+barH-5, res.MedianMS, res.Ratio)
			y += barH + gap
		}
	}
	p("</svg>\n")
	return b.String()
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}
