package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// execFlags are the flags of exec.
type execFlags struct {
	process, pidFile, consoleSocket, cwd, user, label, apparmor string
	detach, tty, noNewPrivs                                     bool
	preserveFDs                                                 int
	env, caps, groups                                           listFlag
}

// parseExec parses the flags of exec and returns the container's ID and the
// command's arguments.
func parseExec(args []string) (*execFlags, string, []string, error) {
	f := &execFlags{}
	fs := flag.NewFlagSet("exec", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.process, "process", "", "a runtime-spec Process, as JSON")
	fs.StringVar(&f.process, "p", "", "a runtime-spec Process, as JSON")
	fs.StringVar(&f.pidFile, "pid-file", "", "a file to write the process's pid to")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "a socket to send the terminal's master to")
	fs.StringVar(&f.cwd, "cwd", "", "the working directory")
	fs.StringVar(&f.user, "user", "", "UID[:GID]")
	fs.StringVar(&f.user, "u", "", "UID[:GID]")
	fs.StringVar(&f.label, "process-label", "", "the SELinux label")
	fs.StringVar(&f.apparmor, "apparmor", "", "refused: no AppArmor")
	fs.BoolVar(&f.detach, "detach", false, "return once the process runs")
	fs.BoolVar(&f.detach, "d", false, "return once the process runs")
	fs.BoolVar(&f.tty, "tty", false, "give the process a terminal")
	fs.BoolVar(&f.tty, "t", false, "give the process a terminal")
	fs.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass descriptors 3 to 3+N-1 on")
	fs.Var(&f.env, "env", "K=V, added to the environment")
	fs.Var(&f.env, "e", "K=V, added to the environment")
	fs.Var(&f.groups, "additional-gids", "a supplementary group, replacing the process's")
	fs.Var(&f.groups, "g", "a supplementary group, replacing the process's")
	fs.Var(&f.caps, "cap", "a capability added")
	fs.Var(&f.caps, "c", "a capability added")
	if err := fs.Parse(args); err != nil {
		return nil, "", nil, err
	}
	if fs.NArg() < 1 {
		return nil, "", nil, errors.New("want a container ID")
	}
	if f.preserveFDs < 0 {
		return nil, "", nil, fmt.Errorf("--preserve-fds %d", f.preserveFDs)
	}
	return f, fs.Arg(0), fs.Args()[1:], checkID(fs.Arg(0))
}

// cmdExec is exec: a new process in every namespace and the cgroup of a
// running container, with the capabilities, filter, user and limits of its
// configuration or of --process. Without --detach it waits and returns the
// process's status.
func cmdExec(root string, args []string) (int, error) {
	f, id, argv, err := parseExec(args)
	if err != nil {
		return 1, err
	}
	c, err := load(root, id)
	if err != nil {
		return 1, err
	}
	if c.Status != specs.StateRunning {
		return 1, fmt.Errorf("container %s is %s, not running: cannot exec in it", id, c.Status)
	}
	cfg, err := oci.ReadConfig(c.Bundle)
	if err != nil {
		return 1, err
	}
	if cfg.Process, err = execProcess(cfg.Process, f, argv); err != nil {
		return 1, err
	}
	spec, cmd, err := oci.Convert(cfg, c.Bundle)
	if err != nil {
		return 1, err
	}
	if spec.InCallerMountNS() {
		// Its root is a chroot in the runtime's namespace: joining the
		// container's namespaces would leave the process in the runtime's root.
		return 1, fmt.Errorf("container %s has no mount namespace of its own: exec into it is not supported, the process would see the runtime's root and not the container's", id)
	}
	intoContainer(spec, c, f.detach)
	if err := sameCgroup(spec, c); err != nil {
		return 1, err
	}
	tpl, err := sandbox.NewBuilder(sandbox.WithSpec(spec)).Build()
	if err != nil {
		return 1, err
	}
	defer tpl.Close()
	// The namespaces were opened by Build: they are the container's if its
	// process is still the one recorded.
	if !alive(c.Sandbox.Pid, c.Sandbox.StartTime) {
		return 1, fmt.Errorf("container %s stopped", id)
	}
	return execStart(tpl, cmd, f)
}

