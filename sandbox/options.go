package sandbox

import (
	"slices"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox/spec"
)

// An Option edits a Spec. Options never validate, probe or allocate kernel objects:
// Build does that once and says what is wrong.
//
// A Builder starts from a base (the last of Rootful, Rootless, SuperPrivileged
// and WithSpec it is given, DefaultSpec when there is none) and applies every
// other option on top, in the order written, so that an option written before a
// preset is never lost. Those options apply in order, and where two say opposite
// things the later one wins: WithoutCgroup drops the limits given before it and a
// limit given after it brings the cgroup back; WithoutRootfs, WithRootfs and
// WithRootDir undo each other; WithHostNamespaces of the network undoes an earlier WithSharedNetNS
// and the reverse; Privileged overrides the capabilities, seccomp filter and masks
// given before it. An option of one's own that replaces the whole Spec should do
// so through WithSpec (WithSpec(x)(s)), which makes it a base too.
type Option func(*Spec)

// WithUserNS gives the sandbox a new user namespace. Without maps, root inside is the
// caller's own uid and gid outside (the single mapping any user may write). With maps,
// uid maps come first, then gid maps, split by Which; ranges that a non-root caller
// does not own are taken from /etc/subuid and /etc/subgid through newuidmap and
// newgidmap. Build refuses a map with an ID above namespace.MaxID at either end, or
// one that does not map 0, which the child becomes first.
func WithUserNS(uidMap, gidMap []namespace.IDMap) Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.New})
		s.Namespaces.UIDMap = append([]namespace.IDMap(nil), uidMap...)
		s.Namespaces.GIDMap = append([]namespace.IDMap(nil), gidMap...)
		s.Namespaces.Auto = nil
	}
}

// WithAutoUserNS gives the sandbox a new user namespace whose maps each start
// draws from r (Podman's --userns=auto, for a root caller): a block of r.Size host
// IDs (namespace.AutoSize by default) of the subordinate ranges that
// /etc/subuid and /etc/subgid grant to r.User (namespace.AutoUser, "containers",
// by default), or of r's own ranges, that no other sandbox holds while this one
// runs, released when Wait has reaped it or when the start fails. Root inside is
// the block's first ID outside, never host root. Build refuses it for a caller
// other than root, and with a *namespace.NoRangeError (matching
// namespace.ErrNotSupported) naming the file and the line to add where the ranges
// hold no block. A root caller's Rootless() gets the default range this way.
//
// The root filesystem's layers are idmapped (see WithoutIDMappedLayers), so that
// an image owned by host root is owned by the sandbox's root; the host's "/", the
// embedded default root, is not: its files keep their owners, unmapped inside.
func WithAutoUserNS(r namespace.AutoRange) Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.New})
		s.Namespaces.UIDMap, s.Namespaces.GIDMap = nil, nil
		s.Namespaces.Auto = &r
		s.Namespaces = s.Namespaces.Clone() // r's ranges stay the caller's
	}
}

// WithoutUserNS keeps the host's user namespace: root inside is root outside.
func WithoutUserNS() Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.Host})
		s.Namespaces.UIDMap, s.Namespaces.GIDMap, s.Namespaces.Auto = nil, nil, nil
	}
}

// WithNamespaces creates a new namespace of each kind.
func WithNamespaces(kinds ...namespace.Kind) Option {
	return func(s *Spec) {
		for _, k := range kinds {
			s.Namespaces.Set(k, namespace.Config{Mode: namespace.New})
		}
	}
}

// WithHostNamespaces shares the caller's namespace of each kind (podman's --net host,
// --pid host, ...).
func WithHostNamespaces(kinds ...namespace.Kind) Option {
	return func(s *Spec) {
		for _, k := range kinds {
			s.Namespaces.Set(k, namespace.Config{Mode: namespace.Host})
			if k == namespace.Net {
				s.SharedNetNS = false
			}
		}
	}
}

// WithJoinNamespace enters an existing namespace, named by a path such as
// /proc/PID/ns/net or a bind mount of one.
//
// A joined pid namespace holds only the joiner's later children (setns(2)), so
// without an init (WithInit) each start hands over, as runc and crun do: the
// child that joined the namespaces clones the target into it as a child of the
// caller (CLONE_PARENT) and exits. The target, which is not PID 1 there, is then
// the Process: its Pid and PidFD, Wait, Signal, Release and Detach are the
// target's, and its steps fail with the same ChildError. Fork mode only.
func WithJoinNamespace(kind namespace.Kind, path string) Option {
	return func(s *Spec) { s.Namespaces.Set(kind, namespace.Config{Mode: namespace.Join, Path: path}) }
}

