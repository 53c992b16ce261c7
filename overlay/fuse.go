package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/sys/mountinfo"
	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// A FuseCommand is the host-side half of the fuse driver: the fuse-overlayfs command
// that mounts a sandbox's root filesystem, to be run by the parent inside the child's
// user and mount namespaces while the child waits at its checkpoint (see Plan).
// Get one from Spec.FuseCommand.
type FuseCommand struct {
	// Options is fuse-overlayfs's -o argument:
	// lowerdir=L1:L2,upperdir=U,workdir=W[,squash_to_root].
	Options string
	// Mountpoint is where the child expects the root: NewRoot(Staging), as a path
	// in its own mount namespace.
	Mountpoint string
}

// Args returns the fuse-overlayfs command line, program name first. The daemon
// stays in the foreground (-f), so that whoever starts it holds its pid and can
// stop it: it keeps the sandbox's mount namespace alive and does not exit by itself.
func (c *FuseCommand) Args() []string {
	return []string{"fuse-overlayfs", "-f", "-o", c.Options, c.Mountpoint}
}

// FuseCommand returns the fuse-overlayfs command for s in env: the same layers as
// Plan uses (for an ephemeral spec, upper and work in the staging tmpfs). The
// host's "/" is a lower layer as it is: fuse-overlayfs reads it through the mount
// namespace of the sandbox, so no per-directory split is needed. Paths with ",",
// ":" or "\" are refused: fuse-overlayfs does not unescape them.
//
// Inside a user namespace (env.InUserNS) the options add squash_to_root: every
// file appears owned by the namespace's root. The owners of the host's files are
// mostly not mapped there, and fuse-overlayfs could not copy up a directory it
// cannot give its owner back. The daemon still reads and writes the layers with
// the host credentials of the caller (rootless) or of the namespace's root, so
// the squash grants nothing that those credentials lack.
func (s Spec) FuseCommand(env Env) (*FuseCommand, error) {
	if !filepath.IsAbs(env.Staging) {
		return nil, &LayerError{Role: "staging", Path: env.Staging, Err: errors.New("not an absolute path")}
	}
	st := filepath.Clean(env.Staging)
	upper, work := s.Upper, s.Work
	if s.Ephemeral() {
		upper, work = filepath.Join(st, "upper"), filepath.Join(st, "work")
	}
	var b strings.Builder
	b.WriteString("lowerdir=")
	for i, l := range s.Lower {
		if err := fuseSafe("lower", l); err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(l)
	}
	for _, l := range []struct{ role, path string }{{"upper", upper}, {"work", work}, {"staging", st}} {
		if err := fuseSafe(l.role, l.path); err != nil {
			return nil, err
		}
	}
	b.WriteString(",upperdir=" + upper + ",workdir=" + work)
	if env.InUserNS {
		b.WriteString(",squash_to_root")
	}
	return &FuseCommand{Options: b.String(), Mountpoint: NewRoot(st)}, nil
}

func fuseSafe(role, p string) error {
	if strings.ContainsAny(p, ",:\\\x00\n") {
		return &LayerError{Role: role, Path: p, Err: errors.New(`contains ",", ":", "\", a NUL byte or a newline, which fuse-overlayfs cannot take`)}
	}
	return nil
}

// planFuse adds the child's half of the fuse driver: the staging tmpfs, made
// shared, the mount point and the ephemeral upper and work directories, then a
// checkpoint at which the parent runs the FuseCommand (see StartFuse) and releases
// the child, which then makes the staging tmpfs and the fuse mount private again
// (pivot_root refuses shared mounts).
func (s Spec) planFuse(p *plan, st, tmpData string) {
	root := NewRoot(st)
	p.mount("paddock", st, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpData)
	p.mount("none", st, "", unix.MS_SHARED, "")
	p.mkdir(root, 0o755)
	if s.Ephemeral() {
		p.mkdir(filepath.Join(st, "upper"), 0o755)
		p.mkdir(filepath.Join(st, "work"), 0o700)
	}
	p.add(mounts.Step{Action: mounts.ActCheckpoint, Path: root, What: "wait for fuse-overlayfs to mount " + root})
	p.mount("none", st, "", unix.MS_REC|unix.MS_PRIVATE, "")
}

// fuseError reports a fuse-overlayfs, run as args, that failed to mount a
// sandbox's root with err, and what it (or nsenter) printed. It wraps err.
func fuseError(args []string, stderr string, err error) error {
	if t := strings.TrimSpace(stderr); t != "" {
		return fmt.Errorf("overlay: %s: %w: %s", strings.Join(args, " "), err, t)
	}
	return fmt.Errorf("overlay: %s: %w", strings.Join(args, " "), err)
}

// FuseNamespaces says which namespaces of the child the daemon joins, and as whom.
type FuseNamespaces struct {
	// User joins the child's user namespace (it has one of its own).
	User bool
	// PreserveCredentials keeps the caller's uid and gid in that user namespace
	// instead of switching to its root: needed where setgroups is denied there
	// (an unprivileged caller, whose own uid is mapped to root anyway).
	PreserveCredentials bool
}

