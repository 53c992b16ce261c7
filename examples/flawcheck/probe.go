package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// probeArg, as the first argument, makes flawcheck the probe that runs inside a
// sandbox: it reads probes as JSON on standard input and prints their facts.
const probeArg = "__probe-inside"

// probeInside answers the probes given on standard input.
func probeInside() {
	var probes []exposure.Probe
	if err := json.NewDecoder(os.Stdin).Decode(&probes); err != nil {
		fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(exposure.RunProbes(probes)); err != nil {
		fail(err)
	}
}

// A probeResult is the outcome of --probe for one sandbox.
type probeResult struct {
	Config        string                  `json:"config"`
	Caller        int                     `json:"callerUID"`
	Checked       int                     `json:"checked"`
	Agree         int                     `json:"agree"`
	Skipped       []exposure.Check        `json:"skipped,omitempty"`
	Disagreements []exposure.Disagreement `json:"disagreements"`
	Err           string                  `json:"error,omitempty"`
}

// probeSandbox starts the sandbox of start (with flawcheck's own directory bound
// read-only at its path, so that it can run as the probe), asks it every probe
// of the checks that the model m gives for flaws, and compares.
func probeSandbox(name string, m exposure.Mechanisms, start *sandbox.Spec, flaws []exposure.Flaw) probeResult {
	res := probeResult{Config: name, Caller: os.Geteuid(), Disagreements: []exposure.Disagreement{}}
	checks := exposure.Checks(m, flaws)
	probes := exposure.Probes(checks)
	for _, c := range checks {
		if c.Skip != "" {
			res.Skipped = append(res.Skipped, c)
		} else {
			res.Checked++
		}
	}
	facts, err := runProbes(start, probes)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.Agree, res.Disagreements = exposure.Compare(checks, probes, facts)
	if res.Disagreements == nil {
		res.Disagreements = []exposure.Disagreement{}
	}
	return res
}

// runProbes runs flawcheck as the probe inside a sandbox built from start.
func runProbes(start *sandbox.Spec, probes []exposure.Probe) ([]exposure.Fact, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(exe)
	tpl, err := sandbox.NewBuilder(sandbox.WithSpec(start), sandbox.WithBind(dir, dir, true)).Build()
	if err != nil {
		return nil, err
	}
	defer tpl.Close()
	in, err := json.Marshal(probes)
	if err != nil {
		return nil, err
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := tpl.Run(ctx, sandbox.Command{Args: []string{exe, probeArg}, Stdin: bytes.NewReader(in), Stdout: &out, Stderr: &errOut})
	if err != nil {
		return nil, err
	}
	if !st.Success() {
		return nil, fmt.Errorf("the probe ended with %v: %s", st, errOut.String())
	}
	var facts []exposure.Fact
	if err := json.Unmarshal(out.Bytes(), &facts); err != nil {
		return nil, fmt.Errorf("the probe printed no facts: %v (stderr %q)", err, errOut.String())
	}
	return facts, nil
}

// rootlessKinds are the presets an unprivileged caller can start.
var rootlessKinds = map[string]bool{"rootless": true, "privileged-rootless": true}

// presetOrder is the order of the reference configurations.
var presetOrder = []string{"rootful", "rootless", "privileged", "privileged-rootless", "super-privileged"}

// A probeTarget is a sandbox to probe: its name and the Spec of the model.
type probeTarget struct {
	name  string
	model *sandbox.Spec
}

// probeTargets returns the sandboxes --probe checks: the Spec of --spec, the
// preset of --preset, or every preset the caller can start, with a note for
// those it cannot.
func probeTargets(preset, specFile string) (targets []probeTarget, notes []string) {
	switch {
	case specFile != "":
		s, err := readSpec(specFile)
		if err != nil {
			fail(err)
		}
		return []probeTarget{{filepath.Base(specFile), s}}, nil
	case preset != "":
		opts, ok := presets[preset]
		if !ok {
			fail(fmt.Sprintf("no preset %q", preset))
		}
		return []probeTarget{{preset, sandbox.NewBuilder(opts...).Spec()}}, nil
	}
	for _, name := range presetOrder {
		if os.Geteuid() != 0 && !rootlessKinds[name] {
			notes = append(notes, fmt.Sprintf("%s: not probed, it needs a root caller (this is uid %d)", name, os.Geteuid()))
			continue
		}
		targets = append(targets, probeTarget{name, sandbox.NewBuilder(presets[name]...).Spec()})
	}
	return targets, notes
}

// probeMain runs --probe and returns the exit status: 0 when every check agrees,
// 3 when some disagree, 1 when a sandbox could not be probed.
func probeMain(flaws []exposure.Flaw, preset, specFile, startFile string, asJSON, markdown bool) int {
	targets, notes := probeTargets(preset, specFile)
	var results []probeResult
	status := 0
	for _, t := range targets {
		start := t.model
		if startFile != "" {
			s, err := readSpec(startFile)
			if err != nil {
				fail(err)
			}
			start = s
		}
		m, err := exposure.FromSpec(t.model)
		if err != nil {
			fail(err)
		}
		m.Name = t.name
		r := probeSandbox(t.name, m, start, flaws)
		switch {
		case r.Err != "":
			status = 1
		case len(r.Disagreements) > 0 && status == 0:
			status = 3
		}
		results = append(results, r)
	}
	printProbe(results, notes, asJSON, markdown)
	return status
}

// readSpec reads a Spec, or the Spec of what run --dry-run prints (its Plan was
// resolved for another start; --probe resolves the Spec again here).
func readSpec(name string) (*sandbox.Spec, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var dry struct {
		Spec json.RawMessage `json:"spec"`
		Plan json.RawMessage `json:"plan"`
	}
	if json.Unmarshal(data, &dry) == nil && dry.Spec != nil && dry.Plan != nil {
		data = dry.Spec
	}
	return sandbox.ParseSpec(data)
}

// printProbe prints the results of --probe.
func printProbe(results []probeResult, notes []string, asJSON, markdown bool) {
	host := exposure.ReadHost()
	switch {
	case asJSON:
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		doc := struct {
			Host    *exposure.HostFacts `json:"host"`
			Results []probeResult       `json:"probes"`
			Notes   []string            `json:"notes,omitempty"`
		}{host, results, notes}
		if err := enc.Encode(doc); err != nil {
			fail(err)
		}
	case markdown:
		printProbeMarkdown(host, results, notes)
	default:
		fmt.Println("# host: " + hostLine(host))
		for _, r := range results {
			fmt.Printf("%s (caller uid %d): %d checked, %d agree, %d skipped, %d disagree%s\n", r.Config, r.Caller, r.Checked, r.Agree, len(r.Skipped), len(r.Disagreements), errSuffix(r.Err))
			for _, d := range r.Disagreements {
				fmt.Printf("  %s: %s: the model says %s, the sandbox did %s\n", d.Flaw, d.Precondition, d.Model, d.Sandbox)
			}
		}
		for _, n := range notes {
			fmt.Println(n)
		}
	}
}

// printProbeMarkdown prints the results of --probe as a Markdown table and list.
func printProbeMarkdown(host *exposure.HostFacts, results []probeResult, notes []string) {
	fmt.Println(hostMarkdown(host))
	fmt.Println()
	fmt.Println("| config | caller uid | checked | agree | skipped | disagreements |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %d | %d | %d%s |\n", r.Config, r.Caller, r.Checked, r.Agree, len(r.Skipped), len(r.Disagreements), errSuffix(r.Err))
	}
	for _, r := range results {
		for _, d := range r.Disagreements {
			fmt.Printf("\n- %s, %s, %s: the model says %s, the sandbox did %s", r.Config, d.Flaw, d.Precondition, d.Model, d.Sandbox)
		}
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("\n- " + n)
	}
}

func errSuffix(err string) string {
	if err == "" {
		return ""
	}
	return "; error: " + err
}
