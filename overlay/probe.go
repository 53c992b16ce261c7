package overlay

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/child"
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
// host; the namespaces vanish with the child. The result is cached. A refusal matches
// ErrNotSupported; an error that does not (no temporary directory) means the probe
// could not run.
func KernelInUserNS() error {
	kernelProbe.once.Do(func() { kernelProbe.err = probeKernelInUserNS() })
	return kernelProbe.err
}

func probeKernelInUserNS() error {
	dir := os.TempDir()
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: no temporary directory %s", dir)
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
	mount(p, "tmpfs", dir, "tmpfs", 0, "mode=700")
	var paths []string
	for _, n := range []string{"lower", "upper", "work", "merged"} {
		d := filepath.Join(dir, n)
		mkdir(p, d, 0o700)
		paths = append(paths, escape(d))
	}
	mountOp := len(p.Ops)
	mount(p, "overlay", filepath.Join(dir, "merged"), "overlay", 0,
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", paths[0], paths[1], paths[2]))

	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: %w", err)
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
		return &UnsupportedError{Driver: Kernel, Reason: "cannot create a user namespace", Err: errno}
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
		return nil
	case n == int(unsafe.Sizeof(r)) && int(r.Op) == mountOp:
		return &UnsupportedError{Driver: Kernel, Reason: "mount refused in a user namespace", Err: syscall.Errno(r.Errno)}
	case n == int(unsafe.Sizeof(r)) && int(r.Op) < mapped:
		return &UnsupportedError{Driver: Kernel, Reason: "cannot map the caller's IDs in a user namespace", Err: syscall.Errno(r.Errno)}
	case n == int(unsafe.Sizeof(r)):
		return &UnsupportedError{Driver: Kernel, Reason: "cannot mount a tmpfs in a user namespace", Err: syscall.Errno(r.Errno)}
	}
	return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: no report from the probe (%v)", ws)
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
			fuseProbe.err = &UnsupportedError{Driver: Fuse, Reason: "fuse-overlayfs not found", Err: err}
			return
		}
		for _, tool := range []string{"nsenter", "unshare"} {
			if _, err := exec.LookPath(tool); err != nil {
				fuseProbe.err = &UnsupportedError{Driver: Fuse, Reason: tool + " (util-linux) not found", Err: err}
				return
			}
		}
		st, err := os.Stat("/dev/fuse")
		if err != nil {
			fuseProbe.err = &UnsupportedError{Driver: Fuse, Reason: "no /dev/fuse", Err: err}
			return
		}
		if st.Mode()&os.ModeCharDevice == 0 {
			fuseProbe.err = &UnsupportedError{Driver: Fuse, Reason: "/dev/fuse is not a character device"}
			return
		}
		// The daemon opens /dev/fuse with the caller's host credentials: a device
		// only root may open (mode 0600) is out of reach of an unprivileged caller.
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			fuseProbe.err = &UnsupportedError{Driver: Fuse, Reason: "cannot open /dev/fuse", Err: err}
			return
		}
		f.Close()
	})
	return fuseProbe.err
}
