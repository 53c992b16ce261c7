package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paddock-sandbox/paddock/landlock"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/plan"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

type list []string

// String implements fmt.Stringer.
func (l *list) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	rootfs, netMode, pidMode, ipcMode, utsMode, userns, hostname, user, workdir string
	overlayUpper, overlaySize, spawn                                            string
	privileged, superPrivileged, init, interactive, tty, readOnly, diff, dryRun bool
	volumes, tmpfs, capAdd, capDrop, securityOpts, env                          list
	memory, pidsLimit, cpus, cgroupParent, timeout                              string
	images                                                                      imageFlags
	publish                                                                     list // -p (see network.go)
	// given holds the names of the flags on the command line, so that a flag given
	// as "" is an error rather than its default.
	given map[string]bool
}

// has reports whether any of the flags names was given.
func (o *options) has(names ...string) bool {
	for _, n := range names {
		if o.given[n] {
			return true
		}
	}
	return false
}

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	o, cmdArgs, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0 // the usage is printed; podman run -h exits 0 too
	}
	if err == nil {
		cmdArgs, err = loadImage(o, cmdArgs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 125
	}
	b, err := builder(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 125
	}
	if err := makeOverlayUpper(o); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 125
	}
	if o.dryRun {
		out, err := dryRun(b.Spec())
		if err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
			return 125
		}
		fmt.Println(string(out))
		return 0
	}
	if len(cmdArgs) == 0 {
		fmt.Fprintln(os.Stderr, "run: no command given (run [flags] -- COMMAND [ARG...])")
		return 125
	}
	caught := catchSignals()
	tpl, err := b.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 125
	}
	defer tpl.Close()
	code := start(tpl, o, cmdArgs, caught)
	if o.diff && o.overlayUpper != "" {
		printDiff(o.overlayUpper, tpl.Spec().Rootfs.Lower)
	}
	return code
}

// catchSignals starts catching the signals that run forwards to the sandbox, on
// another goroutine: the runtime enables each with a round trip to its signal
// thread, about a tenth of a millisecond here, which then overlaps Build and Start.
// Signals caught before the sandbox exists wait in the channel and reach it first.
func catchSignals() <-chan chan os.Signal {
	caught := make(chan chan os.Signal, 1)
	go func() {
		sigs := make(chan os.Signal, 8)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		caught <- sigs
	}()
	return caught
}

