package oci_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/seccomp"
	"github.com/paddock-sandbox/paddock/selinux"
	"golang.org/x/sys/unix"
)

// base returns a small valid configuration whose root is a temporary directory,
// and the bundle directory it lies in.
func base(t *testing.T) (*specs.Spec, string) {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &specs.Spec{
		Version: "1.2.0",
		Process: &specs.Process{Args: []string{"/bin/true"}, Cwd: "/", Env: []string{"PATH=/bin"}},
		Root:    &specs.Root{Path: "rootfs", Readonly: true},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
			{Type: specs.MountNamespace}, {Type: specs.UTSNamespace}, {Type: specs.PIDNamespace},
		}},
	}, bundle
}

// convCase is one field's conversion: edit changes the base configuration; either
// check looks at the result, or field and want name the error expected.
type convCase struct {
	name  string
	edit  func(c *specs.Spec)
	check func(t *testing.T, s *sandbox.Spec, cmd sandbox.Command)
	field string
	want  error
}

func runCases(t *testing.T, cases []convCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, bundle := base(t)
			tc.edit(cfg)
			s, cmd, err := oci.Convert(cfg, bundle)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Convert: %v", err)
				}
				tc.check(t, s, cmd)
				return
			}
			var fe *oci.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, tc.want) {
				t.Fatalf("Convert: %v; want a *FieldError of %s matching %v", err, tc.field, tc.want)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("the message %q does not name %s", err, tc.field)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestConvertProcess(t *testing.T) {
	runCases(t, []convCase{
		{name: "command", edit: func(c *specs.Spec) {
			c.Process.Args, c.Process.Env, c.Process.Cwd = []string{"sh", "-c", "x"}, []string{"A=1"}, "/work/"
		}, check: func(t *testing.T, s *sandbox.Spec, cmd sandbox.Command) {
			if !slices.Equal(cmd.Args, []string{"sh", "-c", "x"}) || !slices.Equal(cmd.Env, []string{"A=1"}) || !slices.Equal(s.Env, cmd.Env) || s.Workdir != "/work" {
				t.Errorf("args %q, env %q (spec %q), workdir %q", cmd.Args, cmd.Env, s.Env, s.Workdir)
			}
		}},
		{name: "empty env stays empty", edit: func(c *specs.Spec) { c.Process.Env = nil },
			check: func(t *testing.T, _ *sandbox.Spec, cmd sandbox.Command) {
				if cmd.Env == nil || len(cmd.Env) != 0 {
					t.Errorf("env %#v, want an empty, non-nil one", cmd.Env)
				}
			}},
		{name: "no args", edit: func(c *specs.Spec) { c.Process.Args = nil }, field: "process.args", want: sandbox.ErrInvalidSpec},
		{name: "relative cwd", edit: func(c *specs.Spec) { c.Process.Cwd = "work" }, field: "process.cwd", want: sandbox.ErrInvalidSpec},
		{name: "no process", edit: func(c *specs.Spec) { c.Process = nil }, field: "process", want: sandbox.ErrInvalidSpec},
		{name: "terminal", edit: func(c *specs.Spec) {
			c.Process.Terminal, c.Process.ConsoleSize = true, &specs.Box{Height: 30, Width: 100}
		}, check: func(t *testing.T, _ *sandbox.Spec, cmd sandbox.Command) {
			if !cmd.Terminal || cmd.TerminalSize != (sandbox.WindowSize{Rows: 30, Cols: 100}) {
				t.Errorf("terminal %v, size %v", cmd.Terminal, cmd.TerminalSize)
			}
		}},
		{name: "user", edit: func(c *specs.Spec) {
			c.Process.User = specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{5, 6}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if u := s.User; u == nil || u.UID != 1000 || u.GID != 100 || !slices.Equal(u.Groups, []uint32{5, 6}) {
				t.Errorf("user %+v", s.User)
			}
		}},
		{name: "umask", edit: func(c *specs.Spec) { c.Process.User.Umask = ptr(uint32(0o077)) },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Umask == nil || *s.Umask != 0o077 {
					t.Errorf("umask %v", s.Umask)
				}
			}},
		{name: "umask beyond 0777", edit: func(c *specs.Spec) { c.Process.User.Umask = ptr(uint32(0o1022)) },
			field: "process.user.umask", want: sandbox.ErrInvalidSpec},
		{name: "capabilities", edit: func(c *specs.Spec) {
			c.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_CHOWN"},
				Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}, Inheritable: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if !slices.Equal(s.Caps.Bounding, []string{"CAP_KILL", "CAP_CHOWN"}) || !slices.Equal(s.Caps.Ambient, []string{"CAP_KILL"}) {
				t.Errorf("caps %+v", s.Caps)
			}
		}},
		{name: "no capabilities object keeps all", edit: func(c *specs.Spec) { c.Process.Capabilities = nil },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if !slices.Equal(s.Caps.Bounding, []string{"ALL"}) || len(s.Caps.Ambient) != 0 {
					t.Errorf("caps %+v", s.Caps)
				}
			}},
		{name: "ambient not inheritable", edit: func(c *specs.Spec) {
			c.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"}, Ambient: []string{"CAP_KILL"}}
		}, field: "process.capabilities.ambient[0]", want: sandbox.ErrInvalidSpec},
		{name: "unknown capability", edit: func(c *specs.Spec) {
			c.Process.Capabilities = &specs.LinuxCapabilities{Bounding: []string{"CAP_KILL", "CAP_FLY"}}
		}, field: "process.capabilities.bounding[1]", want: sandbox.ErrInvalidSpec},
		{name: "rlimits", edit: func(c *specs.Spec) {
			c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if !slices.Equal(s.Rlimits, []sandbox.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}}) {
				t.Errorf("rlimits %+v", s.Rlimits)
			}
		}},
		{name: "unknown rlimit", edit: func(c *specs.Spec) { c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_WINGS"}} },
			field: "process.rlimits[0].type", want: sandbox.ErrInvalidSpec},
		{name: "rlimit twice", edit: func(c *specs.Spec) {
			c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}, {Type: "RLIMIT_NOFILE", Soft: 2, Hard: 2}}
		}, field: "process.rlimits[1].type", want: sandbox.ErrInvalidSpec},
		{name: "noNewPrivileges", edit: func(c *specs.Spec) { c.Process.NoNewPrivileges = true },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if !s.NoNewPrivileges {
					t.Error("no_new_privs not set")
				}
			}},
		{name: "a raised oomScoreAdj", edit: func(c *specs.Spec) { c.Process.OOMScoreAdj = ptr(min(readOOMScoreAdj(t)+1, 1000)) },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.OOMScoreAdj == nil || *s.OOMScoreAdj != min(readOOMScoreAdj(t)+1, 1000) {
					t.Errorf("oomScoreAdj %v", s.OOMScoreAdj)
				}
			}},
		{name: "oomScoreAdj out of range", edit: func(c *specs.Spec) { c.Process.OOMScoreAdj = ptr(1001) },
			field: "process.oomScoreAdj", want: sandbox.ErrInvalidSpec},
		{name: "scheduler", edit: func(c *specs.Spec) {
			c.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 19, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if sc := s.Scheduler; sc == nil || sc.Policy != "SCHED_BATCH" || sc.Nice != 19 || !slices.Equal(sc.Flags, []string{"SCHED_FLAG_RESET_ON_FORK"}) {
				t.Errorf("scheduler %+v", sc)
			}
		}},
		{name: "scheduler priority", edit: func(c *specs.Spec) { c.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Priority: 3} },
			field: "process.scheduler.priority", want: sandbox.ErrInvalidSpec},
		{name: "scheduler flag", edit: func(c *specs.Spec) {
			c.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagUtilClampMin}}
		}, field: "process.scheduler.flags[0]", want: sandbox.ErrInvalidSpec},
		{name: "ioPriority", edit: func(c *specs.Spec) { c.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE} },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if io := s.IOPriority; io == nil || io.Class != "IOPRIO_CLASS_IDLE" {
					t.Errorf("ioPriority %+v", io)
				}
			}},
		{name: "ioPriority 8", edit: func(c *specs.Spec) {
			c.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		},
			field: "process.ioPriority.priority", want: sandbox.ErrInvalidSpec},
		{name: "execCPUAffinity", edit: func(c *specs.Spec) { c.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "0"} },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if a := s.CPUAffinity; a == nil || a.Final != "0" {
					t.Errorf("affinity %+v", a)
				}
			}},
		{name: "execCPUAffinity offline", edit: func(c *specs.Spec) { c.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: "4095"} },
			field: "process.execCPUAffinity.initial", want: sandbox.ErrInvalidSpec},
		{name: "apparmorProfile", edit: func(c *specs.Spec) { c.Process.ApparmorProfile = "docker-default" },
			field: "process.apparmorProfile", want: sandbox.ErrNotSupported},
	})
}