// execProcess returns the process to run: the --process file, or the
// container's own process with the command line's arguments and flags on top.
func execProcess(base *specs.Process, f *execFlags, argv []string) (*specs.Process, error) {
	if f.process != "" {
		b, err := os.ReadFile(f.process)
		if err != nil {
			return nil, err
		}
		p := &specs.Process{}
		if err := json.Unmarshal(b, p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", f.process, err)
		}
		return p, nil
	}
	if len(argv) == 0 {
		return nil, errors.New("no command: give arguments after the container ID, or --process")
	}
	p := &specs.Process{}
	if base != nil {
		*p = *base
	}
	p.Args, p.Terminal = argv, f.tty
	p.Env = mergeEnv(p.Env, f.env)
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	if f.user != "" {
		uid, gid, err := parseUser(f.user)
		if err != nil {
			return nil, err
		}
		p.User.UID, p.User.GID, p.User.AdditionalGids = uid, gid, nil
	}
	if len(f.groups) > 0 {
		p.User.AdditionalGids = nil
		for _, g := range f.groups {
			n, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--additional-gids %q: want a number", g)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
		}
	}
	if f.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if f.label != "" {
		p.SelinuxLabel = f.label
	}
	if f.apparmor != "" {
		p.ApparmorProfile = f.apparmor
	}
	addCaps(p, f.caps)
	return p, nil
}

// mergeEnv adds the K=V of add to env, replacing a variable of the same name.
func mergeEnv(env, add []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		out = append(filterEnv(out, k), kv)
	}
	return out
}

// filterEnv returns env without the variable k.
func filterEnv(env []string, k string) []string {
	var out []string
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name != k {
			out = append(out, kv)
		}
	}
	return out
}

// parseUser reads UID[:GID].
func parseUser(s string) (uid, gid uint32, err error) {
	us, gs, hasGID := strings.Cut(s, ":")
	u, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want UID[:GID]", s)
	}
	g := uint64(0)
	if hasGID {
		if g, err = strconv.ParseUint(gs, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("--user %q: want UID[:GID]", s)
		}
	}
	return uint32(u), uint32(g), nil
}

// addCaps adds each capability of names to the bounding, effective and
// permitted sets, as runc's exec --cap does.
func addCaps(p *specs.Process, names []string) {
	if len(names) == 0 {
		return
	}
	if p.Capabilities == nil {
		p.Capabilities = &specs.LinuxCapabilities{}
	} else {
		cp := *p.Capabilities
		p.Capabilities = &cp
	}
	c := p.Capabilities
	for _, n := range names {
		n = strings.ToUpper(n)
		if !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		c.Bounding = append(c.Bounding[:len(c.Bounding):len(c.Bounding)], n)
		c.Effective = append(c.Effective[:len(c.Effective):len(c.Effective)], n)
		c.Permitted = append(c.Permitted[:len(c.Permitted):len(c.Permitted)], n)
	}
}

// intoContainer turns the Spec of the container's configuration, converted with
// the exec's process, into one that enters the running container c instead of
// making a new one: every namespace the configuration lists is joined from the
// container's process (the user namespace first; the process is handed over
// into the pid namespace, see sandbox.WithJoinNamespace), the root and mounts
// are the container's own, nothing of the namespaces is set again (hostname, ID
// maps, clocks), and the cgroup is the container's, joined without limits or
// device rules written again.
func intoContainer(s *sandbox.Spec, c *container, detach bool) {
	ns := namespace.Spec{NS: map[namespace.Kind]namespace.Config{}}
	for _, k := range namespace.Kinds {
		if s.Namespaces.Mode(k) != namespace.Host {
			ns.Set(k, namespace.Config{Mode: namespace.Join, Path: k.Path(c.Sandbox.Pid)})
		}
	}
	s.Namespaces = ns
	// What the namespaces hold was set when the container was made.
	s.Hostname, s.Domainname, s.Sysctl = "", "", nil
	s.Rootfs, s.RootDir, s.HostRoot, s.Mounts = overlay.Spec{}, "", nil, mounts.Spec{}
	// A joined mount namespace is entered as it is, its root set up already.
	s.RootInPlace = false
	// setns(2) moves only children into a pid namespace: without an init, the
	// child clones the process there and hands it over, as runc's exec does, so
	// that the pid file names the process itself and engines wait for it.
	s.Init, s.Hold, s.Detached = false, false, detach
	s.Cgroup = cgroup.Spec{Path: c.CgroupPath, AllowAllDevices: true}
	s.NoCgroup = c.CgroupPath == ""
}