// expandShort turns "-it" into "-i -t", as podman accepts.
func expandShort(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "it") == "" {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// parseFlags reads run's flags from args, printing usage and flag errors to
// output, and returns the options and the command.
func parseFlags(args []string, output io.Writer) (*options, []string, error) {
	o := &options{given: map[string]bool{}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.rootfs, "rootfs", "", "root filesystem directory (default: the host's / as a read-only lower layer)")
	fs.BoolVar(&o.privileged, "privileged", false, "turn the hardening off; the namespaces stay")
	fs.BoolVar(&o.superPrivileged, "super-privileged", false, "only a new mount namespace; host pid, net, ipc; host / at /host")
	fs.StringVar(&o.netMode, "net", "", "network: none (a new, empty namespace), host, user-mode slirp4netns or pasta (not as root), or bridge (root; see -p)")
	networkFlags(fs, o)
	fs.StringVar(&o.pidMode, "pid", "", "pid namespace: host to share the host's")
	fs.StringVar(&o.ipcMode, "ipc", "", "ipc namespace: host to share the host's")
	fs.StringVar(&o.utsMode, "uts", "", "uts namespace: host to share the host's")
	fs.StringVar(&o.userns, "userns", "", "user namespace: host (root only), auto[:size=N] (root: a block of the subordinate IDs of \"containers\" per sandbox; others: their own subordinate ranges) or keep-id (not root: your own uid and gid inside too)")
	fs.Var(&o.volumes, "v", "bind mount SRC:DST[:OPTS], OPTS ro, rw, idmap (comma-separated; repeatable)")
	fs.Var(&o.volumes, "volume", "bind mount SRC:DST[:OPTS], OPTS ro, rw, idmap (comma-separated; repeatable)")
	fs.Var(&o.tmpfs, "tmpfs", "tmpfs mount DST[:size=N,mode=M] (repeatable)")
	fs.Var(&o.capAdd, "cap-add", "add a capability (repeatable)")
	fs.Var(&o.capDrop, "cap-drop", "drop a capability, or ALL (repeatable)")
	fs.Var(&o.securityOpts, "security-opt", "seccomp=unconfined|FILE, no-new-privileges[=false], label=..., mask=P:P, unmask=P|ALL, landlock=ro:P,rw:P (repeatable)")
	fs.StringVar(&o.memory, "memory", "", "memory limit")
	fs.StringVar(&o.pidsLimit, "pids-limit", "", "maximum number of processes (default 2048; -1 for unlimited)")
	fs.StringVar(&o.cpus, "cpus", "", "CPU limit")
	fs.StringVar(&o.cgroupParent, "cgroup-parent", "", "parent cgroup")
	fs.StringVar(&o.timeout, "timeout", "", "kill the sandbox after this many seconds (or a duration such as 500ms)")
	fs.StringVar(&o.hostname, "hostname", "", "hostname in the sandbox")
	fs.StringVar(&o.user, "u", "", "UID[:GID] inside the sandbox, numbers in 0..2147483647")
	fs.StringVar(&o.user, "user", "", "UID[:GID] inside the sandbox, numbers in 0..2147483647")
	fs.StringVar(&o.workdir, "w", "", "working directory inside the sandbox")
	fs.StringVar(&o.workdir, "workdir", "", "working directory inside the sandbox")
	fs.Var(&o.env, "e", "set KEY=VALUE in the environment (repeatable)")
	fs.Var(&o.env, "env", "set KEY=VALUE in the environment (repeatable)")
	fs.BoolVar(&o.init, "init", false, "run a minimal init as PID 1")
	fs.BoolVar(&o.interactive, "i", false, "keep stdin open")
	fs.BoolVar(&o.interactive, "interactive", false, "keep stdin open")
	fs.BoolVar(&o.tty, "t", false, "allocate a pseudo-terminal")
	fs.BoolVar(&o.tty, "tty", false, "allocate a pseudo-terminal")
	fs.BoolVar(&o.readOnly, "read-only", false, "make the root filesystem read-only")
	fs.StringVar(&o.overlayUpper, "overlay-upper", "", "keep the writable layer in DIR (and DIR.work) after exit")
	fs.StringVar(&o.overlaySize, "overlay-size", "", "bound the ephemeral writable layer (default 1g; tmpfs sizes: 512m, 2g, 25%)")
	fs.BoolVar(&o.diff, "diff", false, "after exit, print what the sandbox changed (needs --overlay-upper)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the sandbox's Spec and the Plan it resolves to on this host as JSON, and exit")
	fs.StringVar(&o.spawn, "spawn", "", "fork or vfork (default: chosen automatically)")
	addImageFlags(fs, &o.images)
	if err := fs.Parse(expandShort(args)); err != nil {
		return nil, nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.given[f.Name] = true })
	return o, fs.Args(), nil
}

// parseSize reads podman's sizes: a whole number of bytes with an optional b, k, m
// or g (in either case). A size whose bytes do not fit in an int64 is an error, never
// a wrapped number.
func parseSize(v string) (int64, error) {
	num, shift := v, 0
	if v != "" {
		switch v[len(v)-1] {
		case 'b', 'B':
			num = v[:len(v)-1]
		case 'k', 'K':
			num, shift = v[:len(v)-1], 10
		case 'm', 'M':
			num, shift = v[:len(v)-1], 20
		case 'g', 'G':
			num, shift = v[:len(v)-1], 30
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if errors.Is(err, strconv.ErrRange) || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large: a size is at most %d bytes", v, int64(math.MaxInt64))
	}
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes with an optional b, k, m or g", v)
	}
	return n << shift, nil
}