func TestConvertSELinux(t *testing.T) {
	if selinux.Enabled() {
		t.Skip("SELinux is enabled on this host: the labels would be applied")
	}
	runCases(t, []convCase{
		{name: "no label", edit: func(*specs.Spec) {}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if !s.Label.Disable {
				t.Errorf("label %+v, want none", s.Label)
			}
		}},
		{name: "selinuxLabel, unapplied", edit: func(c *specs.Spec) { c.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2" }, check: unlabelled},
		{name: "mountLabel, unapplied", edit: func(c *specs.Spec) { c.Linux.MountLabel = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811" }, check: unlabelled},
		{name: "both, unapplied", edit: func(c *specs.Spec) {
			c.Process.SelinuxLabel, c.Linux.MountLabel = "system_u:system_r:container_t:s0:c1,c2", "system_u:object_r:container_file_t:s0:c1,c2"
		}, check: unlabelled},
		{name: "a malformed label is still refused", edit: func(c *specs.Spec) { c.Linux.MountLabel = "container_file_t" },
			field: "linux.mountLabel", want: sandbox.ErrInvalidSpec},
		{name: "a file label Paddock cannot give is still refused", edit: func(c *specs.Spec) { c.Linux.MountLabel = "unconfined_u:object_r:container_file_t:s0" },
			field: "linux.mountLabel", want: sandbox.ErrNotSupported},
	})
}

// unlabelled checks that a Spec carries no SELinux label.
func unlabelled(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
	t.Helper()
	if !s.Label.Disable {
		t.Errorf("label %+v, want none where SELinux is off", s.Label)
	}
}

func TestConvertRootAndPaths(t *testing.T) {
	runCases(t, []convCase{
		{name: "root relative to the bundle", edit: func(*specs.Spec) {}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if len(s.Rootfs.Lower) != 1 || filepath.Base(s.Rootfs.Lower[0]) != "rootfs" || !filepath.IsAbs(s.Rootfs.Lower[0]) || !s.Mounts.ReadonlyRoot {
				t.Errorf("rootfs %+v, read-only %v", s.Rootfs, s.Mounts.ReadonlyRoot)
			}
			if s.Mounts.Defaults {
				t.Error("the Spec's default mounts are on")
			}
		}},
		{name: "writable root", edit: func(c *specs.Spec) { c.Root.Readonly = false }, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if filepath.Base(s.RootDir) != "rootfs" || !filepath.IsAbs(s.RootDir) || len(s.Rootfs.Lower) != 0 || s.Mounts.ReadonlyRoot {
				t.Errorf("root directory %q, rootfs %+v, read-only %v; want the bundle's rootfs as the root itself", s.RootDir, s.Rootfs, s.Mounts.ReadonlyRoot)
			}
		}},
		{name: "missing root", edit: func(c *specs.Spec) { c.Root.Path = "nowhere" }, field: "root.path", want: sandbox.ErrInvalidSpec},
		{name: "masked and read-only paths", edit: func(c *specs.Spec) {
			c.Linux.MaskedPaths, c.Linux.ReadonlyPaths = []string{"/proc/kcore", "/sys/firmware/"}, []string{"/proc/sys"}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if !slices.Equal(s.Mounts.Masked, []string{"/proc/kcore", "/sys/firmware"}) || !slices.Equal(s.Mounts.ReadOnly, []string{"/proc/sys"}) {
				t.Errorf("masked %q, read-only %q", s.Mounts.Masked, s.Mounts.ReadOnly)
			}
		}},
		{name: "masked pattern", edit: func(c *specs.Spec) { c.Linux.MaskedPaths = []string{"/proc/a", "/sys/cpu*"} },
			field: "linux.maskedPaths[1]", want: sandbox.ErrNotSupported},
		{name: "rootfsPropagation", edit: func(c *specs.Spec) { c.Linux.RootfsPropagation = "rslave" },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Mounts.RootPropagation != mounts.RSlave {
					t.Errorf("propagation %q", s.Mounts.RootPropagation)
				}
			}},
		{name: "unbindable root", edit: func(c *specs.Spec) { c.Linux.RootfsPropagation = "runbindable" },
			field: "linux.rootfsPropagation", want: sandbox.ErrNotSupported},
		{name: "hostname", edit: func(c *specs.Spec) { c.Hostname, c.Domainname = "box", "example.org" },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Hostname != "box" || s.Domainname != "example.org" {
					t.Errorf("hostname %q, domain %q", s.Hostname, s.Domainname)
				}
			}},
		{name: "hostname without uts", edit: func(c *specs.Spec) { c.Hostname, c.Linux.Namespaces = "box", c.Linux.Namespaces[:1] },
			field: "hostname", want: sandbox.ErrInvalidSpec},
		{name: "hostname of a joined uts", edit: func(c *specs.Spec) {
			c.Hostname, c.Linux.Namespaces = "box", append(c.Linux.Namespaces[:1], specs.LinuxNamespace{Type: specs.UTSNamespace, Path: "/proc/1/ns/uts"})
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if s.Hostname != "box" || s.Namespaces.Mode(namespace.UTS) != namespace.Join {
				t.Errorf("hostname %q, uts %v", s.Hostname, s.Namespaces.Mode(namespace.UTS))
			}
		}},
	})
}

