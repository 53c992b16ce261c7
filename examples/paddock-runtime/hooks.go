package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// Hooks run at the runtime-spec's points (oci.Hooks): prestart, createRuntime
// and createContainer while create's sandbox waits before pivot_root
// (sandbox.Command.BeforePivot), the first two in the runtime's namespaces, the
// last in the container's; startContainer in the container's at start, before
// the release; poststart and poststop in the runtime's again. Each gets the
// container's state on its standard input, and is killed, with its process
// group, once its timeout passes.

// hookOutputMax bounds what a hook's output adds to its error.
const hookOutputMax = 4 << 10

// where says where a hook runs.
type where int

const (
	// inRuntime runs the hook in the runtime's namespaces.
	inRuntime where = iota
	// inContainer runs it in the container's namespaces, where its path
	// resolves: in the host's files before pivot_root (createContainer), in the
	// container's after (startContainer).
	inContainer
)

// runHooks runs hs in order, the container's state st on their standard
// input, and stops at the first that fails.
func runHooks(hs []oci.Hook, st specs.State, w where) error {
	if len(hs) == 0 {
		return nil
	}
	in, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if err := runHook(h, in, st.Pid, w); err != nil {
			return err
		}
	}
	return nil
}

// warnHooks runs hs as runHooks does, but a failure is logged as a warning and
// the next hook runs (poststart, poststop).
func warnHooks(hs []oci.Hook, st specs.State) {
	for _, h := range hs {
		if err := runHooks([]oci.Hook{h}, st, inRuntime); err != nil {
			warnf("%v", err)
		}
	}
}

// runHook runs h with in on its standard input.
func runHook(h oci.Hook, in []byte, pid int, w where) error {
	ctx, cancel := context.WithCancel(context.Background())
	if h.Timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), h.Timeout)
	}
	defer cancel()
	var out bytes.Buffer
	var err error
	if w == inRuntime {
		err = hookHere(ctx, h, in, &out)
	} else {
		err = hookIn(ctx, h, in, &out, pid)
	}
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("killed after its timeout of %v", h.Timeout)
	}
	msg := strings.TrimSpace(out.String())
	if len(msg) > hookOutputMax {
		msg = msg[:hookOutputMax] + "..."
	}
	if msg != "" {
		return fmt.Errorf("hook %s (%s): %w: %s", h.Field, h.Path, err, msg)
	}
	return fmt.Errorf("hook %s (%s): %w", h.Field, h.Path, err)
}

// hookEnv is the environment of h: its own, and nothing of the runtime's.
func hookEnv(h oci.Hook) []string {
	if h.Env == nil {
		return []string{}
	}
	return h.Env
}

// hookHere runs h in the runtime's namespaces, in a process group of its own
// that the end of ctx kills.
func hookHere(ctx context.Context, h oci.Hook, in []byte, out *bytes.Buffer) error {
	cmd := exec.CommandContext(ctx, h.Path)
	cmd.Args, cmd.Env = h.Argv(), hookEnv(h)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), out, out
	return runGroup(ctx, cmd)
}

// hookIn runs h in the namespaces of the container's process pid (those that
// differ from the runtime's) through nsenter(1), which forks after setns(2)
// and so puts the hook in the container's pid namespace too, as a sandbox's
// target cannot be; its argv[0] is its path. Its root and working directory
// are those of the container's mount namespace: before pivot_root
// (createContainer), its copy of the host's tree, where the hook's path, its
// interpreter and libraries and the paths it is given resolve as in the
// runtime's, the container's mounts beside them, as under runc; after
// (startContainer), the container's root.
func hookIn(ctx context.Context, h oci.Hook, in []byte, out *bytes.Buffer, pid int) error {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return fmt.Errorf("a hook in the container's namespaces needs nsenter(1) (util-linux): %w", err)
	}
	args := []string{"--target", strconv.Itoa(pid)}
	for _, ns := range [...]struct{ name, flag string }{
		{"user", "--user"}, {"mnt", "--mount"}, {"pid", "--pid"}, {"net", "--net"}, {"ipc", "--ipc"},
		{"uts", "--uts"}, {"cgroup", "--cgroup"}, {"time", "--time"},
	} {
		if !sameNS(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name), "/proc/self/ns/"+ns.name) {
			args = append(args, ns.flag)
		}
	}
	// Where the user namespace denies setgroups (a rootless container's), nsenter
	// cannot take ID 0 of it: the runtime's own IDs stay, which its maps make
	// the container's root.
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", pid)); strings.TrimSpace(string(b)) == "deny" {
		args = append(args, "--preserve-credentials")
	}
	cmd := exec.CommandContext(ctx, nsenter, append(append(args, "--", h.Path), h.Argv()[1:]...)...)
	cmd.Env = hookEnv(h)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), out, out
	return runGroup(ctx, cmd)
}

