package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/paddock-sandbox/paddock/exposure"
	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
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

// A probeResult is the outcome of --probe for one sandbox and one model of it:
// "spec" (exposure.FromSpec of the Spec it was told of) or "live"
// (exposure.FromReport of the running probe, inspected from outside).
type probeResult struct {
	Config        string                  `json:"config"`
	Model         string                  `json:"model"`
	Caller        int                     `json:"callerUID"`
	Checked       int                     `json:"checked"`
	Agree         int                     `json:"agree"`
	Skipped       []exposure.Check        `json:"skipped,omitempty"`
	Disagreements []exposure.Disagreement `json:"disagreements"`
	Err           string                  `json:"error,omitempty"`
}

// newResult starts the result of checks.
func newResult(name, model string, checks []exposure.Check) probeResult {
	r := probeResult{Config: name, Model: model, Caller: os.Geteuid(), Disagreements: []exposure.Disagreement{}}
	for _, c := range checks {
		if c.Skip != "" {
			r.Skipped = append(r.Skipped, c)
		} else {
			r.Checked++
		}
	}
	return r
}

// judge compares the facts with the checks of r.
func (r *probeResult) judge(checks []exposure.Check, probes []exposure.Probe, facts []exposure.Fact) {
	r.Agree, r.Disagreements = exposure.Compare(checks, probes, facts)
	if r.Disagreements == nil {
		r.Disagreements = []exposure.Disagreement{}
	}
}

// probeSandbox starts the sandbox of start (with flawcheck's own directory bound
// read-only at its path, so that it can run as the probe) and, while the probe
// waits for its questions, inspects it from outside. It then asks every probe of
// the checks of both models, m (the Spec's) and the live process's, and judges
// each model.
func probeSandbox(exe, name string, m exposure.Mechanisms, start *sandbox.Spec, flaws []exposure.Flaw) []probeResult {
	checks := exposure.Checks(m, flaws)
	spec := newResult(name, "spec", checks)
	run, err := startProbe(exe, start)
	if err != nil {
		spec.Err = err.Error()
		return []probeResult{spec}
	}
	defer run.close()
	var liveChecks []exposure.Check
	lm, err := liveModel(run.proc.Pid(), startedProfile(start))
	if err == nil {
		lm.Name = name
		liveChecks = exposure.Checks(lm, flaws)
	}
	live := newResult(name, "live", liveChecks)
	if err != nil {
		live.Err = err.Error()
	}
	probes := exposure.Probes(append(checks[:len(checks):len(checks)], liveChecks...))
	facts, err := run.ask(probes)
	if err != nil {
		spec.Err = err.Error()
		return []probeResult{spec}
	}
	spec.judge(checks, probes, facts)
	if live.Err == "" {
		live.judge(liveChecks, probes, facts)
	}
	return []probeResult{spec, live}
}

// liveModel derives the Mechanisms of the live process pid as inspect sees it
// from this process. The kernel shows a filter's mode, never its program: prof
// is the profile the sandbox was started with, as --seccomp-profile gives it
// with --pid (nil: FromReportWith assumes Docker's).
func liveModel(pid int, prof *seccomp.Profile) (exposure.Mechanisms, error) {
	r, err := inspect.ProcessAgainst(pid, os.Getpid())
	if err != nil {
		return exposure.Mechanisms{}, err
	}
	return exposure.FromReportWith(r, exposure.ReportOptions{Seccomp: prof})
}

// startedProfile is the seccomp profile of the sandbox start, as its Plan
// resolves it, or nil.
func startedProfile(start *sandbox.Spec) *seccomp.Profile {
	p, err := start.Plan()
	if err != nil {
		return nil
	}
	return p.Seccomp.Profile
}

// A probeRun is flawcheck running as the probe in a sandbox, waiting for its
// questions on a pipe.
type probeRun struct {
	tpl    *sandbox.Template
	proc   *sandbox.Process
	in     *os.File // the probe's standard input
	out    *os.File // its standard output
	errOut bytes.Buffer
	cancel context.CancelFunc
}

