package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// cmdSpec is spec: a config.json for a bundle, like runc's template, that
// create accepts: a "sh" on a read-only root "rootfs", with the mounts, masked
// and read-only paths and the three capabilities runc's template has. Unlike
// runc's, it asks for no terminal (a terminal needs --console-socket, and
// run in the foreground does not have one yet) and raises no ambient capabilities (runc's template raises ambient
// capabilities that it does not make inheritable, which the kernel refuses).
// With --rootless it adds a user namespace that maps the caller to root and
// binds the host's /sys, as runc spec --rootless does.
func cmdSpec(args []string) error {
	fs := flag.NewFlagSet("spec", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	rootless := fs.Bool("rootless", false, "a configuration for an unprivileged caller")
	bundle := fs.String("bundle", ".", "the bundle's directory")
	fs.StringVar(bundle, "b", ".", "the bundle's directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	path := filepath.Join(*bundle, oci.ConfigName)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists: remove it first", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	cfg := template()
	if *rootless {
		toRootless(cfg)
	}
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o666)
}

// defaultCaps are the capabilities of the template's process.
var defaultCaps = []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}

// template is the configuration cmdSpec writes for root.
func template() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Args: []string{"sh"},
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: defaultCaps, Effective: defaultCaps, Permitted: defaultCaps,
			},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "paddock",
		Mounts:   templateMounts(),
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
				"/proc/scsi", "/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// templateMounts are the template's mounts, runc's.
func templateMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// toRootless turns the template into one for an unprivileged caller: a user
// namespace mapping the caller to root, no gid= on /dev/pts (group 5 is not
// mapped), the host's /sys bound, no cgroup mount and no resources.
func toRootless(cfg *specs.Spec) {
	cfg.Linux.Namespaces = append(cfg.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	cfg.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Geteuid()), Size: 1}}
	cfg.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(os.Getegid()), Size: 1}}
	cfg.Linux.Resources = nil
	var ms []specs.Mount
	for _, m := range cfg.Mounts {
		switch m.Destination {
		case "/sys":
			m = specs.Mount{Destination: "/sys", Type: "none", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		case "/sys/fs/cgroup":
			continue
		case "/dev/pts":
			m.Options = []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}
		}
		ms = append(ms, m)
	}
	cfg.Mounts = ms
}

// cmdFeatures is features: what this runtime accepts of a configuration, as
// the runtime-spec's features document.
func cmdFeatures(stdout io.Writer) error {
	yes, no := true, false
	f := features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions: []string{
			"ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "atime", "noatime",
			"relatime", "norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime",
			"bind", "rbind", "private", "rprivate", "shared", "rshared", "slave", "rslave", "idmap", "ridmap",
		},
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities: capNames(),
			Cgroup:       &features.Cgroup{V1: &yes, V2: &yes, Systemd: &no, SystemdUser: &no, Rdma: &yes},
			Seccomp:      &features.Seccomp{Enabled: &yes, KnownFlags: seccompFlags(false), SupportedFlags: seccompFlags(true)},
			Apparmor:     &features.Apparmor{Enabled: &no},
			Selinux:      &features.Selinux{Enabled: &yes},
			IntelRdt:     &features.IntelRdt{Enabled: &no},
			NetDevices:   &features.NetDevices{Enabled: &no},
		},
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// capNames are the capabilities a configuration may name.
func capNames() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
		"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
		"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
		"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
		"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
		"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
	}
}

// seccompFlags returns the filter flags a configuration may ask for; with
// supported, those this kernel knows.
func seccompFlags(supported bool) []string {
	var out []string
	for _, f := range []struct {
		name  string
		value uintptr
	}{{seccomp.FlagLog, unix.SECCOMP_FILTER_FLAG_LOG}, {seccomp.FlagSpecAllow, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW}} {
		if !supported || seccomp.ProbeFlag(f.value) == nil {
			out = append(out, f.name)
		}
	}
	return out
}
