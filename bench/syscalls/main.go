package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/paddock-sandbox/paddock/bench/internal/privatens"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/caps"
	"golang.org/x/sys/unix"
)

// envStage marks the re-executed command, inside its private mount namespace.
const envStage = "PADDOCK_SYSCALLS_STAGE"

// privatens.UnifiedMount is the cgroup v2 mount of a hybrid host that crun 1.8.1 trips on.

// probeTarget is where every sandbox sees the probe.
const probeTarget = "/probe"

// A call is one system call the probe loops on, as "NR/ARG0/...".
type call struct {
	Name string `json:"name"`
	Arg  string `json:"arg"`
}

var calls = []call{
	{"getpid", strconv.Itoa(unix.SYS_GETPID)},
	{"personality(0xffffffff)", strconv.Itoa(unix.SYS_PERSONALITY) + "/0xffffffff"},
}

// checkCall is refused by every profile measured (personality allows only a few
// personas) and harmless where it is allowed (it sets the probe's own persona).
var checkCall = strconv.Itoa(unix.SYS_PERSONALITY) + "/1"

// A mode is one way of running the probe.
type mode struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`    // host, crun or paddock
	Profile string `json:"profile"` // "" (no filter), podman or docker
	bundle  string
}

// Result is one mode's figures for one call, in ns per call.
type Result struct {
	Mode       string    `json:"mode"`
	Call       string    `json:"call"`
	Samples    []float64 `json:"samples_ns"`
	Median     float64   `json:"median_ns"`
	Min        float64   `json:"min_ns"`
	Max        float64   `json:"max_ns"`
	OverHostNS float64   `json:"over_host_ns"`
}

// Report is the JSON document -o writes.
type Report struct {
	Date      string            `json:"date"`
	Kernel    string            `json:"kernel"`
	CPUs      int               `json:"cpus"`
	Crun      string            `json:"crun"`
	N         int               `json:"n"`
	Rounds    int               `json:"rounds"`
	Order     string            `json:"order"`
	MountNS   string            `json:"mount_ns"`
	Checks    map[string]string `json:"checks"`
	Results   []Result          `json:"results"`
	WallSecs  float64           `json:"wall_seconds"`
	Commands  map[string]string `json:"commands"`
	PodmanSrc string            `json:"podman_profile"`
}

type config struct {
	rootfs, probe, paddock, crun, podmanPath, out, md string
	n, rounds                                         int
	docker                                            bool
	timeout                                           time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.rootfs, "rootfs", "", "busybox root filesystem (directory)")
	flag.StringVar(&c.probe, "probe", "", "static sysprobe binary (go build ./internal/testutil/sysprobe)")
	flag.StringVar(&c.paddock, "paddock", "", "examples/run binary (go build ./examples/run)")
	flag.StringVar(&c.crun, "crun", "crun", "crun binary")
	flag.StringVar(&c.podmanPath, "podman-profile", podmanJSON, "Podman's default seccomp profile")
	flag.StringVar(&c.out, "o", "", "also write the figures as JSON here")
	flag.StringVar(&c.md, "md", "", "write the Markdown section \""+mdHeading+"\" into this file (replacing it if present)")
	flag.IntVar(&c.n, "n", 2000000, "calls per probe run")
	flag.IntVar(&c.rounds, "rounds", 5, "measured runs of each mode and call")
	flag.BoolVar(&c.docker, "crun-docker", true, "also run crun with Docker's default profile")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Minute, "limit of one probe run")
	printSeccomp := flag.String("print-seccomp", "", "write the OCI linux.seccomp section of this profile (podman or docker) and exit")
	flag.Parse()

	if *printSeccomp != "" {
		p, _, err := profileFor(*printSeccomp, c.podmanPath)
		fail(err)
		p, dropped := forLibseccomp(p)
		for _, r := range dropped {
			fmt.Fprintf(os.Stderr, "syscalls: dropped for libseccomp: %v %s %v\n", r.Names, r.Action, r.Args)
		}
		s, err := ociSeccomp(p)
		fail(err)
		data, err := json.MarshalIndent(s, "", "  ")
		fail(err)
		os.Stdout.Write(append(data, '\n'))
		return
	}
	fail(c.validate())

	switch os.Getenv(envStage) {
	case "":
		code, err := privatens.Reexec(envStage)
		fail(err)
		os.Exit(code)
	case "ns":
		fail(privatens.DetachUnified())
	default:
		fail(fmt.Errorf("%s=%q: unknown stage", envStage, os.Getenv(envStage)))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := measure(ctx, c)
	stop()
	fail(err)
}

func (c *config) validate() error {
	if runtime.GOARCH != "amd64" {
		return errors.New("the calls are given as x86_64 numbers: run on amd64")
	}
	if os.Geteuid() != 0 {
		return errors.New("run as root (crun runs rootful)")
	}
	if c.n < 1 || c.rounds < 1 {
		return errors.New("-n and -rounds must be at least 1")
	}
	for flagName, p := range map[string]*string{"rootfs": &c.rootfs, "probe": &c.probe, "paddock": &c.paddock} {
		if *p == "" {
			return fmt.Errorf("-%s is required", flagName)
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if st, err := os.Stat(c.rootfs); err != nil || !st.IsDir() {
		return fmt.Errorf("-rootfs %s: not a directory (%v)", c.rootfs, err)
	}
	if err := checkStatic(c.probe); err != nil {
		return fmt.Errorf("-probe: %w", err)
	}
	if _, err := os.Stat(c.paddock); err != nil {
		return fmt.Errorf("-paddock: %w", err)
	}
	crun, err := exec.LookPath(c.crun)
	if err != nil {
		return fmt.Errorf("-crun: %w", err)
	}
	c.crun = crun
	return nil
}

// checkStatic fails unless path is an ELF executable without a program interpreter:
// the rootfs has no libc for it.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// measure runs the whole comparison inside the private mount namespace.
func measure(ctx context.Context, c config) (err error) {
	start := time.Now()
	tmp, err := os.MkdirTemp("", "paddock-syscalls.")
	if err != nil {
		return err
	}
	state := filepath.Join(tmp, "state")
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := os.Mkdir(state, 0o700); err != nil {
		return err
	}
	// The bind mount's target, in the rootfs itself for crun (Paddock would make it
	// in its overlay's upper layer): made empty if missing, removed at the end.
	target := filepath.Join(c.rootfs, probeTarget)
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(target, nil, 0o755); err != nil {
			return fmt.Errorf("mount point for the probe: %w", err)
		}
		defer os.Remove(target)
	}
	defer cleanupCrun(c.crun, state) // before the mount point and the state dir go

	modes := []*mode{{Name: "host", Kind: "host"}, {Name: "crun-unconfined", Kind: "crun"}, {Name: "crun-podman", Kind: "crun", Profile: "podman"}}
	if c.docker {
		modes = append(modes, &mode{Name: "crun-docker", Kind: "crun", Profile: "docker"})
	}
	modes = append(modes, &mode{Name: "paddock-unconfined", Kind: "paddock"}, &mode{Name: "paddock", Kind: "paddock", Profile: "docker"})
	r := &runner{c: c, state: state}
	for _, m := range modes {
		if m.Kind == "crun" {
			m.bundle = filepath.Join(tmp, "bundle-"+m.Name)
			if err := makeBundle(ctx, c, m, &r.dropped); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
		}
	}
	rep := &Report{
		Date: start.UTC().Format(time.RFC3339), Kernel: privatens.Uname(), CPUs: runtime.NumCPU(), Crun: r.version(ctx),
		N: c.n, Rounds: c.rounds, Order: "mode after mode per call, order rotated each round",
		MountNS: "private, " + privatens.UnifiedMount + " detached", Checks: map[string]string{},
		Commands: map[string]string{}, PodmanSrc: c.podmanPath,
	}

	// Each sandbox holds the filter it should: personality(1) is refused under
	// every profile. This also warms the page cache and the runtimes up.
	for _, m := range modes {
		out, err := r.run(ctx, m, []string{"call", checkCall})
		if err != nil {
			return fmt.Errorf("check of %s: %w", m.Name, err)
		}
		errno, _ := strconv.Atoi(out)
		rep.Checks[m.Name] = "personality(1): errno " + out
		if (m.Profile != "") != (errno != 0) {
			return fmt.Errorf("check of %s: personality(1) gave errno %s: the filter is not what the mode says", m.Name, out)
		}
	}
	for _, m := range modes {
		cmd := strings.Join(r.argv(m, []string{"loop", strconv.Itoa(c.n), "NR/ARG"}), " ")
		if m.Kind == "crun" {
			cmd = cmd[:strings.LastIndex(cmd, " ")] + " syscalls-PID-N  # process.args /probe loop " + strconv.Itoa(c.n) + " NR/ARG"
		}
		rep.Commands[m.Name] = cmd
	}

	samples := map[string][]float64{}
	key := func(m *mode, cl call) string { return m.Name + "\x00" + cl.Name }
	for round := range c.rounds {
		order := append(slices.Clone(modes[round%len(modes):]), modes[:round%len(modes)]...)
		for _, cl := range calls {
			for _, m := range order {
				out, err := r.run(ctx, m, []string{"loop", strconv.Itoa(c.n), cl.Arg})
				if err != nil {
					return fmt.Errorf("%s, %s, round %d: %w", m.Name, cl.Name, round+1, err)
				}
				ns, err := strconv.ParseFloat(out, 64)
				if err != nil {
					return fmt.Errorf("%s, %s: the probe printed %q", m.Name, cl.Name, out)
				}
				samples[key(m, cl)] = append(samples[key(m, cl)], ns)
				fmt.Fprintf(os.Stderr, "round %d  %-24s %-20s %8.1f ns\n", round+1, cl.Name, m.Name, ns)
			}
		}
	}
	for _, cl := range calls {
		var host float64
		for _, m := range modes {
			s := slices.Clone(samples[key(m, cl)])
			slices.Sort(s)
			res := Result{Mode: m.Name, Call: cl.Name, Samples: samples[key(m, cl)], Median: median(s), Min: s[0], Max: s[len(s)-1]}
			if m.Kind == "host" {
				host = res.Median
			}
			res.OverHostNS = res.Median - host
			rep.Results = append(rep.Results, res)
		}
	}
	rep.WallSecs = time.Since(start).Seconds()
	writeTable(os.Stdout, rep, modes)
	if c.md != "" {
		if err := writeMarkdown(c.md, rep, modes, r.dropped); err != nil {
			return err
		}
	}
	if c.out != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.out, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeBundle writes m's bundle: crun's own generated config with the rootfs, the
// probe bound read-only, no terminal, m's capabilities and m's seccomp section.
// The process arguments are filled in before each run.
func makeBundle(ctx context.Context, c config, m *mode, dropped *[]string) error {
	if err := os.Mkdir(m.bundle, 0o755); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, c.crun, "spec")
	cmd.Dir = m.bundle
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("crun spec: %w: %s", err, bytes.TrimSpace(out))
	}
	var s specs.Spec
	data, err := os.ReadFile(filepath.Join(m.bundle, "config.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("crun spec's config.json: %w", err)
	}
	if s.Process == nil || s.Linux == nil {
		return errors.New("crun spec's config.json has no process or linux section")
	}
	s.Root = &specs.Root{Path: c.rootfs, Readonly: true}
	s.Process.Terminal = false
	s.Mounts = append(s.Mounts, specs.Mount{Destination: probeTarget, Type: "bind", Source: c.probe, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	set := caps.PodmanDefault
	s.Linux.Seccomp = nil
	if m.Profile != "" {
		p, profCaps, err := profileFor(m.Profile, c.podmanPath)
		if err != nil {
			return err
		}
		p, left := forLibseccomp(p)
		for _, r := range left {
			d := fmt.Sprintf("%s: %v %s %v", m.Name, r.Names, r.Action, r.Args)
			fmt.Fprintln(os.Stderr, "dropped for libseccomp:", d)
			*dropped = append(*dropped, d)
		}
		if s.Linux.Seccomp, err = ociSeccomp(p); err != nil {
			return err
		}
		set = profCaps
	}
	names := set.Names()
	s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: names, Effective: names, Permitted: names}
	data, err = json.MarshalIndent(&s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(m.bundle, "template.json"), data, 0o644)
}

// A runner runs the probe in one mode.
type runner struct {
	c       config
	state   string
	id      int
	dropped []string // rules left out of the crun bundles, described
}

func (r *runner) version(ctx context.Context) string {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, r.c.crun, "--version").Output()
	if err != nil {
		return "unknown"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}

// argv is the command line that runs the probe with args in m.
func (r *runner) argv(m *mode, args []string) []string {
	switch m.Kind {
	case "crun":
		return []string{r.c.crun, "--root", r.state, "run", "--bundle", m.bundle, "syscalls-" + strconv.Itoa(os.Getpid()) + "-" + strconv.Itoa(r.id)}
	case "paddock":
		argv := []string{r.c.paddock, "--rootfs", r.c.rootfs, "-v", r.c.probe + ":" + probeTarget + ":ro"}
		if m.Profile == "" {
			argv = append(argv, "--security-opt", "seccomp=unconfined")
		}
		return append(append(argv, "--", probeTarget), args...)
	}
	return append([]string{r.c.probe}, args...)
}

// run runs the probe with args in m and returns the last line it printed.
func (r *runner) run(ctx context.Context, m *mode, args []string) (string, error) {
	r.id++
	if m.Kind == "crun" {
		if err := r.writeConfig(m, args); err != nil {
			return "", err
		}
	}
	argv := r.argv(m, args)
	cctx, cancel := context.WithTimeout(ctx, r.c.timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Fields(stdout.String())
	if len(lines) == 0 {
		return "", fmt.Errorf("%s: printed nothing: %s", strings.Join(argv, " "), bytes.TrimSpace(stderr.Bytes()))
	}
	return lines[len(lines)-1], nil
}

// writeConfig writes m's config.json from its template with the probe's arguments.
func (r *runner) writeConfig(m *mode, args []string) error {
	data, err := os.ReadFile(filepath.Join(m.bundle, "template.json"))
	if err != nil {
		return err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	s.Process.Args = append([]string{probeTarget}, args...)
	if data, err = json.Marshal(&s); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(m.bundle, "config.json"), data, 0o644)
}

// cleanupCrun deletes every container left in crun's state dir (a run cut short).
func cleanupCrun(crun, state string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, crun, "--root", state, "list", "-q").Output()
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		exec.CommandContext(ctx, crun, "--root", state, "delete", "-f", id).Run()
	}
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// mdHeading starts the section -md writes.
const mdHeading = "## Per-syscall cost beside crun"

// writeTable writes the Markdown table and the verdict on the target to w, and
// returns whether the target is met.
func writeTable(w io.Writer, rep *Report, modes []*mode) bool {
	get := func(m, cl string) Result {
		for _, r := range rep.Results {
			if r.Mode == m && r.Call == cl {
				return r
			}
		}
		return Result{}
	}
	fmt.Fprintf(w, "%s, %d CPUs, %s; %d calls per run, median of %d rounds (min–max)\n\n", rep.Kernel, rep.CPUs, rep.Crun, rep.N, rep.Rounds)
	fmt.Fprint(w, "| mode | filter |")
	for _, cl := range calls {
		fmt.Fprintf(w, " %s ns/call | over host |", cl.Name)
	}
	fmt.Fprint(w, "\n|---|---|")
	for range calls {
		fmt.Fprint(w, "---:|---:|")
	}
	fmt.Fprintln(w)
	for _, m := range modes {
		filter := "none"
		switch m.Profile {
		case "podman":
			filter = "Podman default (11 caps)"
		case "docker":
			filter = "Docker default (14 caps)"
		}
		fmt.Fprintf(w, "| %s | %s |", m.Name, filter)
		for _, cl := range calls {
			r := get(m.Name, cl.Name)
			over := "—"
			if m.Kind != "host" {
				over = fmt.Sprintf("%+.1f", r.OverHostNS)
			}
			fmt.Fprintf(w, " %.1f (%.1f–%.1f) | %s |", r.Median, r.Min, r.Max, over)
		}
		fmt.Fprintln(w)
	}
	arg := calls[len(calls)-1].Name
	p, cr := get("paddock", arg), get("crun-podman", arg)
	met := p.Median <= cr.Median
	verdict := "met"
	if !met {
		verdict = "not met"
	}
	fmt.Fprintf(w, "\nTarget (%s in paddock ≤ crun-podman): **%s**: %.1f ns against %.1f ns a call (overhead over host %+.1f against %+.1f ns).\n",
		arg, verdict, p.Median, cr.Median, p.OverHostNS, cr.OverHostNS)
	return met
}

// writeMarkdown replaces the section under mdHeading in the Markdown file path (or
// appends it): what was run, the table, the commands and the verdict.
func writeMarkdown(path string, rep *Report, modes []*mode, dropped []string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(old)
	if i := strings.Index(doc, "\n"+mdHeading+"\n"); i >= 0 {
		doc = doc[:i+1]
	}
	var b strings.Builder
	if doc != "" && !strings.HasSuffix(doc, "\n\n") {
		b.WriteString("\n")
	}
	b.WriteString(mdHeading + "\n\n")
	b.WriteString(`What one system call costs inside each sandbox with its default seccomp profile, from
