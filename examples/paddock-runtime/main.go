// Command paddock-runtime is an OCI runtime with runc's command line, built on
// Paddock: container engines (Podman's --runtime, containerd's runc shim with a
// BinaryName) call it to create, start, signal and delete containers from OCI
// bundles.
//
//	paddock-runtime [global flags] create --bundle DIR [--pid-file F] [--preserve-fds N] [--console-socket S] ID
//	paddock-runtime [global flags] start ID
//	paddock-runtime [global flags] state ID
//	paddock-runtime [global flags] kill [--all] ID [SIGNAL]
//	paddock-runtime [global flags] delete [--force] ID
//	paddock-runtime [global flags] run --bundle DIR [--detach] [--pid-file F] [--preserve-fds N] [--console-socket S] ID
//	paddock-runtime [global flags] exec [--process FILE] [--detach] [--pid-file F] [--console-socket S]
//	        [--tty] [--cwd D] [--env K=V]... [--user UID[:GID]] [--additional-gids G]...
//	        [--cap C]... [--no-new-privs] [--process-label L]
//	        [--preserve-fds N] ID [ARGS...]
//	paddock-runtime [global flags] list
//	paddock-runtime [global flags] pause ID
//	paddock-runtime [global flags] resume ID
//	paddock-runtime [global flags] ps [--format table|json] ID [PS ARGS]
//	paddock-runtime [global flags] events [--stats] [--interval D] ID
//	paddock-runtime [global flags] update [--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus S] [--blkio-weight N] [-r FILE] ID
//	paddock-runtime spec [--rootless] [--bundle DIR]
//	paddock-runtime features
//
// Global flags: --root DIR (the state directory, /run/paddock-runtime for root
// and $XDG_RUNTIME_DIR/paddock-runtime otherwise), --log FILE, --log-format
// text|json, --debug, --rootless, --cgroup-manager cgroupfs|disabled,
// --systemd-cgroup (refused), --version.
//
// Each container keeps its state in ROOT/ID: state.json (the OCI state and what
// delete needs to remove the sandbox), written atomically under a lock, and the
// exec FIFO on which its process waits between create and start.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// version is the runtime's own version, printed by --version.
const version = "0.1.0"

// globals are the flags that come before the command.
type globals struct {
	root, log, logFormat       string
	cgroupManager              string
	debug, rootless, systemdCg bool
	showVersion                bool
}

// errUsage marks an error of the command line.
var errUsage = errors.New("usage")

// notYet are runc's commands that this runtime does not have yet.
var notYet = map[string]bool{
	"checkpoint": true, "restore": true, "init": true,
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	g, rest, err := parseGlobals(args, stderr)
	if err != nil {
		return 1
	}
	lg := newLogger(g, stderr)
	defer lg.close()
	warnings = lg
	if g.showVersion {
		fmt.Fprintf(stdout, "paddock-runtime version %s\nspec: %s\n", version, specs.Version)
		return 0
	}
	if len(rest) == 0 {
		lg.errorf("no command: want one of create, start, state, kill, delete, run, list, spec, features")
		return 1
	}
	code, err := dispatch(g, rest[0], rest[1:], stdout)
	if err != nil {
		lg.errorf("%s: %v", rest[0], err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// dispatch runs the command name with its arguments and returns its exit code.
func dispatch(g *globals, name string, args []string, stdout io.Writer) (int, error) {
	if g.systemdCg || g.cgroupManager == "systemd" {
		return 1, errors.New("--systemd-cgroup is not supported: paddock-runtime creates each container's cgroups itself (cgroupfs)")
	}
	cgroupsOff = g.cgroupManager == "disabled"
	switch name {
	case "spec":
		return 0, cmdSpec(args)
	case "features":
		return 0, cmdFeatures(stdout)
	}
	if notYet[name] {
		return 1, fmt.Errorf("not supported yet by paddock-runtime")
	}
	root, err := stateRoot(g.root)
	if err != nil {
		return 1, err
	}
	switch name {
	case "create":
		return 0, cmdCreate(root, args)
	case "start":
		return 0, cmdStart(root, args)
	case "state":
		return 0, cmdState(root, args, stdout)
	case "kill":
		return 0, cmdKill(root, args)
	case "delete":
		return 0, cmdDelete(root, args)
	case "run":
		return cmdRun(root, args)
	case "exec":
		return cmdExec(root, args)
	case "list":
		return 0, cmdList(root, args, stdout)
	case "pause":
		return 0, cmdPause(root, args)
	case "resume":
		return 0, cmdResume(root, args)
	case "ps":
		return 0, cmdPs(root, args, stdout)
	case "events":
		return 0, cmdEvents(root, args, stdout)
	case "update":
		return 0, cmdUpdate(root, args, os.Stdin)
	}
	return 1, fmt.Errorf("unknown command")
}

// parseGlobals parses the flags before the command.
func parseGlobals(args []string, stderr io.Writer) (*globals, []string, error) {
	g := &globals{}
	fs := flag.NewFlagSet("paddock-runtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&g.root, "root", "", "the directory of the containers' state")
	fs.StringVar(&g.log, "log", "", "a file to which errors are logged too")
	fs.StringVar(&g.logFormat, "log-format", "text", "text or json")
	fs.BoolVar(&g.debug, "debug", false, "log more")
	fs.BoolVar(&g.rootless, "rootless", false, "accepted: the runtime works out what the caller can do")
	fs.BoolVar(&g.systemdCg, "systemd-cgroup", false, "refused: cgroups are managed by the runtime")
	fs.StringVar(&g.cgroupManager, "cgroup-manager", "cgroupfs", "cgroupfs, or disabled: no cgroup of the container's own (systemd is refused)")
	fs.BoolVar(&g.showVersion, "version", false, "print the version")
	fs.BoolVar(&g.showVersion, "v", false, "print the version")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if g.logFormat != "text" && g.logFormat != "json" {
		fmt.Fprintf(stderr, "paddock-runtime: --log-format %q: want text or json\n", g.logFormat)
		return nil, nil, errUsage
	}
	if m := g.cgroupManager; m != "cgroupfs" && m != "disabled" && m != "systemd" {
		fmt.Fprintf(stderr, "paddock-runtime: --cgroup-manager %q: want cgroupfs or disabled\n", m)
		return nil, nil, errUsage
	}
	return g, fs.Args(), nil
}

// stateRoot returns the state directory: dir, or the default for the caller
// (for the root of a rootless engine's user namespace, the unprivileged one).
func stateRoot(dir string) (string, error) {
	if dir == "" {
		if hostRoot() {
			dir = "/run/paddock-runtime"
		} else if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" {
			dir = filepath.Join(x, "paddock-runtime")
		} else {
			return "", errors.New("no --root given and XDG_RUNTIME_DIR is not set")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// checkID refuses a container ID that is not a plain name.
func checkID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") || len(id) > 1024 {
		return fmt.Errorf("invalid container ID %q", id)
	}
	return nil
}
