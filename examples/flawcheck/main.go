package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// presets are Paddock's presets by the names of the reference configurations.
var presets = map[string][]sandbox.Option{
	"rootful":             {sandbox.Rootful()},
	"rootless":            {sandbox.Rootless()},
	"privileged":          {sandbox.Rootful(), sandbox.Privileged()},
	"privileged-rootless": {sandbox.Rootless(), sandbox.Privileged()},
	"super-privileged":    {sandbox.SuperPrivileged()},
}

func fail(err any) {
	fmt.Fprintln(os.Stderr, "flawcheck:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == probeArg {
		probeInside()
		return
	}
	markdown := flag.Bool("markdown", false, "print a Markdown table")
	asJSON := flag.Bool("json", false, "print the verdicts as JSON, with their reasoning")
	file := flag.String("flaws", "", "JSON file of extra flaws (same form as the built-in catalogue)")
	kernel := flag.String("kernel", "", "kernel release to judge against (default: unknown for the reference matrix, the running kernel otherwise)")
	why := flag.String("why", "", "print the reasoning for one flaw ID against every configuration")
	preset := flag.String("preset", "", "judge Paddock's preset `NAME` (rootful, rootless, privileged, privileged-rootless, super-privileged) as built on this host")
	specFile := flag.String("spec", "", "judge the sandbox in JSON `FILE`: a Spec, or what run --dry-run prints (its Plan is judged)")
	pid := flag.Int("pid", 0, "judge the live process `PID`")
	profile := flag.String("seccomp-profile", "", "with --pid: the seccomp profile (OCI JSON `FILE`) the process has loaded")
	probe := flag.Bool("probe", false, "start each preset (or --preset, or --spec) and check from inside every precondition the verdicts rest on")
	startSpec := flag.String("start-spec", "", "with --probe: start the Spec in `FILE` instead, while the model stays that of --spec or --preset (to test the probe)")
	flag.Parse()

	flaws := exposure.Catalogue()
	if *file != "" {
		extra, err := exposure.LoadFile(*file)
		if err != nil {
			fail(err)
		}
		flaws = exposure.Merge(flaws, extra)
	}

	var configs []exposure.Mechanisms
	chosen := 0
	for _, set := range []bool{*preset != "", *specFile != "", *pid != 0} {
		if set {
			chosen++
		}
	}
	if chosen > 1 {
		fail("give only one of --preset, --spec and --pid")
	}
	if *profile != "" && *pid == 0 {
		fail("--seccomp-profile goes with --pid")
	}
	if *probe {
		if *pid != 0 || *why != "" || *kernel != "" {
			fail("--probe goes with --preset or --spec only")
		}
		os.Exit(probeMain(flaws, *preset, *specFile, *startSpec, *asJSON, *markdown))
	}
	if *startSpec != "" {
		fail("--start-spec goes with --probe")
	}
	switch {
	case *preset != "":
		opts, ok := presets[*preset]
		if !ok {
			fail(fmt.Sprintf("no preset %q (rootful, rootless, privileged, privileged-rootless, super-privileged)", *preset))
		}
		m, err := exposure.FromSpec(sandbox.NewBuilder(opts...).Spec())
		if err != nil {
			fail(err)
		}
		m.Name = *preset
		configs = append(configs, m)
	case *specFile != "":
		data, err := os.ReadFile(*specFile)
		if err != nil {
			fail(err)
		}
		m, err := fromFile(data)
		if err != nil {
			fail(err)
		}
		configs = append(configs, m)
	case *pid != 0:
		r, err := inspect.Process(*pid)
		if err != nil {
			fail(err)
		}
		var opts exposure.ReportOptions
		if *profile != "" {
			data, err := os.ReadFile(*profile)
			if err != nil {
				fail(err)
			}
			p, err := seccomp.ParseJSON(data, r.Capabilities.Bounding)
			if err != nil {
				fail(err)
			}
			opts.Seccomp = &p
		}
		m, err := exposure.FromReportWith(r, opts)
		if err != nil {
			fail(err)
		}
		m.Name = fmt.Sprintf("pid %d (%s)", *pid, r.Kind)
		configs = append(configs, m)
	default:
		configs = exposure.Presets()
	}
	if *kernel != "" || chosen == 0 {
		for i := range configs {
			configs[i].Kernel, configs[i].KernelDistribution, configs[i].Host = *kernel, exposure.Distribution(*kernel, ""), nil
		}
	}

	if *why != "" {
		for _, f := range flaws {
			if f.ID != *why {
				continue
			}
			for _, m := range configs {
				v := exposure.Evaluate(m, f)
				fmt.Printf("== %s on %s: %s\n", f.ID, m.Name, v)
				for _, s := range v.Steps {
					fmt.Println("   -", s)
				}
			}
			return
		}
		fail(fmt.Sprintf("no flaw %q", *why))
	}

	type row struct {
		ID, Name string
		Verdicts []exposure.Verdict
	}
	rows := make([]row, len(flaws))
	for i, f := range flaws {
		rows[i] = row{ID: f.ID, Name: f.Name, Verdicts: make([]exposure.Verdict, len(configs))}
		for j, m := range configs {
			rows[i].Verdicts[j] = exposure.Evaluate(m, f)
		}
	}

	host := exposure.ReadHost()
	switch {
	case *asJSON:
		type cell struct {
			Config string `json:"config"`
			exposure.Verdict
		}
		type out struct {
			ID    string `json:"id"`
			Name  string `json:"name,omitempty"`
			Cells []cell `json:"verdicts"`
		}
		var all []out
		for _, r := range rows {
			o := out{ID: r.ID, Name: r.Name}
			for j, v := range r.Verdicts {
				o.Cells = append(o.Cells, cell{Config: configs[j].Name, Verdict: v})
			}
			all = append(all, o)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		doc := struct {
			Host     *exposure.HostFacts `json:"host"`
			Verdicts []out               `json:"verdicts"`
		}{host, all}
		if err := enc.Encode(doc); err != nil {
			fail(err)
		}
	case *markdown:
		fmt.Println(hostMarkdown(host))
		if chosen == 0 {
			fmt.Println("\nThe reference columns are judged for any kernel and host settings, unless --kernel names one.")
		}
		fmt.Println()
		head := []string{"flaw", "name"}
		for _, m := range configs {
			head = append(head, m.Name)
		}
		fmt.Println("| " + strings.Join(head, " | ") + " |")
		fmt.Println("|" + strings.Repeat(" --- |", len(head)))
		for _, r := range rows {
			cells := []string{r.ID, r.Name}
			for _, v := range r.Verdicts {
				cells = append(cells, v.String())
			}
			fmt.Println("| " + strings.Join(cells, " | ") + " |")
		}
	default:
		fmt.Println("# host: " + hostLine(host))
		if chosen == 0 {
			fmt.Println("# the reference columns are judged for any kernel and host settings, unless --kernel names one")
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		head := []string{"FLAW"}
		for _, m := range configs {
			head = append(head, strings.ToUpper(m.Name))
		}
		fmt.Fprintln(w, strings.Join(head, "\t"))
		for _, r := range rows {
			cells := []string{r.ID}
			for _, v := range r.Verdicts {
				cells = append(cells, v.String())
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		w.Flush()
	}
}

// fromFile derives the Mechanisms of what run --dry-run prints (the Plan it
// resolved: judged as it is, on the host that made it) or of a bare Spec
// (resolved here).
func fromFile(data []byte) (exposure.Mechanisms, error) {
	var dry struct {
		Plan *plan.Plan `json:"plan"`
	}
	if json.Unmarshal(data, &dry) == nil && dry.Plan != nil {
		return exposure.FromPlan(dry.Plan)
	}
	s, err := sandbox.ParseSpec(data)
	if err != nil {
		return exposure.Mechanisms{}, err
	}
	return exposure.FromSpec(s)
}

// hostLine is the host's facts on one line.
func hostLine(h *exposure.HostFacts) string {
	num := func(p *int) string {
		if p == nil {
			return "absent"
		}
		return fmt.Sprint(*p)
	}
	lsm := "unknown"
	if h.LSMs != nil {
		lsm = strings.Join(h.LSMs, ",")
	}
	kernel := h.Release
	if h.Distribution != "" {
		kernel += " (built by " + h.Distribution + ": version checks are version-dependent)"
	}
	return fmt.Sprintf("kernel %s; i386 gate %s; user.max_user_namespaces %s; kernel.unprivileged_userns_clone %s; kernel.unprivileged_bpf_disabled %s; kernel.io_uring_disabled %s; kernel.perf_event_paranoid %s; LSMs %s",
		kernel, h.IA32, num(h.MaxUserNamespaces), num(h.UnprivilegedUsernsClone), num(h.UnprivilegedBPFDisabled),
		num(h.IOURingDisabled), num(h.PerfEventParanoid), lsm)
}

// hostMarkdown is the host's facts as a Markdown list.
func hostMarkdown(h *exposure.HostFacts) string {
	var b strings.Builder
	b.WriteString("Host:")
	for _, f := range strings.Split(hostLine(h), "; ") {
		b.WriteString("\n- " + f)
	}
	return b.String()
}