// WithJoinNamespaceOf enters the namespace of kind that process pid is in.
func WithJoinNamespaceOf(kind namespace.Kind, pid int) Option {
	return WithJoinNamespace(kind, kind.Path(pid))
}

// WithTimeOffsets gives the sandbox a new time namespace whose monotonic and boot-time
// clocks are shifted by the given nanoseconds.
func WithTimeOffsets(monotonic, boottime int64) Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.Time, namespace.Config{Mode: namespace.New})
		s.Namespaces.Time = &namespace.TimeOffsets{Monotonic: monotonic, Boottime: boottime}
	}
}

// WithHostname sets the hostname in the sandbox's new UTS namespace.
func WithHostname(name string) Option { return func(s *Spec) { s.Hostname = name } }

// WithEnv appends KEY=VALUE entries to the target's default environment.
func WithEnv(env ...string) Option {
	return func(s *Spec) { s.Env = append(s.Env, env...) }
}

// WithWorkdir sets the target's working directory inside the sandbox.
func WithWorkdir(dir string) Option { return func(s *Spec) { s.Workdir = dir } }

// WithUser runs the target as uid and gid (IDs inside the sandbox) with the given
// supplementary groups, and with no other: the caller's are dropped wherever the
// kernel allows setgroups(2) (root, or subordinate ranges), and kept where it does
// not (the single map of an unprivileged caller's own IDs; see User). Build refuses
// IDs above namespace.MaxID (4294967295 would read as -1, "leave unchanged", and
// keep the target root), more than MaxGroups groups, groups where setgroups(2) is
// denied, and, with a new user namespace, IDs its maps do not hold.
func WithUser(uid, gid uint32, groups ...uint32) Option {
	return func(s *Spec) {
		s.User = &User{UID: uid, GID: gid, Groups: append([]uint32(nil), groups...)}
	}
}

// WithRlimit sets a resource limit ("RLIMIT_NOFILE" or "nofile") in the sandbox.
func WithRlimit(resource string, soft, hard uint64) Option {
	return func(s *Spec) {
		for i := range s.Rlimits {
			if r, _ := spec.RlimitResource(s.Rlimits[i].Type); rlimitMatch(r, resource) {
				s.Rlimits[i] = Rlimit{Type: resource, Soft: soft, Hard: hard}
				return
			}
		}
		s.Rlimits = append(s.Rlimits, Rlimit{Type: resource, Soft: soft, Hard: hard})
	}
}

func rlimitMatch(r int, name string) bool {
	n, ok := spec.RlimitResource(name)
	return ok && n == r
}

// WithHold holds every start before execve until it is released: Start returns
// once the sandbox is set up and waits, with everything but the target's own
// execve done (namespaces, cgroup, mounts, capabilities, seccomp), and the target
// runs when a reader opens the FIFO that the Command names (Command.HoldFIFO), in
// this process (Process.Release) or another (Release). This is an OCI runtime's
// create, then start. Build chooses fork mode, and refuses vfork mode and a
// Landlock ruleset (see Spec.Hold).
func WithHold() Option { return func(s *Spec) { s.Hold = true } }

// WithHoldBeforePivot also stops each held start (WithHold) once its mounts are
// made, before pivot_root, where the Command's BeforePivot runs: an OCI runtime
// runs its prestart, createRuntime and createContainer hooks there. Without it a
// Command's BeforePivot is refused, and starts skip the round trip it costs.
func WithHoldBeforePivot() Option { return func(s *Spec) { s.HoldBeforePivot = true } }

// WithDetached lets the sandbox outlive the process that starts it, as an OCI
// runtime's container outlives the runtime: no parent-death signal, and
// Process.Detach gives the Process up without Wait, returning what Remove needs
// to kill the sandbox and remove its cgroup later. Build refuses it with what the
// starting process would have to keep doing (see Spec.Detached).
func WithDetached() Option { return func(s *Spec) { s.Detached = true } }

// WithInit runs a minimal init as PID 1 of the sandbox's pid namespace: it reaps
// zombies, forwards signals to the target and exits with the target's status (128+N
// when signal N killed it). Off by default, as in Podman; without it the target is
// PID 1 itself. The init is Paddock's own, executed from a sealed memfd with an empty
// environment and no descriptor: it holds nothing of the caller (see the package
// documentation, "The init"). Fork mode only; amd64 only for now.
//
// With a joined pid namespace (WithJoinNamespace), setns(2) moves only the
// joiner's children into it: the init, which stays outside in the caller's pid
// namespace, forks the target there and stays its parent, forwarding signals and
// its status; the Process is the init. Without it the start hands over instead
// (see WithJoinNamespace).
func WithInit() Option { return func(s *Spec) { s.Init = true } }