// probeCopy copies this program into a new directory that every user may read
// and search, so that the sandbox's user, whoever it maps to, can execute it
// there as the probe; remove deletes the copy.
func probeCopy() (exe string, remove func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "paddock-flawcheck-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(dir) }
	exe = filepath.Join(dir, "flawcheck")
	if err = os.Chmod(dir, 0o755); err == nil {
		err = copyFile(self, exe)
	}
	if err != nil {
		remove()
		return "", nil, err
	}
	return exe, remove, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// startProbe starts exe, flawcheck, as the probe in a sandbox built from start.
func startProbe(exe string, start *sandbox.Spec) (*probeRun, error) {
	dir := filepath.Dir(exe)
	tpl, err := sandbox.NewBuilder(sandbox.WithSpec(start), sandbox.WithBind(dir, dir, true)).Build()
	if err != nil {
		return nil, err
	}
	run := &probeRun{tpl: tpl}
	inR, inW, err := os.Pipe()
	if err != nil {
		tpl.Close()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		tpl.Close()
		return nil, err
	}
	run.in, run.out = inW, outR
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	run.cancel = cancel
	run.proc, err = tpl.Start(ctx, sandbox.Command{Args: []string{exe, probeArg}, Stdin: inR, Stdout: outW, Stderr: &run.errOut})
	inR.Close()
	outW.Close()
	if err != nil {
		run.proc = nil
		run.close()
		return nil, err
	}
	return run, nil
}

// ask sends probes to the probe and returns its facts, once it has ended.
func (r *probeRun) ask(probes []exposure.Probe) ([]exposure.Fact, error) {
	err := json.NewEncoder(r.in).Encode(probes)
	r.in.Close()
	if err != nil {
		return nil, err
	}
	var facts []exposure.Fact
	derr := json.NewDecoder(r.out).Decode(&facts)
	st, werr := r.proc.Wait()
	r.proc = nil
	switch {
	case werr != nil:
		return nil, werr
	case !st.Success():
		return nil, fmt.Errorf("the probe ended with %v: %s", st, r.errOut.String())
	case derr != nil:
		return nil, fmt.Errorf("the probe printed no facts: %v (stderr %q)", derr, r.errOut.String())
	}
	return facts, nil
}

// close ends the probe if it still runs and releases what the run holds.
func (r *probeRun) close() {
	if r.proc != nil {
		r.proc.Kill()
		r.proc.Wait()
	}
	if r.in != nil {
		r.in.Close()
	}
	if r.out != nil {
		r.out.Close()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.tpl.Close()
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
	var start *sandbox.Spec
	if startFile != "" {
		s, err := readSpec(startFile)
		if err != nil {
			fail(err)
		}
		start = s
	}
	models := make([]exposure.Mechanisms, len(targets))
	for i, t := range targets {
		m, err := exposure.FromSpec(t.model)
		if err != nil {
			fail(err)
		}
		m.Name, models[i] = t.name, m
	}
	exe, remove, err := probeCopy()
	if err != nil {
		fail(err)
	}
	defer remove()
	var results []probeResult
	status := 0
	for i, t := range targets {
		s := start
		if s == nil {
			s = t.model
		}
		for _, r := range probeSandbox(exe, t.name, models[i], s, flaws) {
			switch {
			case r.Err != "":
				status = 1
			case len(r.Disagreements) > 0 && status == 0:
				status = 3
			}
			results = append(results, r)
		}
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
			fmt.Printf("%s, %s model (caller uid %d): %d checked, %d agree, %d skipped, %d disagree%s\n", r.Config, r.Model, r.Caller, r.Checked, r.Agree, len(r.Skipped), len(r.Disagreements), errSuffix(r.Err))
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
	fmt.Println("| config | model | caller uid | checked | agree | skipped | disagreements |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Printf("| %s | %s | %d | %d | %d | %d | %d%s |\n", r.Config, r.Model, r.Caller, r.Checked, r.Agree, len(r.Skipped), len(r.Disagreements), errSuffix(r.Err))
	}
	for _, r := range results {
		for _, d := range r.Disagreements {
			fmt.Printf("\n- %s (%s model), %s, %s: the model says %s, the sandbox did %s", r.Config, r.Model, d.Flaw, d.Precondition, d.Model, d.Sandbox)
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
