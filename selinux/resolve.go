package selinux

import "sync"

// The default labels of a container in the targeted policy (container-selinux), as in
// /etc/selinux/targeted/contexts/lxc_contexts.
const (
	DefaultUser        = "system_u"
	DefaultRole        = "system_r"
	DefaultType        = "container_t"
	PrivilegedType     = "spc_t"
	DefaultFileUser    = "system_u"
	DefaultFileRole    = "object_r"
	DefaultFileType    = "container_file_t"
	PrivilegedLevel    = "s0"
	defaultSensitivity = "s0"
)

// Labels are the resolved labels of one sandbox: Process is written to
// /proc/thread-self/attr/exec by the child, Mount is given to the sandbox's tmpfs and
// overlay mounts with MountOption. Empty strings mean "no label".
type Labels struct {
	Process string `json:"process,omitempty"`
	Mount   string `json:"mount,omitempty"`
}

// Resolve turns s into the labels of one sandbox, the way Podman does:
//
//   - SELinux disabled on the host: no labels (a Spec that demands one fails with
//     ErrNotSupported, see Check);
//   - Disable: no labels;
//   - privileged: process spc_t at level s0, mount container_file_t at s0 (no categories,
//     no isolation between privileged sandboxes, as with Podman's --privileged);
//   - otherwise: process container_t and mount container_file_t, both with the same
//     unique category pair from alloc (DefaultAllocator when nil), or with s.Level when
//     given (not reserved: sandboxes that share a level share files).
//
// Type, User, Role and FileType replace their defaults in every case. release returns
// the allocated pair to alloc; it is never nil, and calling it more than once is safe.
func (s Spec) Resolve(privileged bool, alloc *Allocator) (Labels, func(), error) {
	return s.resolve(Enabled(), privileged, alloc)
}

func noRelease() {}

func (s Spec) resolve(enabled, privileged bool, alloc *Allocator) (Labels, func(), error) {
	if err := s.Validate(); err != nil {
		return Labels{}, noRelease, err
	}
	if err := s.check(enabled); err != nil {
		return Labels{}, noRelease, err
	}
	if !enabled || s.Disable {
		return Labels{}, noRelease, nil
	}
	proc := Label{User: or(s.User, DefaultUser), Role: or(s.Role, DefaultRole), Type: or(s.Type, DefaultType)}
	file := Label{User: DefaultFileUser, Role: DefaultFileRole, Type: or(s.FileType, DefaultFileType)}
	release := noRelease
	switch {
	case s.Level != "":
		proc.Level, file.Level = s.Level, s.Level
	case privileged:
		if s.Type == "" {
			proc.Type = PrivilegedType
		}
		proc.Level, file.Level = PrivilegedLevel, PrivilegedLevel
	default:
		if alloc == nil {
			alloc = DefaultAllocator
		}
		c, err := alloc.Allocate()
		if err != nil {
			return Labels{}, noRelease, err
		}
		proc.Level, file.Level = c.Level(), c.Level()
		var once sync.Once
		release = func() { once.Do(func() { alloc.Release(c) }) }
	}
	return Labels{Process: proc.String(), Mount: file.String()}, release, nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
