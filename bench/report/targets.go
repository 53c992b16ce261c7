package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// A peerRun is BenchmarkPeers' output of bench/peers.sh, as root or as uid
// 65534: the median ns/op of each sub-benchmark over the rounds.
type peerRun struct {
	title  string
	median map[string]float64
}

var peersLine = regexp.MustCompile(`^BenchmarkPeers/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// readPeers reads the rounds of BenchmarkPeers in path.
func readPeers(path, title string) (peerRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return peerRun{}, err
	}
	defer f.Close()
	all := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := peersLine.FindStringSubmatch(sc.Text()); m != nil {
			ns, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				return peerRun{}, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
			}
			all[m[1]] = append(all[m[1]], ns)
		}
	}
	if err := sc.Err(); err != nil {
		return peerRun{}, err
	}
	r := peerRun{title: title, median: map[string]float64{}}
	for name, v := range all {
		slices.Sort(v)
		r.median[name] = v[len(v)/2]
		if len(v)%2 == 0 {
			r.median[name] = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
	}
	return r, nil
}

// A latencyTarget bounds a Start+Wait of BenchmarkPool by a multiple of its
// exec-true row, in the same run.
type latencyTarget struct {
	desc, name string
	limit      float64
}

// latencyTargets are the start-latency targets; the rows are measured as root
// and as uid 65534 (the rootful one as root only).
var latencyTargets = []latencyTarget{
	{"pooled Start+Wait of the default rootless sandbox ≤ 1.3× ExecTrue", "BenchmarkPool/rootless/pooled", 1.3},
	{"pooled Start+Wait, rootful with a new network namespace, ≤ 1.5× ExecTrue", "BenchmarkPool/rootful-netns/pooled", 1.5},
	{"unpooled Start+Wait, rootless on a single lower layer, ≤ 2.0× ExecTrue", "BenchmarkPool/rootless-rootfs/unpooled", 2.0},
	{"unpooled Start+Wait of the default rootless sandbox on the host's `/` ≤ 3.0× ExecTrue", "BenchmarkPool/rootless/unpooled", 3.0},
}

// peerTargets are the speed-ups of a pooled start over os/exec of each peer.
var peerTargets = []struct {
	peer string
	x    float64
}{{"bwrap", 3}, {"crun", 5}, {"runc", 10}}

// targetsTable writes the table of the targets, each from this run: nosplit is
// the outcome of internal/child's TestChildIsNosplit ("" where not run).
func targetsTable(p func(string, ...any), runsets []runset, gbs []gorun, prs []peerRun, nosplit string) {
	p("## Targets\n\n")
	p("| target | where | measured | met |\n|---|---|---:|---|\n")
	latencyRows(p, gbs)
	peerRows(p, prs)
	wholeProcessRow(p, runsets)
	for _, g := range gbs {
		throughputRow(p, g)
	}
	switch nosplit {
	case "":
	case "ok":
		p("| 0 allocations in the child (nosplit, no stack growth, no heap) | internal/child's TestChildIsNosplit (a test: the child disassembled) | passed | yes |\n")
	default:
		p("| 0 allocations in the child (nosplit, no stack growth, no heap) | internal/child's TestChildIsNosplit (a test: the child disassembled) | %s | **no** |\n", nosplit)
	}
	for _, g := range gbs {
		allocRows(p, g)
	}
	for _, g := range gbs {
		heapRows(p, g)
	}
	for _, g := range gbs {
		memoryRow(p, g)
	}
}

// memoryRow is what each warm child of the default Template costs a caller
// with a 1 GiB live heap, beside its cost with an empty one.
func memoryRow(p func(string, ...any), g gorun) {
	full, empty := findBench(g.benches, "BenchmarkPool/memory/heap=1024MiB"), findBench(g.benches, "BenchmarkPool/memory/heap=0MiB")
	if full == nil {
		return
	}
	mib := func(bm *bench, unit string) float64 { return bm.metrics[unit] / 1024 }
	was := ""
	if empty != nil {
		was = fmt.Sprintf("; %.1f MiB with an empty heap", mib(empty, "warm-pss-KiB"))
	}
	p("| the memory each warm child costs a caller with a 1 GiB heap, measured (pool of 2) | `Pool/memory/heap=1024MiB`, %s | %.0f of 2 share the caller's address space (a 104 KiB mapping of their own, 8 KiB of it resident, no page tables); per warm child, %.0f MiB proportional share once warm, %.0f MiB once the caller rewrote its heap, %.1f MiB of page tables%s | measured |\n",
		g.title, full.metrics["shared-children"], mib(full, "warm-pss-KiB"), mib(full, "rewritten-pss-KiB"), mib(full, "warm-pte-KiB"), was)
}

// ratioTo is bm's ns/op over floor's, or false where either is missing.
func ratioTo(bm, floor *bench) (float64, bool) {
	if bm == nil || floor == nil || floor.nsOp == 0 {
		return 0, false
	}
	return bm.nsOp / floor.nsOp, true
}

// latencyRows writes each latency target's rows, one per run.
func latencyRows(p func(string, ...any), gbs []gorun) {
	for _, t := range latencyTargets {
		for _, g := range gbs {
			floor := findBench(g.benches, "BenchmarkPool/exec-true")
			if x, ok := ratioTo(findBench(g.benches, t.name), floor); ok {
				p("| %s | `%s`, %s | %.2f× | %s |\n", t.desc, strings.TrimPrefix(t.name, "Benchmark"), g.title, x, yes(x <= t.limit))
			}
		}
	}
}

// peerRows writes each peer target's rows, one per run.
func peerRows(p func(string, ...any), prs []peerRun) {
	for _, t := range peerTargets {
		for _, pr := range prs {
			peerRow(p, pr, t.peer, t.x)
		}
	}
}

// peerRow is the pooled start against os/exec of one peer in one run.
func peerRow(p func(string, ...any), pr peerRun, name string, target float64) {
	desc := fmt.Sprintf("pooled Start+Wait ≥ %g× faster than os/exec of %s, same isolation", target, name)
	pd, peer := pr.median["paddock-pooled"], pr.median[name]
	if pd == 0 || peer == 0 {
		p("| %s | `BenchmarkPeers`, %s | not run | **no** |\n", desc, pr.title)
		return
	}
	x := peer / pd
	p("| %s | `BenchmarkPeers/paddock-pooled` against `/%s`, %s | %.2f× | %s |\n", desc, name, pr.title, x, yes(x >= target))
}

// wholeProcessRow is examples/run against bubblewrap, rootless, side by side.
func wholeProcessRow(p func(string, ...any), runsets []runset) {
	const desc = "`examples/run`, the whole process, no slower than bubblewrap's, rootless"
	for _, rs := range runsets {
		if rs.r.UID == 0 {
			continue
		}
		pd, bw := rs.r.get("paddock"), rs.r.get("bwrap")
		if pd == nil || bw == nil || pd.MedianMS == 0 {
			continue
		}
		x := bw.MedianMS / pd.MedianMS
		p("| %s | side by side, %s: bwrap's median ÷ paddock's | %.2f× | %s |\n", desc, rs.title, x, yes(x >= 1))
		return
	}
	p("| %s | side by side, rootless (`bench/run.sh --rootless`) | not run | **no** |\n", desc)
}

func throughputRow(p func(string, ...any), g gorun) {
	un := findBench(g.benches, "BenchmarkPool/throughput/default/starters=2/unpooled")
	po := findBench(g.benches, "BenchmarkPool/throughput/default/starters=2/pooled")
	if un == nil || po == nil {
		return
	}
	p("| ≥ 500 default sandboxes/s with 2 starters, pooled or not | `Pool/throughput/default/starters=2/{unpooled,pooled}`, %s | %.0f/s, %.0f/s pooled | %s |\n",
		g.title, un.perSec, po.perSec, yes(max(un.perSec, po.perSec) >= 500))
}

func allocRows(p func(string, ...any), g gorun) {
	for _, row := range []struct{ name, note string }{
		{"BenchmarkStart/rootless-nocgroup/nonet/vfork", "unpooled"},
		{"BenchmarkPool/rootless/pooled", "pooled; the refill's allocations, on other goroutines, included"},
	} {
		if bm := findBench(g.benches, row.name); bm != nil && bm.allocs != "" {
			n, _ := strconv.Atoi(bm.allocs)
			p("| ≤ 10 allocations in the parent per Start+Wait | `%s` (%s), %s | %d | %s |\n", strings.TrimPrefix(row.name, "Benchmark"), row.note, g.title, n, yes(n <= 10))
		}
	}
}

func heapRows(p func(string, ...any), g gorun) {
	empty, full := findBench(g.benches, "BenchmarkHeap/heap=0MiB/vfork"), findBench(g.benches, "BenchmarkHeap/heap=1024MiB/vfork")
	if x, ok := ratioTo(full, empty); ok {
		p("| unpooled vfork starts independent of the caller's heap: ≤ 1.2× with a 1 GiB live heap | `Heap/heap=1024MiB/vfork` against `heap=0MiB`, %s | %.2f× | %s |\n", g.title, x, yes(x <= 1.2))
	}
}
