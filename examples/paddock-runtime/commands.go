package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// oneID parses a command's flags in fs and returns its single argument, the
// container's ID.
func oneID(fs *flag.FlagSet, args []string) (string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("want one container ID, got %q", fs.Args())
	}
	return fs.Arg(0), checkID(fs.Arg(0))
}

// cmdStart is start: the held process of a created container goes on.
func cmdStart(root string, args []string) error {
	id, err := oneID(flag.NewFlagSet("start", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	unlock, err := lock(root, id)
	if err != nil {
		return err
	}
	defer unlock()
	return start(root, id)
}

// start releases the container id, whose lock the caller holds, and records
// that it runs.
func start(root, id string) error {
	c, err := load(root, id)
	if err != nil {
		return err
	}
	if c.Status != specs.StateCreated {
		return fmt.Errorf("container %s is %s, not created", id, c.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := startHooks(c); err != nil {
		return err
	}
	fifo := filepath.Join(containerDir(root, id), fifoFile)
	if err := sandbox.Release(ctx, fifo); err != nil {
		return execError(c, err)
	}
	os.Remove(fifo)
	c.Status = specs.StateRunning
	if err := save(root, c); err != nil {
		return err
	}
	poststart(c)
	return nil
}

// cmdState is state: the OCI state of a container, as JSON.
func cmdState(root string, args []string, stdout io.Writer) error {
	id, err := oneID(flag.NewFlagSet("state", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	c, err := load(root, id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(c.State, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// cmdKill is kill: a signal to the container's process, or with --all to
// every process of its cgroup.
func cmdKill(root string, args []string) error {
	fs := flag.NewFlagSet("kill", flag.ContinueOnError)
	all := fs.Bool("all", false, "signal every process of the container")
	fs.BoolVar(all, "a", false, "signal every process of the container")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return fmt.Errorf("want a container ID and a signal, got %q", fs.Args())
	}
	sig := unix.SIGTERM
	if fs.NArg() == 2 {
		var err error
		if sig, err = parseSignal(fs.Arg(1)); err != nil {
			return err
		}
	}
	c, err := load(root, fs.Arg(0))
	if err != nil {
		return err
	}
	if c.Status != specs.StateCreated && c.Status != specs.StateRunning && c.Status != statePaused {
		return fmt.Errorf("container %s is %s", c.ID, c.Status)
	}
	if err := signalPid(c.Sandbox.Pid, c.Sandbox.StartTime, sig); err != nil {
		return err
	}
	if *all {
		signalCgroup(append(c.Sandbox.Cgroup, c.Sandbox.CgroupJoined...), sig) // an engine's cgroup too
	}
	return nil
}

// parseSignal reads a signal as a number (0 only checks that the process
// lives) or a name, with or without SIG.
func parseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %s", s)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %s", s)
}

// signalPid sends sig to pid through a pidfd, once it is checked to be the
// process that started at startTime.
func signalPid(pid int, startTime uint64, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("the container's process %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if !alive(pid, startTime) {
		return fmt.Errorf("the container's process %d has ended", pid)
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}

// signalCgroup sends sig to every process listed in the cgroup directories.
func signalCgroup(dirs []string, sig unix.Signal) {
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				unix.Kill(pid, sig)
			}
		}
	}
}

// cmdDelete is delete: the container's sandbox removed (killed, its cgroup
// removed) and its state directory; a running container only with --force.
func cmdDelete(root string, args []string) error {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	force := fs.Bool("force", false, "delete a running container too")
	fs.BoolVar(force, "f", false, "delete a running container too")
	id, err := oneID(fs, args)
	if err != nil {
		return err
	}
	unlock, err := lock(root, id)
	if errors.Is(err, errNotExist) && *force {
		return nil
	} else if err != nil {
		return err
	}
	defer unlock()
	c, err := load(root, id)
	if errors.Is(err, errNotExist) {
		return os.RemoveAll(containerDir(root, id)) // a create that did not finish
	} else if err != nil {
		return err
	}
	if (c.Status == specs.StateRunning || c.Status == statePaused) && !*force {
		return fmt.Errorf("container %s is %s: stop it first, or use --force", id, c.Status)
	}
	if c.Status == statePaused {
		killFrozen(c)
	}
	return remove(root, c)
}

// remove removes the sandbox of c and its state directory.
func remove(root string, c *container) error {
	if err := sandbox.Remove(&c.Sandbox); err != nil {
		return err
	}
	poststop(c)
	return os.RemoveAll(containerDir(root, c.ID))
}

// cmdRun is run: create and start; without --detach it waits for the
// container's process, forwarding signals to it, deletes the container and
// exits with its status.
func cmdRun(root string, args []string) (int, error) {
	f, id, err := parseCreate("run", args, true)
	if err != nil {
		return 1, err
	}
	c, err := create(root, id, f)
	if err != nil {
		return 1, err
	}
	if c.term != nil {
		defer proxyTerminal(c.term)()
	}
	if err := start(root, id); err != nil {
		remove(root, c)
		return 1, err
	}
	if f.detach {
		return 0, nil
	}
	code, err := waitFor(c.Sandbox.Pid)
	if rerr := remove(root, c); err == nil {
		err = rerr
	}
	return code, err
}

// waitFor waits for pid, a child of this process, forwarding the signals this
// process gets, and returns its exit code (128+N for a signal N).
func waitFor(pid int) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			unix.Kill(pid, s.(unix.Signal))
		}
	}()
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 1, fmt.Errorf("wait for the container's process %d: %w", pid, err)
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// cmdList is list: the containers, their pids and status, as a table or,
// with --format json, as their states.
func cmdList(root string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	quiet := fs.Bool("quiet", false, "the IDs only")
	fs.BoolVar(quiet, "q", false, "the IDs only")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	names, err := ids(root)
	if err != nil {
		return err
	}
	states := []specs.State{}
	for _, id := range names {
		if c, err := load(root, id); err == nil {
			states = append(states, c.State)
		}
	}
	return printList(stdout, states, *format, *quiet)
}

// printList prints states as list does.
func printList(w io.Writer, states []specs.State, format string, quiet bool) error {
	switch {
	case quiet:
		for _, s := range states {
			fmt.Fprintln(w, s.ID)
		}
		return nil
	case format == "json":
		return json.NewEncoder(w).Encode(states)
	case format != "table":
		return fmt.Errorf("--format %q: want table or json", format)
	}
	tw := tabwriter.NewWriter(w, 4, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPID\tSTATUS\tBUNDLE")
	for _, s := range states {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle)
	}
	return tw.Flush()
}
