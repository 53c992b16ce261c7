package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// createFlags are the flags of create and run.
type createFlags struct {
	bundle, pidFile, consoleSocket string
	preserveFDs                    int
	detach, noNewKeyring, noPivot  bool
}

// parseCreate parses the flags of create (and run, with detach) and returns
// the container's ID.
func parseCreate(name string, args []string, withDetach bool) (*createFlags, string, error) {
	f := &createFlags{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&f.bundle, "bundle", ".", "the bundle's directory")
	fs.StringVar(&f.bundle, "b", ".", "the bundle's directory")
	fs.StringVar(&f.pidFile, "pid-file", "", "a file to write the container's pid to")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "a unix socket to send the terminal's master to")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass descriptors 3 to 3+N-1 on to the process")
	fs.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "accepted: no session keyring is created")
	fs.BoolVar(&f.noPivot, "no-pivot", false, "refused: the root is always pivoted into")
	if withDetach {
		fs.BoolVar(&f.detach, "detach", false, "return once the container runs")
		fs.BoolVar(&f.detach, "d", false, "return once the container runs")
	}
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	switch {
	case fs.NArg() != 1:
		return nil, "", fmt.Errorf("want one container ID, got %q", fs.Args())
	case f.preserveFDs < 0:
		return nil, "", fmt.Errorf("--preserve-fds %d", f.preserveFDs)
	case f.noPivot:
		return nil, "", errors.New("--no-pivot is not supported: the container's root is always pivoted into")
	}
	return f, fs.Arg(0), checkID(fs.Arg(0))
}

// cmdCreate is create: the container set up, its process held before execve.
func cmdCreate(root string, args []string) error {
	f, id, err := parseCreate("create", args, false)
	if err != nil {
		return err
	}
	f.detach = true // create returns with the container held
	_, err = create(root, id, f)
	return err
}

// create sets up the container id from the bundle of f and leaves its process
// held on the exec FIFO; it records the state and writes the pid file. What
// fails leaves nothing behind.
func create(root, id string, f *createFlags) (*container, error) {
	bundle, err := filepath.Abs(f.bundle)
	if err != nil {
		return nil, err
	}
	cfg, err := oci.ReadConfig(bundle)
	if err != nil {
		return nil, err
	}
	warnUnknown(bundle)
	spec, cmd, err := oci.Convert(cfg, bundle)
	if err != nil {
		return nil, err
	}
	spec.Cgroup.Path = containerCgroupPath(cfg, root, id) // exec joins it
	cmd.ExtraFiles = preservedFiles(f.preserveFDs)
	if err := checkConsole(f, cmd.Terminal); err != nil {
		return nil, err
	}
	dir := containerDir(root, id)
	if err := os.Mkdir(dir, 0o711); errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("container %s already exists", id)
	} else if err != nil {
		return nil, err
	}
	hs, err := oci.HooksOf(cfg)
	var c *container
	if err == nil {
		c, err = setUp(dir, id, bundle, cfg, spec, cmd, f.consoleSocket, hs)
	}
	if err == nil {
		c.CgroupPath = spec.Cgroup.Path
		err = save(root, c)
	}
	if err == nil && f.pidFile != "" {
		err = writePidFile(f.pidFile, c.Pid)
	}
	if err != nil {
		pid := 0
		if c != nil {
			sandbox.Remove(&c.Sandbox)
			pid = c.Pid
			if c.term != nil {
				c.term.Close()
			}
		}
		failedCreate(hs, id, bundle, pid)
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// setUp makes the lock file and the exec FIFO in dir, then builds and starts
// the held, detached sandbox, running the hooks hs of create before its
// pivot_root, and gives its Process up.
func setUp(dir, id, bundle string, cfg *specs.Spec, spec *sandbox.Spec, cmd sandbox.Command, console string, hs *oci.Hooks) (*container, error) {
	// The lock file only: a lock held here would pass to the sandbox, which
	// is cloned from this process. The state directory, made with mkdir, is
	// this create's alone, and start and delete find no state in it until save.
	lf, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	lf.Close()
	fifo := filepath.Join(dir, fifoFile)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil { // the umask cut it
		return nil, err
	}
	placeCgroup(spec)
	opts := []sandbox.Option{sandbox.WithSpec(spec), sandbox.WithHold(), sandbox.WithDetached()}
	if hs.BeforePivot() {
		opts = append(opts, sandbox.WithHoldBeforePivot()) // a stop that only hooks need
	}
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		return nil, err
	}
	defer tpl.Close()
	cmd.HoldFIFO = fifo
	var hookErr error
	cmd.BeforePivot = beforePivot(hs, id, bundle, cfg, &hookErr)
	if !cmd.Terminal {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	p, err := tpl.Start(context.Background(), cmd)
	if hookErr != nil {
		return nil, hookErr // the hook's own words; Start removed the sandbox
	} else if err != nil {
		// A program not there fails create, as with runc, in runc's words.
		return nil, execError(&container{Program: cmd.Args[0]}, err)
	}
	var term *os.File
	if cmd.Terminal {
		term, err = takeConsole(p, console)
	}
	var d *sandbox.Detached
	if err == nil {
		d, err = p.Detach()
	}
	if err != nil {
		p.Kill()
		p.Wait()
		if term != nil {
			term.Close()
		}
		return nil, err
	}
	c := &container{Sandbox: *d, Created: time.Now().UTC().Format(time.RFC3339Nano), Program: cmd.Args[0], term: term, Hooks: hs}
	c.State = specs.State{Version: specs.Version, ID: id, Status: specs.StateCreated, Pid: d.Pid, Bundle: bundle, Annotations: cfg.Annotations}
	return c, nil
}

// writePidFile writes pid to path atomically, as engines read it.
func writePidFile(path string, pid int) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