// WithSpawnMode forces fork or vfork mode instead of choosing automatically.
func WithSpawnMode(m SpawnMode) Option { return func(s *Spec) { s.Spawn = m } }

// WithSpec starts from a copy of spec, for Specs read from JSON. It is a base,
// as the presets are: given to a Builder, it is the Spec the Builder starts
// from, and the other options, before or after it, edit the copy (see Builder).
func WithSpec(spec *Spec) Option { return func(s *Spec) { rebase(s, spec.Clone()) } }

// WithResources sets the sandbox's resource limits (memory, pids, CPU, cpuset, IO
// weight); each start gets a cgroup of its own with them. It replaces every limit,
// the presets' DefaultPidsLimit included.
func WithResources(r cgroup.Resources) Option {
	return func(s *Spec) { s.Cgroup.Resources = &r; s.NoCgroup = false }
}

func resources(s *Spec) *cgroup.Resources {
	if s.Cgroup.Resources == nil {
		s.Cgroup.Resources = &cgroup.Resources{}
	}
	s.NoCgroup = false
	return s.Cgroup.Resources
}

// WithMemoryLimit limits the sandbox's memory to bytes, without swap; the OOM
// killer ends it beyond that, and Wait reports it (ExitStatus.OOMKilled, Limit).
// Where no cgroup can enforce it, Build fails with ErrNotSupported unless
// WithRlimitFallback lists LimitMemory. -1 (cgroup.Unlimited), like 0, sets
// no limit and lets a caller say so over a default.
func WithMemoryLimit(bytes int64) Option { return func(s *Spec) { resources(s).Memory = bytes } }

// WithPidsLimit limits the number of processes and threads in the sandbox, in
// place of the presets' DefaultPidsLimit; -1 (or 0) removes the limit, as podman's
// --pids-limit -1 does. Where no cgroup can enforce it, RLIMIT_NPROC does when
// Spec.RlimitFallback lists LimitPids (the presets do).
func WithPidsLimit(n int64) Option { return func(s *Spec) { resources(s).Pids = n } }

// WithCPUs limits the sandbox to n CPUs' worth of time (podman's --cpus).
func WithCPUs(n float64) Option { return func(s *Spec) { resources(s).CPUs = n } }

// WithCgroupParent creates the sandboxes' cgroups below path: absolute, the same
// path in every hierarchy; relative, below the caller's own cgroup. It replaces
// WithCgroupPath.
func WithCgroupParent(path string) Option {
	return func(s *Spec) { s.Cgroup.Parent = path; s.Cgroup.Path = ""; s.NoCgroup = false }
}

// WithCgroupPath puts the sandbox in exactly the cgroup path, as an OCI runtime
// reads cgroupsPath (see cgroup.Spec.Path): absolute, the same path below the root
// of every hierarchy; relative, below the caller's own cgroup. It is created where
// missing and then removed at the sandbox's end (or by Remove), or joined as it is
// where it exists and then left; the limits are written to it either way. Every
// start of the Template shares it, and the one that made it kills what is left
// in it at its end: start one at a time, as an OCI runtime does, or make the
// cgroup first. Where the caller cannot make or join it, Build
// fails with ErrNotSupported if the Spec has limits, and otherwise leaves the
// sandbox in the caller's cgroup, as the Plan's cgroup reason says.
func WithCgroupPath(path string) Option {
	return func(s *Spec) { s.Cgroup.Path = path; s.Cgroup.Parent = ""; s.NoCgroup = false }
}

// WithoutCgroup keeps the sandbox in the caller's cgroup: no cgroup limits and no
// device rules, and nothing to create per start. A limit given before it that
// Spec.RlimitFallback lists (the presets' pids limit) stays, as an rlimit; the
// others are dropped (a later option wins).
func WithoutCgroup() Option {
	return func(s *Spec) {
		s.NoCgroup = true
		if r := s.Cgroup.Resources; r != nil {
			kept := cgroup.Resources{}
			if slices.Contains(s.RlimitFallback, LimitMemory) {
				kept.Memory = r.Memory
			}
			if slices.Contains(s.RlimitFallback, LimitPids) {
				kept.Pids = r.Pids
			}
			s.Cgroup.Resources = &kept
			if kept.IsZero() {
				s.Cgroup.Resources = nil
			}
		}
	}
}

// WithSharedNetNS gives every start of the Template one network namespace, created
// empty (loopback only) in Build, instead of a new one per start: faster, but the
// sandboxes of one Template can then reach each other over loopback. Root only;
// see Spec.SharedNetNS.
func WithSharedNetNS() Option {
	return func(s *Spec) {
		s.Namespaces.Set(namespace.Net, namespace.Config{Mode: namespace.New})
		s.SharedNetNS = true
	}
}
