package overlay

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/bootcache"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/internal/probecache"
	"github.com/paddock-sandbox/paddock/mounts"
)

var kernelProbe struct {
	once sync.Once
	err  error
}

// KernelInUserNS reports whether kernel overlayfs can be mounted inside a new user
// namespace on this host (with userxattr). It tests once, with a raw clone like the
// sandboxes' own (package internal/child, vfork mode): the child enters new user and
// mount namespaces, maps the caller's IDs to root, mounts a tmpfs on the temporary
// directory (os.TempDir) of its own mount namespace and an overlay of directories in
// it, the same kind of upper layer as an ephemeral root's. Nothing is created on the
// host; the namespaces vanish with the child. The result is kept for the process and,
// for the processes of the same user that follow it, until the next boot or kernel
// (see package internal/bootcache). A refusal matches ErrNotSupported; an error that
// does not (no temporary directory) means the probe could not run, and is not kept.
func KernelInUserNS() error {
	kernelProbe.once.Do(func() { kernelProbe.err = cachedKernelInUserNS() })
	return kernelProbe.err
}

// kernelCacheName names KernelInUserNS's answer in the boot cache.
const kernelCacheName = "overlay-userns"

// The reasons of the kernel probe's refusals, by kernelAnswer.refusal less one.
var kernelRefusals = []string{
	"cannot create a user namespace",
	"mount refused in a user namespace",
	"cannot map the caller's IDs in a user namespace",
	"cannot mount a tmpfs in a user namespace",
}

// A kernelAnswer is the kernel probe's final answer: a pass (refusal 0), or the
// refusal (an index into kernelRefusals, plus one) with its errno.
type kernelAnswer struct {
	refusal int
	errno   syscall.Errno
}

// err returns the answer as KernelInUserNS returns it.
func (a kernelAnswer) err() error {
	if a.refusal == 0 {
		return nil
	}
	return unsupported(Kernel, kernelRefusals[a.refusal-1], a.errno)
}

// String returns the boot cache's line for the answer: "ok", or "no ERRNO N" for
// refusal N.
func (a kernelAnswer) String() string {
	if a.refusal == 0 {
		return "ok"
	}
	return fmt.Sprintf("no %d %d", int(a.errno), a.refusal)
}

// parseKernelAnswer reads a line of kernelAnswer.String back; false for a line it
// did not write.
func parseKernelAnswer(v string) (kernelAnswer, bool) {
	if v == "ok" {
		return kernelAnswer{}, true
	}
	f := strings.Fields(v)
	if len(f) != 3 || f[0] != "no" {
		return kernelAnswer{}, false
	}
	errno, err1 := strconv.Atoi(f[1])
	refusal, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || errno <= 0 || errno > 4095 || refusal < 1 || refusal > len(kernelRefusals) {
		return kernelAnswer{}, false
	}
	a := kernelAnswer{refusal: refusal, errno: syscall.Errno(errno)}
	return a, a.String() == v
}

// cachedKernelInUserNS returns the boot cache's answer, or probes and records a
// final one.
func cachedKernelInUserNS() error {
	if v, ok := bootcache.Load(kernelCacheName); ok {
		if a, ok := parseKernelAnswer(v); ok {
			return a.err()
		}
	}
	a, err := probeKernelInUserNS()
	if err != nil {
		return err
	}
	bootcache.Store(kernelCacheName, a.String())
	return a.err()
}