` + "`bench/syscalls`" + ` (run as root by ` + "`bench/run.sh`" + `, which writes this section). The static probe
` + "`internal/testutil/sysprobe`" + ` times its own loop of raw calls: **getpid**, which every profile
allows by number alone (the kernel caches that verdict per number since Linux 5.11), and
**personality(0xffffffff)**, which they allow by a rule on its argument, so that the whole
filter runs on every call. Each is run with no sandbox (host); in ` + "`crun run`" + ` of a bundle from
` + "`crun spec`" + ` (busybox rootfs, the probe bound read-only at /probe) with no seccomp section, with
the profile Podman gives crun by default (containers-common's
` + "`/usr/share/containers/seccomp.json`" + ` resolved for Podman's 11 default capabilities; crun has
no default of its own), and with Docker's default for Docker's 14 capabilities (the rules
Paddock loads, compiled by libseccomp instead); and in ` + "`examples/run`" + ` without a filter and
with its default (Docker's profile, 14 capabilities). The modes alternate, round after
round, the order rotated each round; every run is checked first (personality(1) fails under
each profile, succeeds without). All run in one private mount namespace where
` + "`/sys/fs/cgroup/unified`" + ` is detached, which crun 1.8.1 needs on this hybrid host.

`)
	if writeTable(&b, rep, modes) {
		b.WriteString("\nWhy: the unconfined rows cost about what the host does, so the overheads are the\n" +
			"filters' own. getpid costs each filter about the same (the verdict is cached; what\n" +
			"remains is the kernel's slower entry path for a task under seccomp). For the\n" +
			"argument-checked call Paddock's filter is cheaper than libseccomp's from the same\n" +
			"Docker rules (crun-docker) and from Podman's: Paddock's compiler finds the call's rules\n" +
			"by a binary search over syscall-number ranges, while libseccomp's default layout, which\n" +
			"crun does not change, compares the number against the profile's syscalls one after\n" +
			"another (the likely cause; the programs were not dumped here).\n")
	} else {
		b.WriteString("\nThe target is not met in this run: Paddock's filter costs more than crun's for the\n" +
			"argument-checked call. Compare the spread (min–max) before drawing more from it.\n")
	}
	b.WriteString("\nRun as (`bench/run.sh` builds the three binaries into its temporary directory):\n\n```\n" +
		strings.Join(os.Args, " ") + "\n```\n")
	b.WriteString("\nThe commands it times (`NR/ARG` is `39` for getpid, `135/0xffffffff` for personality):\n\n```\n")
	for _, m := range modes {
		fmt.Fprintf(&b, "%-18s %s\n", m.Name, rep.Commands[m.Name])
	}
	b.WriteString("```\n")
	if len(dropped) > 0 {
		b.WriteString("\nLeft out of the crun bundles: a conditional errno rule beside conditional allows of the\n" +
			"same call, which libseccomp 2.5 refuses to load (EEXIST), and exact repeats of an earlier\n" +
			"rule; none concerns the calls measured:\n\n")
		for _, d := range dropped {
			fmt.Fprintf(&b, "- %s\n", d)
		}
	}
	return os.WriteFile(path, []byte(doc+b.String()), 0o644)
}

func fail(err error) {
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "syscalls:", err)
	os.Exit(2)
}
