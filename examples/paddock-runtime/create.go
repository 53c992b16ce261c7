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
	fs.StringVar(&f.consoleSocket, "console-socket", "", "not supported yet")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "not supported yet, unless 0")
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
	case f.consoleSocket != "":
		return nil, "", errors.New("--console-socket (a terminal) is not supported yet")
	case f.preserveFDs != 0:
		return nil, "", errors.New("--preserve-fds is not supported yet")
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
	spec, cmd, err := oci.Convert(cfg, bundle)
	if err != nil {
		return nil, err
	}
	if cmd.Terminal {
		return nil, &oci.FieldError{Field: "process.terminal", Err: fmt.Errorf("%w: a terminal needs --console-socket, which paddock-runtime does not support yet", sandbox.ErrNotSupported)}
	}
	dir := containerDir(root, id)
	if err := os.Mkdir(dir, 0o711); errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("container %s already exists", id)
	} else if err != nil {
		return nil, err
	}
	c, err := setUp(dir, id, bundle, cfg, spec, cmd)
	if err == nil {
		err = save(root, c)
	}
	if err == nil && f.pidFile != "" {
		err = writePidFile(f.pidFile, c.Pid)
	}
	if err != nil {
		if c != nil {
			sandbox.Remove(&c.Sandbox)
		}
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// setUp makes the lock file and the exec FIFO in dir, then builds and starts
// the held, detached sandbox and gives its Process up.
func setUp(dir, id, bundle string, cfg *specs.Spec, spec *sandbox.Spec, cmd sandbox.Command) (*container, error) {
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
	tpl, err := sandbox.NewBuilder(sandbox.WithSpec(spec), sandbox.WithHold(), sandbox.WithDetached()).Build()
	if err != nil {
		return nil, err
	}
	defer tpl.Close()
	cmd.HoldFIFO = fifo
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	p, err := tpl.Start(context.Background(), cmd)
	if err != nil {
		return nil, err
	}
	d, err := p.Detach()
	if err != nil {
		p.Kill()
		p.Wait()
		return nil, err
	}
	c := &container{Sandbox: *d, Created: time.Now().UTC().Format(time.RFC3339Nano)}
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