// probeKernelInUserNS runs the probe and returns its answer, or an error where it
// could not run.
func probeKernelInUserNS() (kernelAnswer, error) {
	dir := os.TempDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return kernelAnswer{}, fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: no temporary directory %s", dir)
	}
	p := &child.Program{}
	write := func(path, text string) {
		ptr, n := p.Bytes([]byte(text))
		p.Append(child.Op{Kind: child.KindWriteFile, Args: [6]uintptr{p.CString(path), ptr, n}}, stage, "write "+path)
	}
	write("/proc/self/setgroups", "deny")
	write("/proc/self/gid_map", fmt.Sprintf("0 %d 1", os.Getegid()))
	write("/proc/self/uid_map", fmt.Sprintf("0 %d 1", os.Geteuid()))
	mapped := len(p.Ops)
	var q plan
	paths := probeDirs(&q, dir)
	q.mount("overlay", filepath.Join(dir, "merged"), "overlay", 0,
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", paths[0], paths[1], paths[2]))
	emit.Mounts(p, q)
	mountOp := len(p.Ops) - 1

	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return kernelAnswer{}, fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: %w", err)
	}
	defer unix.Close(pipe[0])
	s := &child.Start{SyncFD: -1, ErrFD: int32(pipe[1]), NotifyFD: -1, Ctty: -1}
	s.Clone.Flags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	// No executable: after the last op the child reports that exec found nothing
	// (ENOENT), which here means every op succeeded.
	pid, errno := child.SpawnVfork(p, s)
	unix.Close(pipe[1])
	if errno != 0 {
		return kernelAnswer{1, errno}, nil
	}
	var r child.Report
	n, _ := unix.Read(pipe[0], (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:])
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
			break
		}
	}
	switch {
	case n == int(unsafe.Sizeof(r)) && r.Op == child.ExecOp:
		return kernelAnswer{}, nil
	case n == int(unsafe.Sizeof(r)) && int(r.Op) == mountOp:
		return kernelAnswer{2, syscall.Errno(r.Errno)}, nil
	case n == int(unsafe.Sizeof(r)) && int(r.Op) < mapped:
		return kernelAnswer{3, syscall.Errno(r.Errno)}, nil
	case n == int(unsafe.Sizeof(r)):
		return kernelAnswer{4, syscall.Errno(r.Errno)}, nil
	}
	return kernelAnswer{}, fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: no report from the probe (%v)", ws)
}

var fuseProbe struct {
	once sync.Once
	err  error
}

// FuseAvailable reports whether the fuse-overlayfs driver could run: the
// fuse-overlayfs, nsenter and unshare binaries are on PATH and /dev/fuse is a character
// device that the caller can open for reading and writing. The result
// is cached; a negative one matches ErrNotSupported.
func FuseAvailable() error {
	fuseProbe.once.Do(func() {
		if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
			fuseProbe.err = unsupported(Fuse, "fuse-overlayfs not found", err)
			return
		}
		for _, tool := range []string{"nsenter", "unshare"} {
			if _, err := exec.LookPath(tool); err != nil {
				fuseProbe.err = unsupported(Fuse, tool+" (util-linux) not found", err)
				return
			}
		}
		st, err := os.Stat("/dev/fuse")
		if err != nil {
			fuseProbe.err = unsupported(Fuse, "no /dev/fuse", err)
			return
		}
		if st.Mode()&os.ModeCharDevice == 0 {
			fuseProbe.err = unsupported(Fuse, "/dev/fuse is not a character device", nil)
			return
		}
		// The daemon opens /dev/fuse with the caller's host credentials: a device
		// only root may open (mode 0600) is out of reach of an unprivileged caller.
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			fuseProbe.err = unsupported(Fuse, "cannot open /dev/fuse", err)
			return
		}
		f.Close()
	})
	return fuseProbe.err
}

// idmapProbes caches IDMappedLayers per filesystem (device number).
var idmapProbes probecache.Cache[uint64]

// IDMappedLayers reports whether dir can be a lower layer idmapped with a
// sandbox's user namespace (Spec.IDMap) on this host: the kernel has idmapped
// mounts (mount_setattr, Linux 5.12), dir's filesystem supports them, and
// overlayfs takes an idmapped lower layer (Linux 5.19). It tests the whole chain
// once per filesystem, as root, with a raw clone like the sandboxes' own (package
// internal/child, fork mode): a copy of dir, idmapped with the child's new user
// namespace, attached on a tmpfs of the child's own mount namespace as the lower
// layer of an overlay. Nothing is created on the host. A refusal matches
// ErrNotSupported and says which link failed.
func IDMappedLayers(dir string) error {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return &LayerError{Role: "lower", Path: dir, Err: err}
	}
	return idmapProbes.Do(uint64(st.Dev), func() error { return probeIDMappedLayer(dir) }, func(err error) bool {
		return errors.Is(err, ErrNotSupported)
	})
}