// findMount returns the Spec's Mount on target.
func findMount(s *sandbox.Spec, target string) (mounts.Mount, bool) {
	for _, m := range s.Mounts.Mounts {
		if m.Target == target {
			return m, true
		}
	}
	return mounts.Mount{}, false
}

func TestConvertMounts(t *testing.T) {
	mount := func(ms ...specs.Mount) func(c *specs.Spec) { return func(c *specs.Spec) { c.Mounts = ms } }
	runCases(t, []convCase{
		{name: "kernel filesystems", edit: mount(
			specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"},
			specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		), check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if m, ok := findMount(s, "/proc"); !ok || m.FSType != "proc" || m.Flags != 0 {
				t.Errorf("/proc: %v", m)
			}
			if m, ok := findMount(s, "/dev"); !ok || m.FSType != "tmpfs" || m.Flags != unix.MS_NOSUID|unix.MS_STRICTATIME || m.Data != "mode=755,size=65536k" {
				t.Errorf("/dev: %v", m)
			}
			if m, ok := findMount(s, "/dev/null"); !ok || m.Source != "/dev/null" || m.Flags != unix.MS_BIND {
				t.Errorf("the default device /dev/null: %v", m)
			}
		}},
		{name: "bind with flags", edit: func(c *specs.Spec) {
			c.Mounts = []specs.Mount{{Destination: "/data", Type: "bind", Source: "rootfs", Options: []string{"rbind", "rprivate", "ro", "nosuid", "rnodev", "noatime"}}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			m, ok := findMount(s, "/data")
			want := uintptr(unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOATIME)
			if !ok || m.Flags != want || !filepath.IsAbs(m.Source) || filepath.Base(m.Source) != "rootfs" {
				t.Errorf("/data: %v, want flags %s and the bundle's rootfs", m, mounts.FlagString(want))
			}
		}},
		{name: "bind with propagation", edit: mount(specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"rbind", "rslave", "ro"}}),
			check: wantMount(mounts.Mount{Source: "/tmp", Target: "/data", FSType: "bind", Flags: unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY, Propagation: mounts.RSlave})},
		{name: "propagation and flags", edit: mount(specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"bind", "shared", "nosuid"}}),
			check: wantMount(mounts.Mount{Source: "/tmp", Target: "/data", FSType: "bind", Flags: unix.MS_BIND | unix.MS_NOSUID, Propagation: mounts.Shared})},
		{name: "unbindable bind", edit: mount(specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"rbind", "runbindable"}}),
			check: wantMount(mounts.Mount{Source: "/tmp", Target: "/data", FSType: "bind", Flags: unix.MS_BIND | unix.MS_REC, Propagation: mounts.RUnbindable})},
		{name: "bind with data, which mount(2) drops", edit: mount(specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"bind", "nosuid", "mode=755", "size=1k"}}),
			check: wantMount(mounts.Mount{Source: "/tmp", Target: "/data", FSType: "bind", Flags: unix.MS_BIND | unix.MS_NOSUID})},
		{name: "shared tmpfs", edit: mount(specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "shared", "size=1k"}}),
			check: wantMount(mounts.Mount{Source: "tmpfs", Target: "/t", FSType: "tmpfs", Flags: unix.MS_NOSUID, Data: "size=1k", Propagation: mounts.Shared})},
		{name: "sync bind", edit: mount(specs.Mount{Destination: "/data", Source: "/tmp", Options: []string{"bind", "sync"}}),
			field: "mounts[0].options", want: sandbox.ErrNotSupported},
		{name: "unknown option", edit: mount(specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"copyup"}}),
			field: "mounts[0].options", want: sandbox.ErrNotSupported},
		{name: "tmpfs size 0", edit: mount(specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=0"}}),
			field: "mounts[0].options", want: sandbox.ErrInvalidSpec},
		{name: "no type", edit: mount(specs.Mount{Destination: "/x", Source: "x"}), field: "mounts[0].type", want: sandbox.ErrInvalidSpec},
		{name: "covering order", edit: mount(
			specs.Mount{Destination: "/dev/shm", Type: "tmpfs", Source: "shm"}, specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
		), field: "mounts[1].destination", want: sandbox.ErrNotSupported},
		{name: "stacked", edit: mount(
			specs.Mount{Destination: "/a", Type: "tmpfs", Source: "tmpfs"}, specs.Mount{Destination: "/a", Type: "tmpfs", Source: "tmpfs"},
		), field: "mounts[1].destination", want: sandbox.ErrNotSupported},
		{name: "idmapped mount of a filesystem", edit: mount(specs.Mount{Destination: "/a", Type: "tmpfs", Source: "tmpfs", Options: []string{"idmap"}}),
			field: "mounts[0].uidMappings", want: sandbox.ErrNotSupported},
		{name: "idmapped bind without a user namespace", edit: mount(specs.Mount{Destination: "/a", Source: "/tmp", Options: []string{"rbind", "ridmap"}}),
			field: "mounts[0].options", want: sandbox.ErrNotSupported},
		{name: "idmapped bind", edit: func(c *specs.Spec) {
			userNS(c)
			c.Mounts = []specs.Mount{{Destination: "/a", Source: "/tmp", Options: []string{"rbind", "ridmap"}}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if len(s.Mounts.Binds) != 1 || !s.Mounts.Binds[0].IDMap || !s.Mounts.Binds[0].Recursive {
				t.Errorf("binds %+v", s.Mounts.Binds)
			}
		}},
		{name: "sysfs in a user namespace without a network namespace", edit: func(c *specs.Spec) {
			userNS(c)
			c.Mounts = []specs.Mount{{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro"}}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if m, ok := findMount(s, "/sys"); !ok || m.Source != "/sys" || m.Flags != unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY {
				t.Errorf("/sys: %v, want the host's bound read-only", m)
			}
		}},
		{name: "cgroup", edit: mount(specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro"}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				m, _ := findMount(s, "/sys/fs/cgroup")
				if mounts.HostCgroupV2() && m.FSType != "cgroup2" || !mounts.HostCgroupV2() && m.Source != "/sys/fs/cgroup" || m.Flags&unix.MS_RDONLY == 0 {
					t.Errorf("/sys/fs/cgroup: %v", m)
				}
			}},
		{name: "host /dev bound: no default devices", edit: mount(specs.Mount{Destination: "/dev", Source: "/dev", Options: []string{"rbind"}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if m, ok := findMount(s, "/dev/null"); ok {
					t.Errorf("a default device on the host's /dev: %v", m)
				}
			}},
	})
}

// userNS gives c a new user namespace mapping the caller's own IDs.
func userNS(c *specs.Spec) {
	c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	c.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: uint32(os.Getuid()), Size: 1}}
	c.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: uint32(os.Getgid()), Size: 1}}
}