// A FuseDaemon is a running fuse-overlayfs serving one sandbox's root.
type FuseDaemon struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer
	pidfd  int
}

// fuseTimeout bounds the wait for fuse-overlayfs to mount.
const fuseTimeout = 30 * time.Second

// StartFuse runs c for the process pid, which must wait (at its checkpoint) until
// the mount is up: nsenter(1) joins pid's user namespace (per ns) and mount
// namespace, and unshare(1) gives the daemon a mount namespace of its own, a copy
// of pid's, in which it mounts. The staging tmpfs is shared, so the mount
// propagates into pid's namespace; the daemon's own namespace is never pivoted,
// so its view of the lower layers and of /proc (which fuse-overlayfs uses for
// /proc/self/fd) stays the host's when the sandbox pivots into its root and
// mounts a /proc of another pid namespace. StartFuse returns once the fuse
// filesystem is mounted at c.Mountpoint in pid's namespace, or with an error naming
// the command and holding what it printed, in which case no daemon is left running. The daemon lives until Stop.
func (c *FuseCommand) StartFuse(pid int, ns FuseNamespaces) (*FuseDaemon, error) {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		return nil, fuseError(c.Args(), "", err)
	}
	args := []string{"--target", strconv.Itoa(pid), "--mount"}
	if ns.User {
		args = append(args, "--user")
		if ns.PreserveCredentials {
			args = append(args, "--preserve-credentials")
		}
	}
	args = append(args, "unshare", "--mount", "--propagation", "unchanged")
	args = append(args, c.Args()...)
	// Mount events of the child's namespace wake the wait below; open the table
	// before the daemon starts so that no event is missed.
	mi, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return nil, fuseError(c.Args(), "", err)
	}
	defer mi.Close()
	d := &FuseDaemon{pidfd: -1}
	d.cmd = exec.Command(nsenter, args...)
	d.cmd.Stderr = &d.stderr
	d.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	d.cmd.WaitDelay = time.Second
	if err := d.cmd.Start(); err != nil {
		return nil, fuseError(c.Args(), "", err)
	}
	if d.pidfd, err = unix.PidfdOpen(d.cmd.Process.Pid, 0); err != nil {
		d.Stop()
		return nil, fuseError(c.Args(), "", err)
	}
	if err := d.waitMounted(mi, c.Mountpoint); err != nil {
		d.Stop()
		return nil, fuseError(c.Args(), d.stderr.String(), err)
	}
	return d, nil
}

// waitMounted waits until the mount table of mi shows a fuse mount at mp, or the
// daemon exits.
func (d *FuseDaemon) waitMounted(mi *os.File, mp string) error {
	deadline := time.Now().Add(fuseTimeout)
	fds := []unix.PollFd{{Fd: int32(mi.Fd()), Events: unix.POLLPRI}, {Fd: int32(d.pidfd), Events: unix.POLLIN}}
	nap := time.Millisecond
	for {
		if _, err := mi.Seek(0, 0); err != nil {
			return err
		}
		ms, err := mountinfo.GetMountsFromReader(mi, mountinfo.SingleEntryFilter(mp))
		if err != nil {
			return err
		}
		for _, m := range ms {
			if strings.HasPrefix(m.FSType, "fuse") {
				return nil
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("not mounted after %v", fuseTimeout)
		}
		// A mount that propagates in from the daemon's namespace does not always wake
		// a poll of the sandbox's mount table: poll it, but look again at least
		// every few milliseconds.
		if left > nap {
			left = nap
		}
		if nap < 16*time.Millisecond {
			nap *= 2
		}
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && err != unix.EINTR {
			return err
		}
		if fds[1].Revents != 0 {
			// Exited: reap it to get the status and the whole of its stderr.
			err := d.cmd.Wait()
			d.cmd = nil
			if err == nil {
				err = errors.New("exited before mounting")
			}
			return err
		}
	}
}

// Pid returns the daemon's pid (fuse-overlayfs, exec'd by nsenter), or -1 once
// stopped.
func (d *FuseDaemon) Pid() int {
	if d == nil || d.cmd == nil {
		return -1
	}
	return d.cmd.Process.Pid
}

// Stop kills the daemon and reaps it. Call it once the sandbox is gone: the
// filesystem it serves fails with ENOTCONN afterwards. fuse-overlayfs writes
// through to the upper layer, so nothing is lost. Stop is idempotent.
func (d *FuseDaemon) Stop() error {
	if d == nil {
		return nil
	}
	var err error
	if d.cmd != nil {
		if d.pidfd >= 0 {
			unix.PidfdSendSignal(d.pidfd, unix.SIGKILL, nil, 0)
		} else {
			d.cmd.Process.Kill()
		}
		d.cmd.Wait()
		d.cmd = nil
	}
	if d.pidfd >= 0 {
		err = unix.Close(d.pidfd)
		d.pidfd = -1
	}
	return err
}
