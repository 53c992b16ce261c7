package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"golang.org/x/sys/unix"
)

// errNoCgroup explains why a container without a cgroup of its own cannot be
// paused, watched or updated.
func errNoCgroup(what string) error {
	return fmt.Errorf("cannot %s a container without cgroups: it was created by a user who cannot create cgroups here (cgroup v1 cannot be delegated; cgroup v2 needs a delegated subtree)", what)
}

// loadRunning loads the container id under root and checks that its status is
// one of want.
func loadRunning(root, id string, want ...specs.ContainerState) (*container, error) {
	c, err := load(root, id)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, c.Status) {
		return nil, fmt.Errorf("container %s is %s", id, c.Status)
	}
	return c, nil
}

// cmdPause is pause: every process of the container frozen.
func cmdPause(root string, args []string) error {
	return freezeCmd(root, args, "pause", specs.StateRunning)
}

// cmdResume is resume: a paused container's processes thawed.
func cmdResume(root string, args []string) error {
	return freezeCmd(root, args, "resume", statePaused)
}

func freezeCmd(root string, args []string, name string, want specs.ContainerState) error {
	id, err := oneID(flag.NewFlagSet(name, flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	unlock, err := lock(root, id)
	if err != nil {
		return err
	}
	defer unlock()
	c, err := loadRunning(root, id, want)
	if err != nil {
		return err
	}
	cg := cgroup.FromDirs(c.Sandbox.Cgroup)
	if cg == nil {
		return errNoCgroup(name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if name == "pause" {
		return cg.Freeze(ctx)
	}
	return cg.Thaw(ctx)
}

// statePaused is the status of a container whose cgroup is frozen.
const statePaused specs.ContainerState = "paused"

// frozen reports whether the container's cgroup is frozen.
func frozen(c *container) bool {
	cg := cgroup.FromDirs(c.Sandbox.Cgroup)
	if cg == nil {
		return false
	}
	st, err := cg.FreezerState()
	return err == nil && st == cgroup.Frozen
}

// killFrozen sends SIGKILL to every process of a paused container and thaws
// it, so that they die: a v1 freezer holds even SIGKILL until the thaw.
func killFrozen(c *container) {
	signalCgroup(c.Sandbox.Cgroup, unix.SIGKILL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cgroup.FromDirs(c.Sandbox.Cgroup).Thaw(ctx)
}

// cmdPs is ps: the container's processes, as their pids in JSON or as the
// lines of ps(1) run with the arguments after the ID (default -ef).
func cmdPs(root string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	format := fs.String("format", "table", "table or json")
	fs.StringVar(format, "f", "table", "table or json")
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() < 1 {
		return errors.New("want a container ID")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--format %q: want table or json", *format)
	}
	c, err := loadRunning(root, fs.Arg(0), specs.StateCreated, specs.StateRunning, statePaused)
	if err != nil {
		return err
	}
	pids, err := containerPids(c)
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(stdout).Encode(pids)
	}
	psArgs := fs.Args()[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	return psTable(stdout, pids, psArgs)
}

// containerPids lists the container's processes: those of its cgroup, or,
// without one, its first process and every descendant of it.
func containerPids(c *container) ([]int, error) {
	if cg := cgroup.FromDirs(c.Sandbox.Cgroup); cg != nil {
		pids, err := cg.Pids()
		if pids == nil && err == nil {
			pids = []int{}
		}
		return pids, err
	}
	if !alive(c.Sandbox.Pid, c.Sandbox.StartTime) {
		return []int{}, nil
	}
	return descendants(c.Sandbox.Pid)
}

// descendants returns pid and every process below it, from /proc.
func descendants(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := parentOf(p); ok {
			children[pp] = append(children[pp], p)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	slices.Sort(out)
	return out, nil
}

// parentOf reads the parent of pid (field 4 of /proc/PID/stat).
func parentOf(pid int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// psTable runs ps(1) with args and prints its header and the lines whose PID
// column is one of pids.
func psTable(w io.Writer, pids []int, args []string) error {
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return fmt.Errorf("ps %s: no PID column in %q", strings.Join(args, " "), lines[0])
	}
	fmt.Fprintln(w, lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && slices.Contains(pids, p) {
			fmt.Fprintln(w, l)
		}
	}
	return nil
}

// event is one line of events' output, as runc writes it.
type event struct {
	Type string        `json:"type"`
	ID   string        `json:"id"`
	Data *cgroup.Usage `json:"data,omitempty"`
}

// cmdEvents is events: the container's statistics once (--stats), or every
// interval until the container stops or this process is signalled, with an
// "oom" event whenever the OOM killer killed one of its processes.
func cmdEvents(root string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	once := fs.Bool("stats", false, "print the statistics once and exit")
	interval := fs.Duration("interval", 5*time.Second, "the time between two statistics")
	id, err := oneID(fs, args)
	if err != nil {
		return err
	}
	if *interval <= 0 {
		return fmt.Errorf("--interval %v: want a positive duration", *interval)
	}
	c, err := loadRunning(root, id, specs.StateCreated, specs.StateRunning, statePaused)
	if err != nil {
		return err
	}
	cg := cgroup.FromDirs(c.Sandbox.Cgroup)
	if cg == nil {
		return errNoCgroup("get the statistics of")
	}
	enc := json.NewEncoder(stdout)
	if *once {
		u, err := cg.Usage()
		if err != nil {
			return err
		}
		return enc.Encode(event{Type: "stats", ID: id, Data: u})
	}
	return watch(c, cg, enc, *interval)
}

// watch writes a stats event every interval, and an oom event where the
// memory controller counted an OOM kill since the last one, until the
// container's first process ends or this process gets SIGINT or SIGTERM.
func watch(c *container, cg *cgroup.Cgroup, enc *json.Encoder, interval time.Duration) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM)
	defer signal.Stop(sigs)
	ended := make(chan struct{})
	if fd, err := unix.PidfdOpen(c.Sandbox.Pid, 0); err == nil {
		go func() {
			defer unix.Close(fd)
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			for {
				if _, err := unix.Poll(pfd, -1); err != unix.EINTR {
					break
				}
			}
			close(ended)
		}()
	} else {
		close(ended)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var ooms uint64
	if st, err := cg.Stats(); err == nil {
		ooms = st.OOMKills
	}
	for {
		if st, err := cg.Stats(); err == nil && st.OOMKills > ooms {
			ooms = st.OOMKills
			if err := enc.Encode(event{Type: "oom", ID: c.ID}); err != nil {
				return err
			}
		}
		u, err := cg.Usage()
		if err != nil {
			return err
		}
		if err := enc.Encode(event{Type: "stats", ID: c.ID, Data: u}); err != nil {
			return err
		}
		select {
		case <-tick.C:
		case <-ended:
			return nil
		case <-sigs:
			return nil
		}
	}
}