func TestConvertDevices(t *testing.T) {
	dev := func(d specs.LinuxDevice) func(c *specs.Spec) {
		return func(c *specs.Spec) { c.Linux.Devices = []specs.LinuxDevice{d} }
	}
	inUserNS := func(d specs.LinuxDevice) func(c *specs.Spec) {
		return func(c *specs.Spec) { userNS(c); dev(d)(c) }
	}
	mode := os.FileMode(0o666)
	runCases(t, []convCase{
		{name: "a node of its own", edit: dev(specs.LinuxDevice{Path: "/dev/test1", Type: "c", Major: 10, Minor: 666, FileMode: ptr(os.FileMode(0o660)), UID: ptr(uint32(0))}),
			check: wantNode(mounts.Node{Path: "/dev/test1", Type: unix.S_IFCHR, Major: 10, Minor: 666, Mode: 0o660}, "c")},
		{name: "a block node, 0666 by default", edit: dev(specs.LinuxDevice{Path: "/dev/test2", Type: "b", Major: 8, Minor: 666}),
			check: wantNode(mounts.Node{Path: "/dev/test2", Type: unix.S_IFBLK, Major: 8, Minor: 666, Mode: 0o666}, "b")},
		{name: "a FIFO", edit: dev(specs.LinuxDevice{Path: "/dev/test3", Type: "p", FileMode: ptr(os.FileMode(0o600))}),
			check: wantNode(mounts.Node{Path: "/dev/test3", Type: unix.S_IFIFO, Mode: 0o600}, "")},
		{name: "a node of another owner", edit: dev(specs.LinuxDevice{Path: "/dev/test1", Type: "c", Major: 10, Minor: 666, GID: ptr(uint32(5))}),
			field: "linux.devices[0].gid", want: sandbox.ErrNotSupported},
		{name: "numbers out of range", edit: dev(specs.LinuxDevice{Path: "/dev/test1", Type: "c", Major: 1 << 12, Minor: 1}),
			field: "linux.devices[0]", want: sandbox.ErrInvalidSpec},
		{name: "in a user namespace, a host node", edit: inUserNS(specs.LinuxDevice{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: &mode}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				n := 0
				for _, m := range s.Mounts.Mounts {
					if m.Target == "/dev/zero" {
						n++
					}
				}
				if n != 1 || len(s.Mounts.Nodes) != 0 {
					t.Errorf("/dev/zero bound %d times, nodes %v", n, s.Mounts.Nodes)
				}
			}},
		{name: "in a user namespace, other numbers", edit: inUserNS(specs.LinuxDevice{Path: "/dev/zero", Type: "c", Major: 1, Minor: 6}),
			field: "linux.devices[0]", want: sandbox.ErrNotSupported},
		{name: "in a user namespace, other mode", edit: inUserNS(specs.LinuxDevice{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: ptr(os.FileMode(0o600))}),
			field: "linux.devices[0].fileMode", want: sandbox.ErrNotSupported},
		{name: "in a user namespace, a FIFO", edit: inUserNS(specs.LinuxDevice{Path: "/dev/f", Type: "p"}),
			check: wantNode(mounts.Node{Path: "/dev/f", Type: unix.S_IFIFO, Mode: 0o666}, "")},
		{name: "in a user namespace, no host node", edit: inUserNS(specs.LinuxDevice{Path: "/dev/paddock-none", Type: "c", Major: 1, Minor: 3}),
			field: "linux.devices[0]", want: sandbox.ErrNotSupported},
	})
}

