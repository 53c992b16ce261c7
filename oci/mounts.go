package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"golang.org/x/sys/unix"
)

// root sets the root filesystem from root.path, relative to the bundle. A
// writable root is the directory itself (Spec.RootDir), as runc's: what the
// container writes lands in root.path. A read-only one is the only lower layer
// of an overlay made read-only, so that the mount points the configuration's
// mounts need are made in the overlay's ephemeral layer, never in root.path
// (which may lie on a read-only filesystem).
func (c *converter) root() error {
	r := c.cfg.Root
	if r == nil || r.Path == "" {
		return invalid("root.path", "no root filesystem")
	}
	path := c.inBundle(r.Path)
	fi, err := os.Stat(path)
	if err != nil {
		return invalidErr("root.path", err)
	}
	if !fi.IsDir() {
		return invalid("root.path", "%s is not a directory", path)
	}
	if !r.Readonly {
		c.spec.RootDir = path
		return nil
	}
	c.spec.Rootfs = overlay.Spec{Lower: []string{path}}
	c.spec.Mounts.ReadonlyRoot = true
	return nil
}

// inBundle returns path, relative to the bundle unless absolute.
func (c *converter) inBundle(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(c.bundle, path)
}

// mounts converts the configuration's mounts, and only those: the Spec's default
// mounts stay off. A runtime mounts them in the order listed; the Spec mounts in
// the order of the targets' depth, so a list in which a mount would cover an
// earlier one is refused.
func (c *converter) mounts() error {
	for i, m := range c.cfg.Mounts {
		field := fmt.Sprintf("mounts[%d]", i)
		if err := c.mount(field, m); err != nil {
			return err
		}
	}
	return checkOrder(c.cfg.Mounts)
}

// mount converts one mount: a bind of a host path, or a new filesystem.
func (c *converter) mount(field string, m specs.Mount) error {
	if m.Destination == "" {
		return invalid(field+".destination", "no destination")
	}
	o, err := parseOptions(field+".options", m.Options)
	if err != nil {
		return err
	}
	dst := filepath.Join("/", m.Destination) // relative: below "/", as runc takes it
	if o.bind || m.Type == "bind" {
		return c.bind(field, m, dst, o)
	}
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 || o.idmap {
		return unsupported(field+".uidMappings", "an idmapped %s mount: Paddock idmaps binds only", m.Type)
	}
	return c.filesystem(field, m, dst, o)
}

// bind converts a bind mount: a Mount whose flags and propagation the child
// sets on its copy of the source, or, with an idmapping, a Bind, which takes no
// other flag than ro. Filesystem options (mode=755, size=1k) mean nothing to a
// bind: mount(2) reads no data with MS_BIND, and runc passes them to the
// kernel, which drops them; they are accepted and dropped here too.
func (c *converter) bind(field string, m specs.Mount, dst string, o options) error {
	if o.flags&^bindFlags != 0 {
		return unsupported(field+".options", "%s on a bind: the child sets only ro, nosuid, nodev, noexec and the atime flags on a bind", mounts.FlagString(o.flags&^bindFlags))
	}
	if m.Source == "" {
		return invalid(field+".source", "a bind without a source")
	}
	src := c.inBundle(m.Source)
	idmap, err := c.mountIDMap(field, m, o)
	if err != nil {
		return err
	}
	if !idmap {
		flags := uintptr(unix.MS_BIND) | o.flags
		if o.recursive {
			flags |= unix.MS_REC
		}
		c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: src, Target: dst, FSType: "bind", Flags: flags, Propagation: o.propagation})
		return nil
	}
	if o.flags&^unix.MS_RDONLY != 0 {
		return unsupported(field+".options", "%s with an idmapping: such a bind takes only ro", mounts.FlagString(o.flags&^unix.MS_RDONLY))
	}
	b := mounts.Bind{Source: src, Target: dst, ReadOnly: o.flags&unix.MS_RDONLY != 0, Recursive: o.recursive, IDMap: idmap}
	if o.propagation != mounts.Private && o.propagation != mounts.RPrivate {
		b.Propagation = o.propagation
	}
	c.spec.Mounts.Binds = append(c.spec.Mounts.Binds, b)
	return nil
}

// bindFlags are the flags the child sets on a bind.
const bindFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// mountIDMap reports whether a bind is idmapped: by the idmap option, or by
// mappings of its own, which must be the user namespace's, since a Bind is
// idmapped with the sandbox's user namespace.
func (c *converter) mountIDMap(field string, m specs.Mount, o options) (bool, error) {
	own := len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
	if !o.idmap && !own {
		return false, nil
	}
	if !c.newNS(namespace.User) {
		return false, unsupported(field+".options", "an idmapped bind without a new user namespace: Paddock idmaps with the sandbox's")
	}
	if own && (!slices.Equal(idMaps(m.UIDMappings), c.spec.Namespaces.UIDMap) || !slices.Equal(idMaps(m.GIDMappings), c.spec.Namespaces.GIDMap)) {
		return false, unsupported(field+".uidMappings", "mappings other than the user namespace's: Paddock idmaps a bind with the sandbox's")
	}
	if o.idmap && o.idmapRecursive != o.recursive {
		return false, unsupported(field+".options", "idmap and ridmap must match bind and rbind: Paddock idmaps the whole bind")
	}
	return true, nil
}