func resourceOpts(o *options) ([]sandbox.Option, error) {
	var opts []sandbox.Option
	if o.has("memory") {
		n, err := parseSize(o.memory)
		if err != nil {
			return nil, fmt.Errorf("--memory: %w", err)
		}
		opts = append(opts, sandbox.WithMemoryLimit(n))
	}
	if o.has("pids-limit") {
		n, err := strconv.ParseInt(o.pidsLimit, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--pids-limit %q: %w", o.pidsLimit, err)
		}
		opts = append(opts, sandbox.WithPidsLimit(n))
	}
	if o.has("cpus") {
		n, err := strconv.ParseFloat(o.cpus, 64)
		if err != nil {
			return nil, fmt.Errorf("--cpus %q: %w", o.cpus, err)
		}
		opts = append(opts, sandbox.WithCPUs(n))
	}
	if o.cgroupParent != "" {
		opts = append(opts, sandbox.WithCgroupParent(o.cgroupParent))
	}
	if o.has("timeout") {
		d, err := parseTimeout(o.timeout)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sandbox.WithTimeLimit(d))
	}
	return opts, nil
}

// parseTimeout reads --timeout: whole seconds, as podman's, or a Go duration
// ("500ms", "1m30s"); 0 means none.
func parseTimeout(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.ParseUint(v, 10, 32); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--timeout %q: want whole seconds or a duration such as 500ms", v)
	}
	return d, nil
}

func builder(o *options) (*sandbox.Builder, error) {
	var opts []sandbox.Option
	if o.superPrivileged {
		opts = append(opts, sandbox.SuperPrivileged())
	} else if o.privileged {
		opts = append(opts, sandbox.Privileged())
	}
	switch o.userns {
	case "":
	case "host":
		opts = append(opts, sandbox.WithoutUserNS())
	default:
		uopts, err := usernsOption(o.userns)
		if err != nil {
			return nil, err
		}
		opts = append(opts, uopts...)
	}
	netNS, netOpts, err := networkOptions(o)
	if err != nil {
		return nil, err
	}
	opts = append(opts, netOpts...)
	for _, ns := range []struct {
		flag, value string
		kind        namespace.Kind
	}{{"--net", netNS, namespace.Net}, {"--pid", o.pidMode, namespace.PID}, {"--ipc", o.ipcMode, namespace.IPC}, {"--uts", o.utsMode, namespace.UTS}} {
		switch ns.value {
		case "":
		case "host":
			opts = append(opts, sandbox.WithHostNamespaces(ns.kind))
		case "none", "private":
			opts = append(opts, sandbox.WithNamespaces(ns.kind))
		default:
			return nil, fmt.Errorf("%s %q: want host or none", ns.flag, ns.value)
		}
	}
	if o.rootfs != "" {
		opts = append(opts, sandbox.WithRootfs(o.rootfs))
	}
	if o.images.opt != nil {
		opts = append(opts, o.images.opt)
	}
	if o.overlayUpper != "" {
		upper, work := upperDirs(o)
		opts = append(opts, sandbox.WithOverlayUpper(upper, work))
	} else if o.diff {
		return nil, errors.New("--diff needs --overlay-upper: an ephemeral layer is gone after exit")
	}
	if o.overlaySize != "" {
		opts = append(opts, sandbox.WithOverlaySize(o.overlaySize))
	}
	if o.readOnly {
		opts = append(opts, sandbox.WithReadonlyRootfs())
	}
	for _, v := range o.volumes {
		opt, err := volumeOption(v)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	for _, t := range o.tmpfs {
		dst, optsText, _ := strings.Cut(t, ":")
		tm := mounts.Tmpfs{Target: dst}
		for _, kv := range strings.Split(optsText, ",") {
			switch k, v, _ := strings.Cut(kv, "="); k {
			case "":
			case "size":
				tm.Size = v
			case "mode":
				m, err := strconv.ParseUint(v, 8, 32)
				if err != nil {
					return nil, fmt.Errorf("--tmpfs %q: mode: %w", t, err)
				}
				tm.Mode = uint32(m)
			default:
				tm.Options = append(tm.Options, kv)
			}
		}
		opts = append(opts, func(s *sandbox.Spec) { s.Mounts.Tmpfs = append(s.Mounts.Tmpfs, tm) })
	}
	if len(o.capAdd) > 0 {
		opts = append(opts, sandbox.WithCapAdd(o.capAdd...))
	}
	if len(o.capDrop) > 0 {
		opts = append(opts, sandbox.WithCapDrop(o.capDrop...))
	}
	for _, so := range o.securityOpts {
		opt, err := securityOpt(so)
		if err != nil {
			return nil, err
		}
		opts = append(opts, opt)
	}
	if o.hostname != "" {
		opts = append(opts, sandbox.WithHostname(o.hostname))
	}
	if o.has("u", "user") {
		uid, gid, err := parseUser(o.user)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sandbox.WithUser(uid, gid))
	}
	if o.workdir != "" {
		opts = append(opts, sandbox.WithWorkdir(o.workdir))
	}
	if len(o.env) > 0 {
		opts = append(opts, sandbox.WithEnv(o.env...))
	}
	if o.tty {
		opts = append(opts, sandbox.WithEnv("TERM="+termOr("xterm")))
	}
	if o.init {
		opts = append(opts, sandbox.WithInit())
	}
	if o.spawn != "" {
		opts = append(opts, sandbox.WithSpawnMode(sandbox.SpawnMode(o.spawn)))
	}
	res, err := resourceOpts(o)
	if err != nil {
		return nil, err
	}
	opts = append(opts, res...)
	return sandbox.NewBuilder(opts...), nil
}