// wantNode checks that the Spec's only node is want and, for a device of
// cgroup type typ, that the device cgroup's last rule allows it.
func wantNode(want mounts.Node, typ string) func(*testing.T, *sandbox.Spec, sandbox.Command) {
	return func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
		t.Helper()
		if !slices.Equal(s.Mounts.Nodes, []mounts.Node{want}) {
			t.Errorf("nodes %+v, want %+v", s.Mounts.Nodes, want)
		}
		rules := s.Cgroup.Devices
		last := rules[len(rules)-1]
		if typ != "" && (!last.Allow || last.Type != typ || last.Major != int64(want.Major) || last.Minor != int64(want.Minor) || last.Access != "rwm") {
			t.Errorf("last device rule %+v, want an allow of the node", last)
		}
	}
}

func TestConvertNamespaces(t *testing.T) {
	runCases(t, []convCase{
		{name: "new and joined", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"})
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			ns := s.Namespaces
			if ns.Mode(namespace.Mount) != namespace.New || ns.Mode(namespace.Net) != namespace.Join || ns.NS[namespace.Net].Path != "/proc/1/ns/net" || ns.Mode(namespace.IPC) != namespace.Host {
				t.Errorf("namespaces %+v", ns.NS)
			}
		}},
		{name: "twice", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UTSNamespace})
		},
			field: "linux.namespaces[3].type", want: sandbox.ErrInvalidSpec},
		{name: "unknown", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: "dream"})
		},
			field: "linux.namespaces[3].type", want: sandbox.ErrInvalidSpec},
		{name: "no mount namespace", edit: func(c *specs.Spec) { c.Linux.Namespaces = c.Linux.Namespaces[1:] },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Namespaces.Mode(namespace.Mount) != namespace.Host || !s.RootInPlace || s.RootDir == "" {
					t.Errorf("root in the runtime's mount namespace: %+v, in place %v, root %q", s.Namespaces.NS, s.RootInPlace, s.RootDir)
				}
			}},
		{name: "joined mount namespace, read-only root", edit: func(c *specs.Spec) {
			c.Linux.Namespaces[0] = specs.LinuxNamespace{Type: specs.MountNamespace, Path: "/proc/1/ns/mnt"}
			c.Root.Readonly = true
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if s.Namespaces.Mode(namespace.Mount) != namespace.Join || !s.RootInPlace || s.RootDir == "" || len(s.Rootfs.Lower) != 0 || !s.Mounts.ReadonlyRoot {
				t.Errorf("root in a joined mount namespace: %+v, in place %v, root %q, layers %v", s.Namespaces.NS, s.RootInPlace, s.RootDir, s.Rootfs.Lower)
			}
		}},
		{name: "ID maps", edit: userNS, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			want := []namespace.IDMap{{HostID: uint32(os.Getuid()), Size: 1}}
			if !slices.Equal(s.Namespaces.UIDMap, want) || s.Namespaces.Mode(namespace.User) != namespace.New {
				t.Errorf("uid map %v", s.Namespaces.UIDMap)
			}
		}},
		{name: "maps without a user namespace", edit: func(c *specs.Spec) { c.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}} },
			field: "linux.uidMappings", want: sandbox.ErrInvalidSpec},
		{name: "user namespace without maps", edit: func(c *specs.Spec) { userNS(c); c.Linux.GIDMappings = nil },
			field: "linux.gidMappings", want: sandbox.ErrInvalidSpec},
		{name: "time offsets", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			c.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -2, Nanosecs: 500000000}, "boottime": {Secs: 7}}
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if o := s.Namespaces.Time; o == nil || o.Monotonic != -1500000000 || o.Boottime != 7e9 {
				t.Errorf("offsets %+v", o)
			}
		}},
		{name: "time offsets without a time namespace", edit: func(c *specs.Spec) {
			c.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, field: "linux.timeOffsets", want: sandbox.ErrInvalidSpec},
	})
}

