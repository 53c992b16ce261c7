package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// Names in a container's state directory.
const (
	stateFile = "state.json"
	lockFile  = "lock"
	fifoFile  = "exec.fifo"
)

// container is what state.json holds: the OCI state, as recorded (the status
// is computed again when read, see status), and what delete needs.
type container struct {
	specs.State
	// Sandbox identifies the sandbox for kill and sandbox.Remove.
	Sandbox sandbox.Detached `json:"sandbox"`
	// Created is the creation time, RFC 3339.
	Created string `json:"created,omitempty"`
	// CgroupPath is the container's exact cgroup, which exec joins.
	CgroupPath string `json:"cgroupPath,omitempty"`
	// Hooks are the configuration's hooks, for start and delete.
	Hooks *oci.Hooks `json:"hooks,omitempty"`
	// Program is the process's program (args[0]), for start's errors.
	Program string `json:"program,omitempty"`
	// term is the master of the terminal of a container that run keeps in
	// the foreground, in the process that created it only.
	term *os.File
}

// errNotExist reports a container that has no state directory.
var errNotExist = errors.New("container does not exist")

// containerDir is the state directory of the container id under root.
func containerDir(root, id string) string { return filepath.Join(root, id) }

// lock takes the lock of the container id under root, an exclusive flock on its
// lock file, and returns its release.
func lock(root, id string) (func(), error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(containerDir(root, id), lockFile), os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", id, errNotExist)
	} else if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// load reads the state of the container id under root, with its status
// computed from its process.
func load(root, id string) (*container, error) {
	b, err := os.ReadFile(filepath.Join(containerDir(root, id), stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", id, errNotExist)
	} else if err != nil {
		return nil, err
	}
	c := &container{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile, err)
	}
	c.Status = status(c)
	return c, nil
}

// save writes the state of c atomically: to a temporary file, then renamed.
// The rename is atomic for every reader and for a runtime killed at any point;
// it is not synced to disk, as no container outlives a crash of the machine
// (and the default root, /run, is a tmpfs): an fsync cost each create and start
// a millisecond on a disk.
func save(root string, c *container) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	dir := containerDir(root, c.ID)
	tmp, err := os.CreateTemp(dir, stateFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, stateFile))
}

// status computes the status of c: what it recorded ("created" while held,
// "running" once started, "paused" while its cgroup is frozen) while its
// process lives and is the same process (its start time), "stopped"
// otherwise.
func status(c *container) specs.ContainerState {
	if c.Status == specs.StateCreating || c.Status == specs.StateStopped {
		return c.Status
	}
	if !alive(c.Sandbox.Pid, c.Sandbox.StartTime) {
		return specs.StateStopped
	}
	if c.Status == specs.StateRunning && frozen(c) {
		return statePaused
	}
	return c.Status
}

// alive reports whether pid is a live process (not a zombie) that started at
// startTime (clock ticks after boot).
func alive(pid int, startTime uint64) bool {
	st, state, err := procStat(pid)
	return err == nil && st == startTime && state != 'Z' && state != 'X'
}

// procStat reads the start time (field 22) and the state (field 3) of pid
// from /proc/PID/stat.
func procStat(pid int) (uint64, byte, error) {
	if pid <= 0 {
		return 0, 0, fmt.Errorf("pid %d", pid)
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name, in parentheses, may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	return st, f[0][0], err
}

// ids lists the containers under root, sorted.
func ids(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}