// filesystem converts a mount of a new filesystem. In a user namespace the kernel
// refuses sysfs without a new network namespace and proc without a new pid
// namespace; on a cgroup v1 or hybrid host a "cgroup" mount is the host's tree:
// those become read-only-able binds of the host's, as runc and Paddock's default
// mounts make them.
func (c *converter) filesystem(field string, m specs.Mount, dst string, o options) error {
	if m.Type == "" {
		return invalid(field+".type", "no filesystem type")
	}
	if o.recursive {
		return invalid(field+".options", "rbind without a bind")
	}
	if m.Type == "tmpfs" {
		if err := checkTmpfs(field+".options", o.data); err != nil {
			return err
		}
	}
	if o.tmpcopyup {
		if err := c.checkCopyUp(field, m.Type, dst); err != nil {
			return err
		}
	}
	if host := c.hostTree(m.Type); host != "" {
		if len(o.data) > 0 {
			return unsupported(field+".options", "%s: the %s mount is the host's %s bound, which takes no filesystem option", strings.Join(o.data, ","), m.Type, host)
		}
		c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: host, Target: dst, FSType: "bind", Flags: unix.MS_BIND | unix.MS_REC | o.flags, Propagation: o.propagation})
		return nil
	}
	if m.Type == "mqueue" && c.newNS(namespace.User) && !c.newNS(namespace.IPC) {
		return unsupported(field+".type", "mqueue in a user namespace without a new ipc namespace: the kernel refuses it")
	}
	fstype := m.Type
	if fstype == "cgroup" {
		fstype = "cgroup2"
	}
	c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: m.Source, Target: dst, FSType: fstype, Flags: o.flags,
		Data: strings.Join(o.data, ","), Propagation: o.propagation, CopyUp: o.tmpcopyup})
	return nil
}

// hostTree returns the host's tree that stands for a new filesystem of type fstype
// where the sandbox cannot mount one, or "".
func (c *converter) hostTree(fstype string) string {
	userNS := c.newNS(namespace.User)
	switch fstype {
	case "sysfs":
		if userNS && !c.newNS(namespace.Net) {
			return "/sys"
		}
	case "proc":
		if userNS && !c.newNS(namespace.PID) {
			return "/proc"
		}
	case "cgroup":
		if !mounts.HostCgroupV2() || (userNS && !c.newNS(namespace.Cgroup)) {
			return "/sys/fs/cgroup"
		}
	}
	return ""
}

// checkTmpfs checks a tmpfs size, which the kernel would read wrongly past
// 2^64, with a leading 0 or as 0 (no limit).
func checkTmpfs(field string, data []string) error {
	for _, d := range data {
		if v, ok := strings.CutPrefix(d, "size="); ok {
			if err := mounts.CheckTmpfsSize(v); err != nil {
				return invalidErr(field, err)
			}
		}
	}
	return nil
}

// checkOrder refuses mounts in an order that the Spec, which mounts by the depth
// of the targets, would change: a mount listed after another on a path below its
// target (which a runtime would cover) or on the same target (which a runtime
// would stack in the listed order, and the Spec in its own).
func checkOrder(ms []specs.Mount) error {
	for j := range ms {
		tj := filepath.Join("/", ms[j].Destination)
		for i := 0; i < j; i++ {
			ti := filepath.Join("/", ms[i].Destination)
			if ti != tj && strings.HasPrefix(ti, strings.TrimSuffix(tj, "/")+"/") {
				return unsupported(fmt.Sprintf("mounts[%d].destination", j), "%s is listed after mounts[%d] on %s, below it, which it would cover: Paddock mounts a parent before what lies below it", tj, i, ti)
			}
			if ti == tj {
				return unsupported(fmt.Sprintf("mounts[%d].destination", j), "%s is also the target of mounts[%d]: Paddock does not stack mounts in the listed order", tj, i)
			}
		}
	}
	return nil
}

// paths sets the masked and read-only paths, and the propagation of the root.
// Paddock expands a "*" in a masked path on the host; the spec's paths are
// literal, so a pattern is refused.
func (c *converter) paths() error {
	for _, l := range []struct {
		name  string
		paths []string
		dst   *[]string
	}{
		{"linux.maskedPaths", c.linux.MaskedPaths, &c.spec.Mounts.Masked},
		{"linux.readonlyPaths", c.linux.ReadonlyPaths, &c.spec.Mounts.ReadOnly},
	} {
		for i, p := range l.paths {
			field := fmt.Sprintf("%s[%d]", l.name, i)
			if !filepath.IsAbs(p) {
				return invalid(field, "%q is not an absolute path", p)
			}
			if strings.ContainsAny(p, "*?[") {
				return unsupported(field, "%q: Paddock reads *, ? and [ as a pattern", p)
			}
			*l.dst = append(*l.dst, filepath.Clean(p))
		}
	}
	return c.rootPropagation()
}

// rootPropagation sets how the sandbox's "/" relates to the host's mounts.
// Paddock applies it recursively.
func (c *converter) rootPropagation() error {
	switch p := mounts.Propagation(c.linux.RootfsPropagation); p {
	case "", mounts.Private, mounts.RPrivate, mounts.Slave, mounts.RSlave, mounts.Shared, mounts.RShared:
		c.spec.Mounts.RootPropagation = p
	case mounts.Unbindable, mounts.RUnbindable:
		return unsupported("linux.rootfsPropagation", "%s: the root is private, slave or shared", p)
	default:
		return invalid("linux.rootfsPropagation", "unknown propagation %q", p)
	}
	return nil
}