func TestConvertResources(t *testing.T) {
	res := func(r specs.LinuxResources) func(c *specs.Spec) {
		return func(c *specs.Spec) { c.Linux.Resources = &r }
	}
	runCases(t, []convCase{
		{name: "limits", edit: res(specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr(int64(256 << 20)), Swap: ptr(int64(512 << 20))},
			CPU:    &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)), Cpus: "0"},
			Pids:   &specs.LinuxPids{Limit: ptr(int64(100))}, BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300))},
			Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
		}), check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			want := cgroup.Resources{Memory: 256 << 20, MemorySwap: 512 << 20, CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, Cpuset: "0", Pids: 100, IOWeight: 300}
			if r := s.Cgroup.Resources; r == nil || *r != want {
				t.Errorf("resources %+v, want %+v", r, want)
			}
			d := s.Cgroup.Devices
			if len(d) < 2 || d[0] != (cgroup.DeviceRule{Type: "a", Major: cgroup.Wildcard, Minor: cgroup.Wildcard, Access: "rwm"}) || !d[len(d)-1].Allow {
				t.Errorf("device rules %v", d)
			}
		}},
		{name: "unlimited memory and swap", edit: res(specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1)), Swap: ptr(int64(-1))}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if r := s.Cgroup.Resources; r != nil && !r.IsZero() {
					t.Errorf("resources %+v, want no memory limit", r)
				}
			}},
		{name: "no pids limit", edit: res(specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(0))}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if r := s.Cgroup.Resources; r != nil && r.Pids != cgroup.Unlimited {
					t.Errorf("resources %+v, want no pids limit", r)
				}
			}},
		{name: "cgroupsPath", edit: func(c *specs.Spec) { c.Linux.CgroupsPath = "/machine/x" },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Cgroup.Path != "/machine/x" || s.Cgroup.Parent != "" {
					t.Errorf("cgroup path %q, parent %q", s.Cgroup.Path, s.Cgroup.Parent)
				}
			}},
		{name: "relative cgroupsPath", edit: func(c *specs.Spec) { c.Linux.CgroupsPath = "ctr/x" },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Cgroup.Path != "ctr/x" {
					t.Errorf("cgroup path %q", s.Cgroup.Path)
				}
			}},
		{name: "systemd cgroupsPath", edit: func(c *specs.Spec) { c.Linux.CgroupsPath = "machine.slice:libpod:abc" }, field: "linux.cgroupsPath", want: sandbox.ErrNotSupported},
		{name: "climbing cgroupsPath", edit: func(c *specs.Spec) { c.Linux.CgroupsPath = "/machine/../../x" }, field: "linux.cgroupsPath", want: sandbox.ErrInvalidSpec},
		{name: "unclean cgroupsPath", edit: func(c *specs.Spec) { c.Linux.CgroupsPath = "/machine//x" }, field: "linux.cgroupsPath", want: sandbox.ErrInvalidSpec},
		{name: "cpu burst without a quota", edit: res(specs.LinuxResources{CPU: &specs.LinuxCPU{Burst: ptr(uint64(1000))}}),
			field: "linux.resources.cpu.burst", want: sandbox.ErrInvalidSpec},
		{name: "swappiness above 100", edit: res(specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}),
			field: "linux.resources.memory.swappiness", want: sandbox.ErrInvalidSpec},
		{name: "hugepage size", edit: res(specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2XB", Limit: 1}}}),
			field: "linux.resources.hugepageLimits[0].pageSize", want: sandbox.ErrInvalidSpec},
		{name: "unified cgroup file", edit: res(specs.LinuxResources{Unified: map[string]string{"cgroup.procs": "1"}}),
			field: "linux.resources.unified", want: sandbox.ErrInvalidSpec},
		//lint:ignore SA1019 the deprecated field is still refused
		{name: "kernel memory", edit: res(specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr(int64(1))}}),
			field: "linux.resources.memory.kernel", want: sandbox.ErrNotSupported},
		{name: "leafWeight", edit: res(specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr(uint16(100))}}),
			field: "linux.resources.blockIO.leafWeight", want: sandbox.ErrNotSupported},
		{name: "bad device rule", edit: res(specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x"}}}),
			field: "linux.resources.devices[0].type", want: sandbox.ErrInvalidSpec},
	})
}

