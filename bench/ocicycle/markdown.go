package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/paddock-sandbox/paddock/bench/internal/mdsection"
)

// heading starts the section -md writes.
const heading = "## OCI runtimes: create, start, wait, delete"

// report is the part of bench/sidebyside's JSON that the section reads.
type report struct {
	Date    string `json:"date"`
	Kernel  string `json:"kernel"`
	CPUs    int    `json:"cpus"`
	UID     int    `json:"uid"`
	MountNS string `json:"mount_ns"`
	N       int    `json:"n"`
	Warmup  int    `json:"warmup"`
	Results []struct {
		Name     string   `json:"name"`
		Argv     []string `json:"argv"`
		Runs     int      `json:"runs"`
		Failures int      `json:"failures"`
		Median   float64  `json:"median_ms"`
		P10      float64  `json:"p10_ms"`
		P90      float64  `json:"p90_ms"`
		Ratio    float64  `json:"ratio_to_true"`
	} `json:"results"`
}

func (r *report) median(name string) float64 {
	for _, res := range r.Results {
		if res.Name == name {
			return res.Median
		}
	}
	return 0
}

func readReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &report{}
	return r, json.Unmarshal(b, r)
}

// writeMarkdown replaces the section under heading in the Markdown file md, up
// to the next section, or appends it.
func writeMarkdown(md, rootful, rootless string) error {
	if rootful == "" {
		return errors.New("-md needs -rootful")
	}
	var b strings.Builder
	b.WriteString(heading + "\n\n" + intro)
	for _, m := range []struct{ path, title string }{{rootful, "as root"}, {rootless, "rootless, as uid 65534"}} {
		if m.path == "" {
			continue
		}
		r, err := readReport(m.path)
		if err != nil {
			return err
		}
		section(&b, r, m.title)
	}
	b.WriteString(notes)
	return mdsection.Replace(md, heading, b.String())
}

const intro = "`bench/oci.sh` (called by `bench/run.sh`, or run alone: it writes this section only) times\n" +
	"an OCI runtime's whole cycle on one bundle, as an engine drives it: `create --pid-file`, `start`,\n" +
	"a wait until the container's process has exited (a pidfd), `delete`, of busybox `/bin/true`.\n" +
	"`bench/ocicycle` runs the four steps and `bench/sidebyside` times it from fork to the end of\n" +
	"wait, round-robin with the other rows, after the warm-up runs. As root every runtime gets the\n" +
	"same config.json, `runc spec`'s with the root path, the process and `terminal: false` changed\n" +
	"and its ambient capabilities dropped (they are not inheritable: the kernel raises none of\n" +
	"them, runc only warns, Paddock refuses the config);\n" +
	"rootless, each runtime gets its own `spec --rootless` (crun's with the single ID map runc's\n" +
	"has). `cycle-floor` is ocicycle running `/bin/true` in place of each of the three runtime\n" +
	"commands: what every row pays beside the runtime. The machine was shared with other work\n" +
	"while these figures were taken: compare ratios, and rerun `bench/oci.sh` for better ones.\n"

const notes = "\nWhat differs: paddock-runtime is one static Go binary per step that clones the container\n" +
	"itself (no re-execution, no `init` step); runc re-executes itself (`runc init`) and crun is C.\n" +
	"As root each makes a cgroup per container: runc in every v1 hierarchy, paddock-runtime only in\n" +
	"those its limits, accounting and freezing need (memory, pids, cpuacct, freezer, devices;\n" +
	"`update` adds cpu, cpuset or blkio when it needs them). Each step is a new process: a\n" +
	"start of paddock-runtime's binary alone (`--version`) costs more than a static Go \"hello\"\n" +
	"(its dependencies' initialisation), and a cycle pays it three times.\n\n" +
	"Where the cycle goes (`ocicycle -steps`, as root, on a quieter machine than the tables'):\n" +
	"create about 12 ms, start 5.7, delete 4.8, against crun's 9.1, 4.1 and 4.0 and runc's 27.8,\n" +
	"5.7 and 5.1. The binary's start alone is 2.6 ms (a static Go \"hello\" 1.5, `/bin/true` 0.65);\n" +
	"inside create, Build is 1 ms and the clone until the container holds 3 ms. Two changes made\n" +
	"create cheaper: the container joins its v1 cgroups through `tasks`, where a write to\n" +
	"`cgroup.procs` waited 5 to 15 ms for an RCU grace period; and it stops before `pivot_root`\n" +
	"only for a config with hooks there. Three times faster than runc would be about 13 ms a\n" +
	"cycle, about what three starts of a Go binary and one container's kernel work already take:\n" +
	"that target is not met by trimming.\n"

var tmpPath = regexp.MustCompile(`/tmp/paddock-oci\.[A-Za-z0-9]+`)

// section writes the table, the targets and the commands of one run.
func section(b *strings.Builder, r *report, title string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n### %s\n\n", strings.ToUpper(title[:1])+title[1:])
	p("%s, %d CPUs, %s; %d runs per row after %d warm-up runs; mount namespace: %s.\n\n", r.Kernel, r.CPUs, r.Date, r.N, r.Warmup, r.MountNS)
	p("| command | median ms | p10 ms | p90 ms | ratio to `true` | its median ÷ paddock-runtime's |\n|---|---:|---:|---:|---:|---:|\n")
	pr := r.median("paddock-runtime")
	for _, res := range r.Results {
		rel := ""
		if pr > 0 && res.Name != "true" && res.Name != "cycle-floor" {
			rel = fmt.Sprintf("**%.2f×**", res.Median/pr)
		}
		fail := ""
		if res.Failures > 0 {
			fail = fmt.Sprintf(" (%d failed)", res.Failures)
		}
		p("| %s%s | %.3f | %.3f | %.3f | %.2f× | %s |\n", res.Name, fail, res.Median, res.P10, res.P90, res.Ratio, rel)
	}
	p("\n| target | measured | met |\n|---|---:|---|\n")
	if runc := r.median("runc"); runc > 0 && pr > 0 {
		p("| paddock-runtime ≥ 3× faster than runc (medians) | %.2f× | %s |\n", runc/pr, yes(runc/pr >= 3))
	}
	if crun := r.median("crun"); crun > 0 && pr > 0 {
		p("| paddock-runtime faster than crun (medians) | %.2f× | %s |\n", crun/pr, yes(crun > pr))
	}
	p("\n```\n")
	for _, res := range r.Results {
		p("%-16s %s\n", res.Name, tmpPath.ReplaceAllString(strings.Join(res.Argv, " "), "$$TMP"))
	}
	p("```\n")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
