package sandbox

import (
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
)

// WithRootfs uses dir (an unpacked image) as the only lower layer of the root
// filesystem. Writes go to an ephemeral upper layer that vanishes with the sandbox.
func WithRootfs(dir string) Option {
	return func(s *Spec) { s.Rootfs.Lower, s.RootDir, s.NoRootfs = []string{dir}, "", false }
}

// WithLayers uses image layers as the lower layers of the root filesystem, highest
// first and lowest last, as overlayfs's lowerdir= expects.
func WithLayers(lower ...string) Option {
	return func(s *Spec) { s.Rootfs.Lower, s.RootDir, s.NoRootfs = append([]string(nil), lower...), "", false }
}

// WithRootDir makes the host directory dir itself the sandbox's root, as runc
// makes an OCI bundle's root.path (Spec.RootDir): no overlay, so what the sandbox
// writes, and the mount points its setup creates, land in dir; WithReadonlyRootfs
// makes it read-only. It replaces the overlay's layers and settings given before
// it; WithRootfs and WithLayers after it replace the directory.
func WithRootDir(dir string) Option {
	return func(s *Spec) { s.RootDir, s.Rootfs, s.NoRootfs = dir, overlay.Spec{}, false }
}

// WithOverlayUpper keeps the writable layer in upper (with overlayfs's work
// directory work, on the same filesystem) instead of an ephemeral tmpfs: what the
// sandbox writes survives it, and overlay.Diff(upper) reports it.
func WithOverlayUpper(upper, work string) Option {
	return func(s *Spec) { s.Rootfs.Upper, s.Rootfs.Work = upper, work }
}

// WithOverlaySize bounds the ephemeral writable layer to size (tmpfs syntax: "512m",
// "2g", "25%") instead of overlay.DefaultSize; writing past it fails with ENOSPC.
func WithOverlaySize(size string) Option { return func(s *Spec) { s.Rootfs.Size = size } }

// WithOverlayDriver chooses kernel overlayfs or fuse-overlayfs instead of the
// automatic choice.
func WithOverlayDriver(d overlay.Driver) Option { return func(s *Spec) { s.Rootfs.Driver = d } }

// WithoutRootfs keeps the host's root filesystem, seen through the sandbox's own
// mount namespace: no overlay, no pivot_root, no default mounts. Files are not
// isolated at all; a mount namespace alone only copies the mount table.
func WithoutRootfs() Option {
	return func(s *Spec) {
		s.NoRootfs, s.RootDir = true, ""
		s.Rootfs = overlay.Spec{}
		s.Mounts.Defaults = false
		s.Mounts.Masked, s.Mounts.ReadOnly = nil, nil
	}
}

// WithHostRoot says what a sandbox on the embedded default root (the host's "/")
// does not see of the host, instead of mounts.DefaultHostRoot(): an empty HostRoot
// shows the host's whole "/", secrets, /tmp and /run included.
func WithHostRoot(h mounts.HostRoot) Option {
	return func(s *Spec) { s.HostRoot = &h }
}

// WithReadonlyRootfs makes the root filesystem read-only (podman's --read-only).
func WithReadonlyRootfs() Option { return func(s *Spec) { s.Mounts.ReadonlyRoot = true } }

// WithBind makes the host path source visible at target in the sandbox,
// recursively (the mounts under source too), read-only when readOnly is set.
func WithBind(source, target string, readOnly bool) Option {
	return func(s *Spec) {
		s.Mounts.Binds = append(s.Mounts.Binds, mounts.Bind{Source: source, Target: target, ReadOnly: readOnly, Recursive: true})
	}
}

// WithIDMappedBind is WithBind with the bind idmapped with the sandbox's user
// namespace (Podman's -v SRC:DST:idmap): a file owned by host ID n appears owned
// by ID n inside, so that the sandbox's root owns what host root owns there, and
// writes files as host root. It needs a new user namespace whose maps root writes
// (WithAutoUserNS, or a root caller's Rootless or WithUserNS) and a filesystem
// that supports idmapped mounts (Linux 5.12; Build refuses others with
// ErrNotSupported, see mounts.IDMapSupported). Use it only where the sandbox may
// act as host root on those files.
func WithIDMappedBind(source, target string, readOnly bool) Option {
	return func(s *Spec) {
		s.Mounts.Binds = append(s.Mounts.Binds, mounts.Bind{Source: source, Target: target, ReadOnly: readOnly, Recursive: true, IDMap: true})
	}
}

// WithIDMappedLayers idmaps the root filesystem's layers with the sandbox's user
// namespace (overlay.Spec.IDMap), as an automatic range does by default: files
// owned by ID n on a layer appear owned by ID n inside. Root caller, new user
// namespace, kernel overlayfs, Linux 5.19 and a filesystem that supports idmapped
// mounts; Build refuses the host's "/".
func WithIDMappedLayers() Option {
	return func(s *Spec) { s.Rootfs.IDMap, s.UnmappedLayers = true, false }
}

// WithoutIDMappedLayers keeps the layers as they are under an automatic range:
// files owned by host IDs outside the sandbox's block appear as 65534 inside.
func WithoutIDMappedLayers() Option {
	return func(s *Spec) { s.Rootfs.IDMap, s.UnmappedLayers = false, true }
}