func TestConvertSeccomp(t *testing.T) {
	sc := func(s specs.LinuxSeccomp) func(c *specs.Spec) { return func(c *specs.Spec) { c.Linux.Seccomp = &s } }
	runCases(t, []convCase{
		{name: "none", edit: func(*specs.Spec) {}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if s.Seccomp.Mode != sandbox.SeccompUnconfined {
				t.Errorf("seccomp %+v", s.Seccomp)
			}
		}},
		{name: "profile", edit: sc(specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: []specs.Arch{specs.ArchX86_64},
			Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write"}, Action: specs.ActAllow},
				{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}}}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				p := s.Seccomp.Profile
				if s.Seccomp.Mode != sandbox.SeccompCustom || p == nil || p.DefaultAction != seccomp.ActErrno || len(p.Syscalls) != 2 || p.NewerErrno != uint16(unix.ENOSYS) {
					t.Fatalf("seccomp %+v", s.Seccomp)
				}
				if _, err := seccomp.Compile(*p); err != nil {
					t.Errorf("Compile: %v", err)
				}
			}},
		{name: "bad action", edit: sc(specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read"}, Action: specs.ActAllow}, {Names: []string{"mount"}, Action: "SCMP_ACT_SHRUG"}}}),
			field: "linux.seccomp.syscalls[1].action", want: sandbox.ErrInvalidSpec},
		{name: "listener", edit: sc(specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/l.sock"}),
			field: "linux.seccomp.listenerPath", want: sandbox.ErrNotSupported},
		{name: "flags", edit: sc(specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}}),
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if p := s.Seccomp.Profile; p == nil || !slices.Equal(p.Flags, []string{seccomp.FlagLog, seccomp.FlagSpecAllow}) {
					t.Errorf("profile %+v", p)
				}
			}},
		{name: "tsync", edit: sc(specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, "SECCOMP_FILTER_FLAG_TSYNC"}}),
			field: "linux.seccomp.flags[1]", want: sandbox.ErrNotSupported},
	})
}

