package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes the spec has a runtime supply in every container
// (its "Default Devices").
var defaultDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// devices gives the sandbox the default devices and the configuration's own.
// The default devices are binds of the host's nodes at the same path, as
// Paddock makes them in a user namespace, so the host must have them. The
// configuration's own are made (see device). A configuration that binds the
// host's /dev gets no default devices, as with runc.
func (c *converter) devices() error {
	own := map[string]bool{}
	for i, d := range c.linux.Devices {
		field := fmt.Sprintf("linux.devices[%d]", i)
		if err := c.device(field, d); err != nil {
			return err
		}
		own[filepath.Clean(d.Path)] = true
	}
	if c.bindsDev() {
		return nil
	}
	for _, p := range defaultDevices {
		if own[p] {
			continue
		}
		if err := hostNode(p, unix.S_IFCHR); err != nil {
			return unsupported("linux.devices", "the default device %s, which Paddock binds from the host: %v", p, err)
		}
		c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: p, Target: p, FSType: "bind", Flags: unix.MS_BIND})
	}
	return nil
}

// bindsDev reports whether the configuration binds a host tree on /dev.
func (c *converter) bindsDev() bool {
	for _, m := range c.spec.Mounts.Mounts {
		if m.Target == "/dev" && m.Flags&unix.MS_BIND != 0 {
			return true
		}
	}
	for _, b := range c.spec.Mounts.Binds {
		if b.Target == "/dev" {
			return true
		}
	}
	return false
}

// device gives the sandbox the device d: a node made with mknod(2) where the
// sandbox has no user namespace of its own, as runc makes it, with an allow
// rule in the device cgroup; in a user namespace, where the kernel refuses
// mknod, a bind of the host's node, which must match d. A FIFO is made in
// either case.
func (c *converter) device(field string, d specs.LinuxDevice) error {
	if !filepath.IsAbs(d.Path) {
		return invalid(field+".path", "%q is not an absolute path", d.Path)
	}
	var mode uint32
	switch d.Type {
	case "c", "u":
		mode = unix.S_IFCHR
	case "b":
		mode = unix.S_IFBLK
	case "p":
		mode = unix.S_IFIFO
	default:
		return invalid(field+".type", "unknown device type %q", d.Type)
	}
	if d.Major < 0 || d.Minor < 0 || d.Major > 0xfff || d.Minor > 0xfffff {
		return invalid(field, "device number %d:%d out of range", d.Major, d.Minor)
	}
	path := filepath.Clean(d.Path)
	if mode == unix.S_IFIFO || !c.newNS(namespace.User) {
		return c.node(field, d, path, mode)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return unsupported(field, "in a user namespace Paddock binds the host's node, and the host has none at %s: %v", path, err)
	}
	if st.Mode&unix.S_IFMT != mode || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) {
		return unsupported(field, "in a user namespace Paddock binds the host's node, and %s on the host is not %s %d:%d", path, d.Type, d.Major, d.Minor)
	}
	if err := c.checkNodeOwner(field, d, &st); err != nil {
		return err
	}
	c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: path, Target: path, FSType: "bind", Flags: unix.MS_BIND})
	return nil
}

// node makes the device d a node of the sandbox's own (mounts.Node), owned by
// the sandbox's root, with the permissions 0666 unless d gives them, as runc
// makes them; a device gets an allow rule in the device cgroup, after the
// configuration's rules.
func (c *converter) node(field string, d specs.LinuxDevice, path string, mode uint32) error {
	for _, o := range []struct {
		name string
		id   *uint32
	}{{"uid", d.UID}, {"gid", d.GID}} {
		if o.id != nil && *o.id != 0 {
			return unsupported(field+"."+o.name, "%d: the child makes nodes as the sandbox's root, before it takes the process's identity", *o.id)
		}
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	c.spec.Mounts.Nodes = append(c.spec.Mounts.Nodes, mounts.Node{Path: path, Type: mode, Major: uint32(d.Major), Minor: uint32(d.Minor), Mode: perm})
	if mode != unix.S_IFIFO {
		c.spec.Cgroup.Devices = append(c.spec.Cgroup.Devices, cgroup.DeviceRule{Allow: true, Type: map[uint32]string{unix.S_IFCHR: "c", unix.S_IFBLK: "b"}[mode], Major: d.Major, Minor: d.Minor, Access: "rwm"})
	}
	return nil
}

// checkNodeOwner checks that the host's node has the permissions and the owner
// the configuration gives the device, which a bind keeps.
func (c *converter) checkNodeOwner(field string, d specs.LinuxDevice, st *unix.Stat_t) error {
	if d.FileMode != nil && uint32(d.FileMode.Perm()) != st.Mode&0o777 {
		return unsupported(field+".fileMode", "%#o: the host's node, which Paddock binds, has %#o", d.FileMode.Perm(), st.Mode&0o777)
	}
	for _, o := range []struct {
		name string
		id   *uint32
		maps []namespace.IDMap
		host uint32
	}{
		{"uid", d.UID, c.spec.Namespaces.UIDMap, st.Uid}, {"gid", d.GID, c.spec.Namespaces.GIDMap, st.Gid},
	} {
		if o.id == nil {
			continue
		}
		want, ok := *o.id, true
		if c.newNS(namespace.User) {
			want, ok = namespace.MapToHost(o.maps, *o.id)
		}
		if !ok || want != o.host {
			return unsupported(field+"."+o.name, "%d: the host's node, which Paddock binds, belongs to host %s %d", *o.id, o.name, o.host)
		}
	}
	return nil
}

// hostNode checks that path on the host is a node of type mode (S_IFCHR).
func hostNode(path string, mode uint32) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Mode&unix.S_IFMT != mode {
		return fmt.Errorf("%s is not a character device", path)
	}
	return nil
}