// sameCgroup checks that the cgroup the Spec would put the process in is, in
// every hierarchy, the one the container's process is in: a relative path
// resolved below another cgroup than create's would make a new one instead.
func sameCgroup(s *sandbox.Spec, c *container) error {
	pl, err := s.Plan()
	if err != nil || pl.Cgroup.Version == 0 {
		return err
	}
	in, err := cgroup.ReadMembership(c.Sandbox.Pid)
	if err != nil {
		return err
	}
	have := in.Paths()
	for ctrl, p := range pl.Cgroup.Paths {
		if have[ctrl] != p {
			return fmt.Errorf("container %s is in the %s cgroup %s, not %s, where its cgroup path %q leads from this process's cgroup", c.ID, ctrl, have[ctrl], p, c.CgroupPath)
		}
	}
	return nil
}

// containerCgroupPath is the exact cgroup of a container: its configuration's
// cgroupsPath or, without one, a name of its own below the runtime's own
// cgroup, made of the container's state directory (root and ID) so that two
// runtimes with containers of one ID do not share a cgroup.
func containerCgroupPath(cfg *specs.Spec, root, id string) string {
	if cfg.Linux != nil && cfg.Linux.CgroupsPath != "" {
		return cfg.Linux.CgroupsPath
	}
	sum := sha256.Sum256([]byte(containerDir(root, id)))
	return "paddock-runtime-" + hex.EncodeToString(sum[:8])
}

// execStart starts the process; detached, it gives it up and writes the pid
// file, otherwise it waits, forwarding signals, and returns its status.
func execStart(tpl *sandbox.Template, cmd sandbox.Command, f *execFlags) (int, error) {
	if !cmd.Terminal {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.ExtraFiles = preservedFiles(f.preserveFDs)
	// The console socket is reached before the start, so that a socket that
	// cannot be reached fails the exec before the process runs.
	var console *net.UnixConn
	if cmd.Terminal {
		var err error
		if console, err = dialConsole(f.consoleSocket); err != nil {
			return 1, err
		}
		defer console.Close()
	}
	p, err := tpl.Start(context.Background(), cmd)
	if err != nil {
		return 1, err
	}
	if console != nil {
		if err := sendMaster(console, p.Terminal()); err != nil {
			p.Kill()
			p.Wait()
			return 1, err
		}
	}
	if f.detach {
		pid := p.Pid()
		if _, err := p.Detach(); err != nil {
			return 1, err
		}
		if f.pidFile != "" {
			return 0, writePidFile(f.pidFile, pid)
		}
		return 0, nil
	}
	if f.pidFile != "" {
		if err := writePidFile(f.pidFile, p.Pid()); err != nil {
			p.Kill()
			p.Wait()
			return 1, err
		}
	}
	return waitExec(p)
}

// waitExec waits for p, forwarding the signals this process gets, and returns
// its exit code (128+N for a signal N, as a shell reports it).
func waitExec(p *sandbox.Process) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				p.Signal(s.(unix.Signal))
			case <-done:
				return
			}
		}
	}()
	st, err := p.Wait()
	if err != nil {
		return 1, err
	}
	if st.Signal != 0 {
		return 128 + int(st.Signal), nil
	}
	return st.Code, nil
}

// preservedFiles returns descriptors 3 to 3+n-1 of this process, which become
// the same descriptors of the process (--preserve-fds).
func preservedFiles(n int) []*os.File {
	var files []*os.File
	for i := range n {
		files = append(files, os.NewFile(uintptr(3+i), "preserved-fd-"+strconv.Itoa(3+i)))
	}
	return files
}

// dialConsole connects to the console socket, to which the terminal's master
// goes as runc sends it; without one the terminal has nowhere to go.
func dialConsole(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, errors.New("a terminal (--tty, process.terminal) needs --console-socket")
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return conn, nil
}

// sendMaster sends master over conn with SCM_RIGHTS, with its name as the
// message.
func sendMaster(conn *net.UnixConn, master *os.File) error {
	if master == nil {
		return errors.New("the process has no terminal")
	}
	if _, _, err := conn.WriteMsgUnix([]byte(master.Name()), unix.UnixRights(int(master.Fd())), nil); err != nil {
		return fmt.Errorf("console socket: send the terminal: %w", err)
	}
	return nil
}