// runGroup runs cmd, a hook, in a process group of its own, which the end of
// ctx kills. A hook that exited well while a process it left holds its
// output succeeds, a second later. This process is then a subreaper: the killed group's processes
// that outlived their parent come to it and are reaped here. Left to another
// reaper, one that ran in the container's pid namespace would stay a zombie
// until that reaper waits for it, and the container's init, which waits for
// every process of its namespace to be reaped before it dies, with it.
func runGroup(ctx context.Context, cmd *exec.Cmd) error {
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if ctx.Err() != nil && cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		for {
			if _, werr := unix.Wait4(-cmd.Process.Pid, nil, 0, nil); werr != unix.EINTR && werr != nil {
				break
			}
		}
	}
	return err
}

// sameNS reports whether the namespace files a and b are one namespace.
func sameNS(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// hookState is the state that the hooks of c get, with status.
func hookState(c *container, status specs.ContainerState) specs.State {
	st := c.State
	st.Status = status
	return st
}

// hooksOf returns the hooks of c, none where it has none.
func hooksOf(c *container) *oci.Hooks {
	if c.Hooks == nil {
		return &oci.Hooks{}
	}
	return c.Hooks
}

// createHooks runs the hooks of create, with the state st: prestart and
// createRuntime here, then createContainer in the container. It is the
// sandbox's BeforePivot: the container waits before pivot_root meanwhile.
func createHooks(hs *oci.Hooks, st specs.State) error {
	if err := runHooks(hs.Prestart, st, inRuntime); err != nil {
		return err
	}
	if err := runHooks(hs.CreateRuntime, st, inRuntime); err != nil {
		return err
	}
	return runHooks(hs.CreateContainer, st, inContainer)
}

// beforePivot returns the Command's BeforePivot that runs the hooks hs of
// create for the container id of bundle, and where its error goes, or nil
// where there are none.
func beforePivot(hs *oci.Hooks, id, bundle string, cfg *specs.Spec, hookErr *error) func(int) error {
	if !hs.BeforePivot() {
		return nil
	}
	return func(pid int) error {
		st := specs.State{Version: specs.Version, ID: id, Status: specs.StateCreating, Pid: pid, Bundle: bundle, Annotations: cfg.Annotations}
		*hookErr = createHooks(hs, st)
		return *hookErr
	}
}

// startHooks runs the startContainer hooks of c, in the container before its
// process runs; when one fails the container is killed (it is then stopped,
// for delete) and start fails.
func startHooks(c *container) error {
	err := runHooks(hooksOf(c).StartContainer, hookState(c, specs.StateCreated), inContainer)
	if err != nil {
		sandbox.Remove(&c.Sandbox)
	}
	return err
}

// poststart runs the poststart hooks of c, whose failures are warnings.
func poststart(c *container) { warnHooks(hooksOf(c).Poststart, hookState(c, specs.StateRunning)) }

// failedCreate runs the poststop hooks hs of a container that create could
// not finish, as its delete would (the spec goes on to delete after a failed
// create hook); pid is its process's, 0 where it had none.
func failedCreate(hs *oci.Hooks, id, bundle string, pid int) {
	if hs != nil {
		warnHooks(hs.Poststop, specs.State{Version: specs.Version, ID: id, Status: specs.StateStopped, Pid: pid, Bundle: bundle})
	}
}

// poststop runs the poststop hooks of c, once its sandbox is removed; their
// failures are warnings.
func poststop(c *container) { warnHooks(hooksOf(c).Poststop, hookState(c, specs.StateStopped)) }
