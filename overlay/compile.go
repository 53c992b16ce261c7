package overlay

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/paddock-sandbox/paddock/internal/child"
	"golang.org/x/sys/unix"
)

// Env is what Compile needs to know about the sandbox being built.
type Env struct {
	// Staging is an existing, empty directory on the host, owned by whoever builds
	// the sandbox (for example one made with os.MkdirTemp per template and removed
	// when the template is closed). The child mounts a tmpfs on it inside its own
	// mount namespace, so the host's directory stays empty; it must not hold or
	// contain a layer, and it is shadowed in the child until pivot_root, so no bind
	// source may lie under it.
	Staging string
	// InUserNS says the child runs in a new user namespace: the kernel driver then
	// needs userxattr.
	InUserNS bool
	// Rootless says the caller is not root on the host.
	Rootless bool
}

// NewRoot returns where Compile mounts the root filesystem for a staging directory:
// the directory that package mounts pivots into.
func NewRoot(staging string) string { return filepath.Join(staging, "root") }

// Resolve returns the driver that the spec gets in env: Kernel or Fuse. Auto picks
// Kernel outside a user namespace or where KernelInUserNS succeeds, and Fuse where
// fuse-overlayfs is available; otherwise the error matches ErrNotSupported.
func (s *Spec) Resolve(env Env) (Driver, error) {
	switch s.Driver {
	case Kernel:
		return Kernel, nil
	case Fuse:
		return Fuse, FuseAvailable()
	}
	if !env.InUserNS {
		return Kernel, nil
	}
	kerr := KernelInUserNS()
	if kerr == nil {
		return Kernel, nil
	}
	if ferr := FuseAvailable(); ferr != nil {
		return "", &UnsupportedError{Driver: Auto, Reason: "neither the kernel driver in a user namespace nor fuse-overlayfs works", Err: errors.Join(kerr, ferr)}
	}
	return Fuse, nil
}

// Compile appends the ops that assemble the root filesystem at NewRoot(env.Staging).
// The child runs them in its new mount namespace, after "/" was made private (see
// package mounts), and before the default mounts:
//
//	mount tmpfs on Staging (mode=755, nosuid, nodev)
//	mkdir Staging/root; ephemeral: mkdir Staging/upper, Staging/work
//	mount overlay on Staging/root
//
// The fuse driver is not implemented: it returns an *UnsupportedError. Compile does
// not call Validate; Build should.
func (s Spec) Compile(p *child.Program, env Env) error {
	st := env.Staging
	if !filepath.IsAbs(st) {
		return &LayerError{Role: "staging", Path: st, Err: errors.New("not an absolute path")}
	}
	st = filepath.Clean(st)
	if _, err := checkDir("staging", st); err != nil {
		return err
	}
	for _, l := range append(append([]string(nil), s.Lower...), s.Upper, s.Work) {
		if l != "" && (filepath.Clean(l) == st || within(filepath.Clean(l), st)) {
			return &LayerError{Role: "staging", Path: st, Err: fmt.Errorf("holds layer %q, which the staging tmpfs would hide", l)}
		}
	}
	d, err := s.Resolve(env)
	if err != nil {
		return err
	}
	if d == Fuse {
		return &UnsupportedError{Driver: Fuse, Reason: "running fuse-overlayfs in the sandbox's namespaces is not implemented; use the kernel driver"}
	}
	upper, work := s.Upper, s.Work
	if s.Ephemeral() {
		upper, work = filepath.Join(st, "upper"), filepath.Join(st, "work")
	}
	data, err := s.options(upper, work, env.InUserNS)
	if err != nil {
		return err
	}
	tmpData := "mode=755"
	if s.Size != "" {
		tmpData += ",size=" + s.Size
	}
	root := NewRoot(st)
	mount(p, "paddock", st, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpData)
	mkdir(p, root, 0o755)
	if s.Ephemeral() {
		mkdir(p, upper, 0o755)
		mkdir(p, work, 0o700)
	}
	mount(p, "overlay", root, "overlay", 0, data)
	return nil
}

// atFDCWD is AT_FDCWD (-100) as a syscall argument.
const atFDCWD = ^uintptr(99)

const stage = "root filesystem"

func mount(p *child.Program, src, target, fstype string, flags uintptr, data string) {
	var d uintptr
	if data != "" {
		d = p.CString(data)
	}
	p.Syscall(stage, fmt.Sprintf("mount %s on %s (type %s, flags %#x, data %q)", src, target, fstype, flags, data), 0,
		unix.SYS_MOUNT, p.CString(src), p.CString(target), p.CString(fstype), flags, d)
}

func mkdir(p *child.Program, path string, mode uint32) {
	p.Syscall(stage, fmt.Sprintf("mkdir %s (mode %#o)", path, mode), child.IgnoreEEXIST,
		unix.SYS_MKDIRAT, atFDCWD, p.CString(path), uintptr(mode))
}