// upperDirs returns the directories of --overlay-upper DIR: DIR keeps the writable
// layer, DIR.work is overlayfs's scratch directory.
func upperDirs(o *options) (upper, work string) {
	upper = strings.TrimSuffix(o.overlayUpper, "/")
	return upper, upper + ".work"
}

// makeOverlayUpper creates the directories of --overlay-upper, if given. It is
// apart from builder, which only reads, so that parsing never writes to the host.
func makeOverlayUpper(o *options) error {
	if o.overlayUpper == "" {
		return nil
	}
	upper, work := upperDirs(o)
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("--overlay-upper: %w", err)
		}
	}
	return nil
}

func termOr(def string) string {
	if t := os.Getenv("TERM"); t != "" {
		return t
	}
	return def
}

func securityOpt(so string) (sandbox.Option, error) {
	key, value, _ := strings.Cut(so, "=")
	switch key {
	case "seccomp":
		switch value {
		case "unconfined":
			return sandbox.WithoutSeccomp(), nil
		case "":
			return nil, errors.New("--security-opt seccomp= names no profile: give unconfined or a file")
		}
		data, err := readProfile(value)
		if err != nil {
			return nil, fmt.Errorf("--security-opt seccomp: %w", err)
		}
		prof, err := seccomp.ParseJSON(data, nil)
		if err != nil {
			return nil, fmt.Errorf("--security-opt seccomp=%s: %w", value, err)
		}
		return sandbox.WithSeccompProfile(prof), nil
	case "no-new-privileges":
		on := value == "" || value == "true"
		if !on && value != "false" {
			return nil, fmt.Errorf("--security-opt %q: want no-new-privileges[=true|false]", so)
		}
		return sandbox.WithNoNewPrivileges(on), nil
	case "mask":
		return sandbox.WithMask(strings.Split(value, ":")...), nil
	case "unmask":
		return sandbox.WithUnmask(strings.Split(value, ":")...), nil
	case "landlock":
		spec, err := landlock.ParseOption(value)
		if err != nil {
			return nil, fmt.Errorf("--security-opt landlock: %w", err)
		}
		return sandbox.WithLandlock(spec.Strict, spec.Rules...), nil
	case "label":
		return labelOpt(value)
	}
	return nil, fmt.Errorf("--security-opt %q: unknown option", so)
}

// maxProfileSize bounds a seccomp profile file; Docker's default is about 20 KiB.
const maxProfileSize = 16 << 20

// readProfile reads a seccomp profile file: a regular file of at most
// maxProfileSize bytes, so that a FIFO, a device or /dev/zero cannot hang or exhaust
// run.
func readProfile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxProfileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxProfileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxProfileSize)
	}
	return data, nil
}

// parseUser reads -u UID[:GID]: numbers in 0..namespace.MaxID. Above it, IDs read as
// negative, and 4294967295 is (uid_t)-1, which the kernel's set*id calls take as
// "leave unchanged": the command would keep running as root.
func parseUser(u string) (uint32, uint32, error) {
	us, gs, hasGID := strings.Cut(u, ":")
	uid, err := parseID("UID", us)
	if err != nil {
		return 0, 0, fmt.Errorf("-u %q: %w", u, err)
	}
	gid := uid
	if hasGID {
		if gid, err = parseID("GID", gs); err != nil {
			return 0, 0, fmt.Errorf("-u %q: %w", u, err)
		}
	}
	return uid, gid, nil
}