// WithTmpfs mounts a fresh tmpfs at target with size (tmpfs syntax, "" for the
// kernel's default) and mode (0 for 1777).
func WithTmpfs(target, size string, mode uint32) Option {
	return func(s *Spec) {
		s.Mounts.Tmpfs = append(s.Mounts.Tmpfs, mounts.Tmpfs{Target: target, Size: size, Mode: mode})
	}
}

// WithTmpfsCopyUp adds a tmpfs at target, as WithTmpfs does, that each start
// fills with what the root filesystem holds there before the sandbox runs
// (mounts.Tmpfs.CopyUp, Podman's tmpcopyup): the sandbox gets the image's files
// in a writable tmpfs. It needs a root filesystem (WithRootDir or the layers
// of an overlay) and fork mode.
func WithTmpfsCopyUp(target, size string, mode uint32) Option {
	return func(s *Spec) {
		s.Mounts.Tmpfs = append(s.Mounts.Tmpfs, mounts.Tmpfs{Target: target, Size: size, Mode: mode, CopyUp: true})
	}
}

// WithMask hides paths from the sandbox: files read as empty, directories as an
// empty read-only tmpfs. Paths missing on the running kernel are skipped.
func WithMask(paths ...string) Option {
	return func(s *Spec) { s.Mounts.Masked = appendNew(s.Mounts.Masked, paths...) }
}

// WithUnmask removes paths from the masked and read-only lists ("ALL" removes
// every one), like podman's --security-opt unmask=.
func WithUnmask(paths ...string) Option {
	return func(s *Spec) {
		s.Mounts.Masked = remove(s.Mounts.Masked, paths)
		s.Mounts.ReadOnly = remove(s.Mounts.ReadOnly, paths)
	}
}

// WithReadonlyPaths makes paths read-only in the sandbox. Missing paths are skipped.
func WithReadonlyPaths(paths ...string) Option {
	return func(s *Spec) { s.Mounts.ReadOnly = appendNew(s.Mounts.ReadOnly, paths...) }
}

// WithPodmanPaths uses Podman's masked and read-only lists instead of Docker's:
// /sys/fs/selinux is masked too, and /proc/asound is read-only rather than masked.
func WithPodmanPaths() Option {
	return func(s *Spec) {
		s.Mounts.Masked = append([]string(nil), mounts.PodmanMasked...)
		s.Mounts.ReadOnly = append([]string(nil), mounts.PodmanReadOnly...)
	}
}

// WithRootPropagation sets how the sandbox's "/" relates to the host's mounts:
// private (the default), slave or shared.
func WithRootPropagation(p mounts.Propagation) Option {
	return func(s *Spec) { s.Mounts.RootPropagation = p }
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			found = found || l == a
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

func remove(list []string, drop []string) []string {
	var out []string
	for _, l := range list {
		keep := true
		for _, d := range drop {
			if d == l || d == "ALL" {
				keep = false
			}
		}
		if keep {
			out = append(out, l)
		}
	}
	return out
}

// WithRootInJoinedMountNS enters the existing mount namespace at path (such as
// /proc/PID/ns/mnt) and sets up the sandbox's root directory (WithRootDir) and
// mounts there, as runc does for an OCI configuration that joins a mount
// namespace (Spec.RootInPlace). It changes that namespace for every process in
// it: every mount there becomes private (or slave, see WithRootPropagation),
// the sandbox's mounts are made in it, and pivot_root makes the sandbox's root
// the root of every process of the namespace whose root was the old one, and
// detaches the old root from the namespace. Joining needs CAP_SYS_ADMIN over
// the user namespace that owns it (a rootless caller joins that user namespace
// too, WithJoinNamespace), and the Template's staging directory (below the
// caller's temporary directory) and the root directory must exist in it.
func WithRootInJoinedMountNS(path string) Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.Mount, namespace.Config{Mode: namespace.Join, Path: path})
		s.RootInPlace = true
	}
}

// WithRootInCallerMountNS sets up the sandbox's root directory (WithRootDir)
// and mounts without a mount namespace of the sandbox's own, in the caller's,
// and enters the root with chroot, as runc and crun do for an OCI
// configuration that lists no mount namespace (Spec.RootInPlace). This is
// weaker isolation than a mount namespace of its own: a process of the sandbox
// with CAP_SYS_ADMIN that reaches a path of the caller's (through a shared pid
// namespace's /proc/PID/root) can mount there, and a process with
// CAP_SYS_CHROOT can leave the chroot, though it gets no further than the top
// of the root's tree. The mounts are made below a private
// mount of the sandbox's own, so none propagates; the sandbox then enters a
// copy of them that belongs to no mount namespace, and each start detaches
// them from the caller's namespace before Start returns, leaving its mount
// table as it was. It needs CAP_SYS_ADMIN in the caller's own user namespace (no new
// user namespace), fork mode, and the starts of the Template take turns.
func WithRootInCallerMountNS() Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.Mount, namespace.Config{Mode: namespace.Host})
		s.RootInPlace = true
	}
}
