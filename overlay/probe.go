package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

var kernelProbe struct {
	once sync.Once
	err  error
}

// KernelInUserNS reports whether kernel overlayfs can be mounted inside a new user
// namespace on this host (with userxattr). It tests once, in a subprocess: the
// mount(8) binary started with os/exec in new user and mount namespaces that map the
// caller's IDs to root mounts an overlay of temporary directories; the namespaces
// vanish with it. The result is cached. A refusal matches ErrNotSupported; an error
// that does not (mount(8) missing, no temporary directory) means the probe could
// not run.
func KernelInUserNS() error {
	kernelProbe.once.Do(func() { kernelProbe.err = probeKernelInUserNS() })
	return kernelProbe.err
}

func probeKernelInUserNS() error {
	mountBin, err := exec.LookPath("mount")
	if err != nil {
		return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: %w", err)
	}
	dir, err := os.MkdirTemp("", "paddock-overlay-probe-")
	if err != nil {
		return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: %w", err)
	}
	defer os.RemoveAll(dir)
	var paths []string
	for _, n := range []string{"lower", "upper", "work", "merged"} {
		p := filepath.Join(dir, n)
		if err := os.Mkdir(p, 0o700); err != nil {
			return fmt.Errorf("overlay: probing kernel overlayfs in a user namespace: %w", err)
		}
		paths = append(paths, escape(p))
	}
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,userxattr", paths[0], paths[1], paths[2])
	cmd := exec.Command(mountBin, "-n", "-t", "overlay", "-o", data, "overlay", filepath.Join(dir, "merged"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			// The clone itself failed: no user namespaces for this caller.
			return &UnsupportedError{Driver: Kernel, Reason: "cannot create a user namespace", Err: err}
		}
		return &UnsupportedError{Driver: Kernel, Reason: "mount refused in a user namespace: " + strings.TrimSpace(out.String()), Err: err}
	}
	return nil
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