// parseID reads one numeric ID in 0..namespace.MaxID; what names it in errors.
func parseID(what, s string) (uint32, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if strings.HasPrefix(s, "+") || err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s %q is not a number in 0..%d: want a numeric UID[:GID]", what, s, namespace.MaxID)
	}
	if err != nil || n < 0 || n > namespace.MaxID {
		return 0, fmt.Errorf("%s %s is outside 0..%d (IDs from 2^31 up read as negative; 4294967295 is (uid_t)-1, "+
			"which set*id calls take as \"leave unchanged\")", what, s, namespace.MaxID)
	}
	return uint32(n), nil
}

func start(tpl *sandbox.Template, o *options, args []string, caught <-chan chan os.Signal) int {
	cmd := sandbox.Command{Args: args, Stdout: os.Stdout, Stderr: os.Stderr}
	if o.interactive && !o.tty {
		cmd.Stdin = os.Stdin
	}
	var restore func()
	if o.tty {
		cmd.Stdout, cmd.Stderr = nil, nil
		cmd.Terminal = true
		if ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ); err == nil {
			cmd.TerminalSize = sandbox.WindowSize{Rows: ws.Row, Cols: ws.Col}
		}
	}
	p, err := tpl.Start(context.Background(), cmd)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		var ce *sandbox.ChildError
		if errors.As(err, &ce) {
			switch {
			case ce.NotFound():
				return 127
			case ce.NotExecutable():
				return 126
			}
		}
		return 125
	}
	if o.tty {
		restore = attachTerminal(p, o.interactive)
		defer restore()
	}
	// Forward signals to the sandbox, as podman run does.
	sigs := <-caught
	go func() {
		for s := range sigs {
			p.Signal(s.(syscall.Signal))
		}
	}()
	// No signal.Stop: the program exits next, and each signal it would restore
	// costs a round trip to the runtime's signal thread. Signals that arrive from
	// here on find the process finished (ErrFinished).
	st, err := p.Wait()
	if err != nil && st == nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 125
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
	}
	switch {
	case st.Limit == sandbox.LimitWallTime:
		fmt.Fprintf(os.Stderr, "run: the sandbox ran for its --timeout of %v and was killed\n", tpl.Spec().Limits.WallTime)
	case st.OOMKilled:
		fmt.Fprintln(os.Stderr, "run: the sandbox ran out of memory: the OOM killer ended a process")
	case st.Limit == sandbox.LimitPids:
		fmt.Fprintln(os.Stderr, "run: the sandbox reached its --pids-limit: a fork failed")
	}
	return st.ExitCode()
}

// attachTerminal puts the caller's terminal in raw mode and copies between it and
// the sandbox's terminal, resizing it along.
func attachTerminal(p *sandbox.Process, interactive bool) func() {
	term := p.Terminal()
	fd := int(os.Stdin.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	isTerm := err == nil
	if isTerm && interactive {
		raw := *old
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(fd, unix.TCSETS, &raw)
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
				p.Resize(sandbox.WindowSize{Rows: ws.Row, Cols: ws.Col})
			}
		}
	}()
	if interactive {
		go io.Copy(term, os.Stdin)
	}
	done := make(chan struct{})
	go func() { io.Copy(os.Stdout, term); close(done) }()
	return func() {
		signal.Stop(winch)
		<-done
		if isTerm && interactive {
			unix.IoctlSetTermios(fd, unix.TCSETS, old)
		}
	}
}

func printDiff(upper string, lower []string) {
	if len(lower) == 0 {
		lower = []string{"/"}
	}
	ch, err := overlay.Diff(upper, lower...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "run: diff:", err)
		return
	}
	for _, p := range ch.Added {
		fmt.Println("A", p)
	}
	for _, p := range ch.Modified {
		fmt.Println("C", p)
	}
	for _, p := range ch.Deleted {
		fmt.Println("D", p)
	}
}

// dryRun is what --dry-run prints: the Spec, and the Plan that Build would emit
// the child's steps from on this host, for this caller.
func dryRun(s *sandbox.Spec) ([]byte, error) {
	p, err := s.Plan()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(struct {
		Spec *sandbox.Spec `json:"spec"`
		Plan *plan.Plan    `json:"plan"`
	}{s, p}, "", "  ")
}
