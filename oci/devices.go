package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes the spec has a runtime supply in every container
// (its "Default Devices").
var defaultDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// devices gives the sandbox the default devices and the configuration's own.
// A Spec without its default mounts has no device nodes of its own: each becomes
// a bind of the host's node at the same path, as Paddock makes them in a user
// namespace, so the host must have that node, with the permissions and owner the
// configuration asks for. A configuration that binds the host's /dev gets no
// default devices, as with runc.
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

// device binds the host's node for the device d, which must match it.
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
		return unsupported(field+".type", "a FIFO: Paddock binds device nodes of the host")
	default:
		return invalid(field+".type", "unknown device type %q", d.Type)
	}
	path := filepath.Clean(d.Path)
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return unsupported(field, "Paddock binds the host's node, and the host has none at %s: %v", path, err)
	}
	if st.Mode&unix.S_IFMT != mode || unix.Major(st.Rdev) != uint32(d.Major) || unix.Minor(st.Rdev) != uint32(d.Minor) || d.Major < 0 || d.Minor < 0 {
		return unsupported(field, "Paddock binds the host's node, and %s on the host is not %s %d:%d", path, d.Type, d.Major, d.Minor)
	}
	if err := c.checkNodeOwner(field, d, &st); err != nil {
		return err
	}
	c.spec.Mounts.Mounts = append(c.spec.Mounts.Mounts, mounts.Mount{Source: path, Target: path, FSType: "bind", Flags: unix.MS_BIND})
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