func TestConvertLinuxFields(t *testing.T) {
	runCases(t, []convCase{
		{name: "sysctl", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace}, specs.LinuxNamespace{Type: specs.IPCNamespace})
			c.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 0", "kernel.shmmax": "100000", "fs.mqueue.msg_max": "20", "kernel.domainname": "d"}
			c.Mounts = append(c.Mounts, specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"})
		}, check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
			if len(s.Sysctl) != 4 || s.Sysctl["net.ipv4.ping_group_range"] != "0 0" || s.Sysctl["kernel.domainname"] != "d" {
				t.Errorf("sysctl %v", s.Sysctl)
			}
		}},
		{name: "sysctl without /proc", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace})
			c.Linux.Sysctl = map[string]string{"net.ipv4.ping_group_range": "0 0"}
		}, field: "linux.sysctl", want: sandbox.ErrInvalidSpec},
		{name: "uts sysctl with a mapped root", edit: func(c *specs.Spec) {
			c.Linux.Namespaces = append(c.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			c.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			c.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			c.Linux.Sysctl = map[string]string{"kernel.domainname": "d"}
			c.Mounts = append(c.Mounts, specs.Mount{Destination: "/proc", Type: "proc", Source: "proc"})
		}, field: "linux.sysctl.kernel.domainname", want: sandbox.ErrNotSupported},
		{name: "personality LINUX32", edit: func(c *specs.Spec) { c.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32} },
			check: func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
				if s.Personality != sandbox.PersonalityLinux32 {
					t.Errorf("personality %q", s.Personality)
				}
			}},
	})
}

func TestConvertRefused(t *testing.T) {
	runCases(t, []convCase{
		{name: "sysctl of the host", edit: func(c *specs.Spec) { c.Linux.Sysctl = map[string]string{"kernel.panic": "1"} },
			field: "linux.sysctl.kernel.panic", want: sandbox.ErrNotSupported},
		{name: "sysctl of a shared namespace", edit: func(c *specs.Spec) { c.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} },
			field: "linux.sysctl.net.ipv4.ip_forward", want: sandbox.ErrNotSupported},
		{name: "sysctl kernel.hostname", edit: func(c *specs.Spec) { c.Linux.Sysctl = map[string]string{"kernel.hostname": "x"} },
			field: "linux.sysctl.kernel.hostname", want: sandbox.ErrInvalidSpec},
		{name: "sysctl name", edit: func(c *specs.Spec) { c.Linux.Sysctl = map[string]string{"net..ipv4": "1"} },
			field: "linux.sysctl.net..ipv4", want: sandbox.ErrInvalidSpec},
		{name: "personality flags", edit: func(c *specs.Spec) {
			c.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}, field: "linux.personality.flags", want: sandbox.ErrNotSupported},
		{name: "personality domain", edit: func(c *specs.Spec) { c.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} },
			field: "linux.personality.domain", want: sandbox.ErrInvalidSpec},
		{name: "intelRdt", edit: func(c *specs.Spec) { c.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} },
			field: "linux.intelRdt", want: sandbox.ErrNotSupported},
		{name: "netDevices", edit: func(c *specs.Spec) { c.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}} },
			field: "linux.netDevices", want: sandbox.ErrNotSupported},
		{name: "windows", edit: func(c *specs.Spec) { c.Windows = &specs.Windows{} }, field: "windows", want: sandbox.ErrNotSupported},
		{name: "version 2", edit: func(c *specs.Spec) { c.Version = "2.0.0" }, field: "ociVersion", want: sandbox.ErrInvalidSpec},
	})
}

// TestReadConfigUnknownField: properties the runtime-spec types do not know are
// ignored, as the spec requires, and UnknownFields names each, at any depth;
// names match without case, as encoding/json matches them.
func TestReadConfigUnknownField(t *testing.T) {
	dir := t.TempDir()
	config := `{"ociVersion":"1.2.0","wings":true,"Hostname":"h","process":{"cwd":"/","tail":1,"user":{"uid":0,"gid":0,"fur":"x"}},
		"mounts":[{"destination":"/a"},{"destination":"/b","flavour":"salt"}],"annotations":{"any.key":"v"},"linux":{"resources":{"memory":{"limit":1,"fizz":2}}}}`
	if err := os.WriteFile(filepath.Join(dir, oci.ConfigName), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := oci.ReadConfig(dir)
	if err != nil || cfg.Hostname != "h" || cfg.Process.Cwd != "/" {
		t.Fatalf("ReadConfig: %+v, %v; want the known fields read and the others ignored", cfg, err)
	}
	got, err := oci.UnknownFields(dir)
	want := []string{"linux.resources.memory.fizz", "mounts[1].flavour", "process.tail", "process.user.fur", "wings"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("UnknownFields = %q, %v; want %q", got, err, want)
	}
	if err := os.WriteFile(filepath.Join(dir, oci.ConfigName), []byte(`{"ociVersion":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := oci.ReadConfig(dir); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Errorf("ReadConfig of broken JSON: %v; want ErrInvalidSpec", err)
	}
}

func readOOMScoreAdj(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantMount checks that the Spec's first mount (the configuration's only one,
// before the devices' binds) is want.
func wantMount(want mounts.Mount) func(*testing.T, *sandbox.Spec, sandbox.Command) {
	return func(t *testing.T, s *sandbox.Spec, _ sandbox.Command) {
		t.Helper()
		if len(s.Mounts.Mounts) == 0 || s.Mounts.Mounts[0] != want || len(s.Mounts.Binds) != 0 {
			t.Errorf("mounts %+v, binds %+v; want %+v", s.Mounts.Mounts, s.Mounts.Binds, want)
		}
	}
}
