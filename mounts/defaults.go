package mounts

import (
	"golang.org/x/sys/unix"
)

// Env is what Plan and DefaultMounts need to know about the sandbox being built.
type Env struct {
	// MountLabel is the SELinux context= option (selinux.MountOption) added to the
	// tmpfs mounts, or "" where SELinux is off.
	MountLabel string
	// NewRoot is where the root filesystem was assembled (overlay.NewRoot). Empty
	// means no new root: the sandbox keeps the host's root in its own mount
	// namespace, and Plan does not pivot.
	NewRoot string
	// InUserNS says the child runs in a new user namespace: it cannot create device
	// nodes, and the kernel filesystems below need namespaces that this user
	// namespace owns.
	InUserNS bool
	// NewNetNS, NewPIDNS, NewIPCNS and NewCgroupNS say which of those namespaces the
	// sandbox gets. In a user namespace, sysfs, proc, mqueue and cgroup2 can be
	// mounted only with the matching new namespace; otherwise the host's mount is
	// bound read-only (mqueue is left out).
	NewNetNS, NewPIDNS, NewIPCNS, NewCgroupNS bool
	// CgroupV2 says the host's /sys/fs/cgroup is the unified hierarchy (see
	// HostCgroupV2). Otherwise (v1 or hybrid) the host's tree is bound read-only.
	CgroupV2 bool
	// UnmappedTTYGroup says gid 5 (tty) is not mapped in the user namespace: devpts
	// is then mounted without gid=5, which the kernel would refuse.
	UnmappedTTYGroup bool
	// Privileged mounts /sys and /sys/fs/cgroup read-write and skips the masked and
	// read-only paths.
	Privileged bool
	// RootMounts lists, as the sandbox sees them, the mounts besides "/" that make up
	// the root filesystem (overlay.Spec.Mountpoints: the per-directory overlays of a
	// rootless sandbox on the host's "/"). ReadonlyRoot remounts them read-only too.
	RootMounts []string
	// DetachBinds has the parent copy every bind's source for each start (as it
	// copies an idmapped one, see Bind.IDMap), the binds of Spec.Mounts as well
	// as Spec.Binds, instead of the child binding it by path: the child of an
	// automatic ID range, or of a root caller's user namespace whose root is
	// another user of the host, is an unprivileged user of the host from its
	// first step, and could not reach a source below a directory that only
	// root may search (an engine's run directory, mode 0700).
	DetachBinds bool
	// AfterPivot are steps of the caller's own that run once the sandbox is in
	// its new root, before the masks and read-only paths: the sysctls, which
	// are written to /proc/sys before it becomes read-only. They keep their
	// Stage.
	AfterPivot []Step
	// BeforePivot has the child stop at a checkpoint once its mounts are made,
	// just before pivot_root, for the parent's work in its namespaces (an OCI
	// runtime's createRuntime and createContainer hooks). Fork mode only.
	BeforePivot bool
	// ChrootInPlace enters the new root with chroot alone, leaving it mounted
	// where it was assembled: the child mounts in the caller's own mount
	// namespace (see PlanStagingPrivate), whose "/" pivot_root or a move onto
	// it would change for every process there.
	ChrootInPlace bool
}

// HostCgroupV2 reports whether the host's /sys/fs/cgroup is a cgroup2 filesystem.
func HostCgroupV2() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

const (
	nosuidNoexecNodev = unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV
	rbind             = unix.MS_BIND | unix.MS_REC
)