func probeIDMappedLayer(dir string) error {
	tmp := os.TempDir()
	unsupported := func(reason string, err error) error {
		var sfs unix.Statfs_t
		fs := ""
		if unix.Statfs(dir, &sfs) == nil {
			fs = fmt.Sprintf(" (filesystem type %#x)", sfs.Type)
		}
		return unsupported(Kernel, "idmapped lower layer "+dir+fs+": "+reason, err)
	}
	p := &child.Program{}
	p.Append(child.Op{Kind: child.KindWaitParent}, stage, "wait for the parent")
	var q plan
	paths := probeDirs(&q, tmp)
	q.attach(mounts.Tree{Source: dir, Flags: unix.MS_RDONLY, IDMap: true, What: "lower layer"}, filepath.Join(tmp, "lower"), "attach the idmapped layer")
	q.mount("overlay", filepath.Join(tmp, "merged"), "overlay", 0,
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", paths[0], paths[1], paths[2]))
	emit.Mounts(p, q)
	mountOp := len(p.Ops) - 1
	attachOp := mountOp - 1

	r, err := runProbe(p)
	var de *child.DetachedError
	switch {
	case errors.As(err, &de) && de.Call == "mount_setattr" && de.Err == unix.ENOSYS:
		return unsupported("the kernel lacks idmapped mounts (mount_setattr, Linux 5.12)", err)
	case errors.As(err, &de) && de.Call == "mount_setattr":
		return unsupported("the filesystem does not support idmapped mounts", err)
	case err != nil:
		return fmt.Errorf("overlay: probing idmapped lower layers: %w", err)
	case r.Op == child.ExecOp:
		return nil
	case int(r.Op) == attachOp:
		return unsupported("a sandbox cannot attach an idmapped copy of it", syscall.Errno(r.Errno))
	case int(r.Op) == mountOp:
		return unsupported("overlayfs refuses idmapped lower layers (Linux 5.19)", syscall.Errno(r.Errno))
	}
	return fmt.Errorf("overlay: probing idmapped lower layers: %s failed: %w", p.Describe(int(r.Op)).What, syscall.Errno(r.Errno))
}

// runProbe runs p in a fork-mode child in new user and mount namespaces, whose
// root is host root (the maps "0 0 1"), with p's detached mounts set up as a start
// sets them up, and returns the child's report.
func runProbe(p *child.Program) (child.Report, error) {
	var r child.Report
	var errPipe, syncPipe [2]int
	if err := unix.Pipe2(errPipe[:], unix.O_CLOEXEC); err != nil {
		return r, err
	}
	defer unix.Close(errPipe[0])
	if err := unix.Pipe2(syncPipe[:], unix.O_CLOEXEC); err != nil {
		unix.Close(errPipe[1])
		return r, err
	}
	defer unix.Close(syncPipe[1])
	s := &child.Start{SyncFD: int32(syncPipe[0]), ErrFD: int32(errPipe[1]), NotifyFD: -1, TerminalFD: -1, Ctty: -1}
	s.Clone.Flags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS
	s.Clone.ExitSignal = uint64(unix.SIGCHLD)
	err := child.OpenDetached(p, s)
	if err != nil {
		unix.Close(errPipe[1])
		unix.Close(syncPipe[0])
		return r, err
	}
	pid, errno := child.Spawn(p, s)
	unix.Close(errPipe[1])
	unix.Close(syncPipe[0])
	if errno != 0 {
		child.CloseDetached(s)
		return r, fmt.Errorf("clone: %w", errno)
	}
	for _, f := range []string{"gid_map", "uid_map"} {
		if err == nil {
			err = os.WriteFile(fmt.Sprintf("/proc/%d/%s", pid, f), []byte("0 0 1\n"), 0)
		}
	}
	if err == nil {
		err = child.SetDetached(p, s, pid)
	}
	child.CloseDetached(s)
	if err == nil {
		_, err = unix.Write(syncPipe[1], []byte{0})
	}
	n := 0
	if err == nil {
		n, _ = unix.Read(errPipe[0], (*[unsafe.Sizeof(r)]byte)(unsafe.Pointer(&r))[:])
	}
	unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	for {
		if _, werr := unix.Wait4(pid, &ws, 0, nil); werr != unix.EINTR {
			break
		}
	}
	if err == nil && n != int(unsafe.Sizeof(r)) {
		err = fmt.Errorf("no report from the probe (%v)", ws)
	}
	return r, err
}

// probeDirs has a probe's child mount a tmpfs on dir and make lower, upper, work
// and merged in it, and returns their paths escaped for overlayfs's options.
func probeDirs(p *plan, dir string) []string {
	p.mount("tmpfs", dir, "tmpfs", 0, "mode=700")
	var paths []string
	for _, n := range []string{"lower", "upper", "work", "merged"} {
		d := filepath.Join(dir, n)
		p.mkdir(d, 0o700)
		paths = append(paths, escape(d))
	}
	return paths
}