// DefaultMounts returns moby's default kernel filesystems, in mount order, with
// their exact types, flags and data, adjusted for env:
//
//	proc   /proc          proc    nosuid,noexec,nodev
//	tmpfs  /dev           tmpfs   nosuid,strictatime  mode=755,size=65536k
//	devpts /dev/pts       devpts  nosuid,noexec       newinstance,ptmxmode=0666,mode=0620,gid=5
//	shm    /dev/shm       tmpfs   nosuid,noexec,nodev mode=1777,size=65536k
//	mqueue /dev/mqueue    mqueue  nosuid,noexec,nodev
//	sysfs  /sys           sysfs   nosuid,noexec,nodev,ro
//	cgroup /sys/fs/cgroup cgroup2 nosuid,noexec,nodev,ro
//
// In a user namespace without a new pid (net) namespace, /proc (/sys) is the host's
// one bound recursively and read-only; without a new IPC namespace, mqueue is left
// out. /sys/fs/cgroup is the host's tree bound read-only on a cgroup v1 or hybrid
// host, and in a user namespace without a new cgroup namespace. Privileged drops
// ro from /sys and /sys/fs/cgroup.
func DefaultMounts(env Env) []Mount {
	ro := uintptr(unix.MS_RDONLY)
	if env.Privileged {
		ro = 0
	}
	pts := "newinstance,ptmxmode=0666,mode=0620,gid=5"
	if env.UnmappedTTYGroup {
		pts = "newinstance,ptmxmode=0666,mode=0620"
	}
	proc := Mount{Source: "proc", Target: "/proc", FSType: "proc", Flags: nosuidNoexecNodev}
	if env.InUserNS && !env.NewPIDNS {
		proc = Mount{Source: "/proc", Target: "/proc", Flags: rbind | nosuidNoexecNodev}
	}
	ms := []Mount{
		proc,
		{Source: "tmpfs", Target: "/dev", FSType: "tmpfs", Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"},
		{Source: "devpts", Target: "/dev/pts", FSType: "devpts", Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: pts},
		{Source: "shm", Target: "/dev/shm", FSType: "tmpfs", Flags: nosuidNoexecNodev, Data: "mode=1777,size=65536k"},
	}
	if !env.InUserNS || env.NewIPCNS {
		ms = append(ms, Mount{Source: "mqueue", Target: "/dev/mqueue", FSType: "mqueue", Flags: nosuidNoexecNodev})
	}
	if env.InUserNS && !env.NewNetNS {
		ms = append(ms, Mount{Source: "/sys", Target: "/sys", Flags: rbind | nosuidNoexecNodev | ro})
	} else {
		ms = append(ms, Mount{Source: "sysfs", Target: "/sys", FSType: "sysfs", Flags: nosuidNoexecNodev | ro})
	}
	if env.CgroupV2 && (!env.InUserNS || env.NewCgroupNS) {
		ms = append(ms, Mount{Source: "cgroup", Target: "/sys/fs/cgroup", FSType: "cgroup2", Flags: nosuidNoexecNodev | ro})
	} else {
		ms = append(ms, Mount{Source: "/sys/fs/cgroup", Target: "/sys/fs/cgroup", Flags: rbind | nosuidNoexecNodev | ro})
	}
	return ms
}

// A Device is a character device node in the sandbox's /dev.
type Device struct {
	Path         string `json:"path"`
	Major, Minor uint32
	// Mode holds the permission bits.
	Mode uint32 `json:"mode"`
}

// DefaultDevices are the nodes of the sandbox's /dev. As root they are created with
// mknod; in a user namespace, where mknod is refused, the host's node is bound onto
// an empty file.
var DefaultDevices = []Device{
	{"/dev/null", 1, 3, 0o666},
	{"/dev/zero", 1, 5, 0o666},
	{"/dev/full", 1, 7, 0o666},
	{"/dev/random", 1, 8, 0o666},
	{"/dev/urandom", 1, 9, 0o666},
	{"/dev/tty", 5, 0, 0o666},
}

// A Symlink is a symbolic link at Path pointing to Value.
type Symlink struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

// DefaultSymlinks are the links of the sandbox's /dev.
var DefaultSymlinks = []Symlink{
	{"/dev/ptmx", "pts/ptmx"},
	{"/dev/fd", "/proc/self/fd"},
	{"/dev/stdin", "/proc/self/fd/0"},
	{"/dev/stdout", "/proc/self/fd/1"},
	{"/dev/stderr", "/proc/self/fd/2"},
}
