package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// ConfigName is the name of a bundle's configuration file.
const ConfigName = "config.json"

// ReadConfig reads the configuration of the bundle in directory bundle. A
// property that the runtime-spec types do not know (one of a later version of
// the spec, or a misspelt one) is ignored, as the spec requires of a runtime;
// UnknownFields lists them, for the runtime to report.
func ReadConfig(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, ConfigName))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var cfg specs.Spec
	if err := dec.Decode(&cfg); err != nil {
		return nil, invalidErr(ConfigName, err)
	}
	if dec.More() {
		return nil, invalid(ConfigName, "data after the configuration object")
	}
	return &cfg, nil
}

// converter holds what Convert has made so far, and the facts about the
// configuration that several of its parts read.
type converter struct {
	cfg    *specs.Spec
	linux  *specs.Linux
	bundle string
	spec   *sandbox.Spec
	cmd    sandbox.Command
}

// Convert turns the configuration cfg of the bundle in directory bundle (relative
// paths in cfg are relative to it) into a sandbox Spec and the Command that runs
// the configuration's process: its arguments, environment and terminal. The Spec
// holds what the configuration asks for and nothing else (see the package
// documentation); the caller sets the Command's streams. A field that Paddock
// cannot honour, or that is wrong, fails with a *FieldError naming it.
func Convert(cfg *specs.Spec, bundle string) (*sandbox.Spec, sandbox.Command, error) {
	if cfg == nil {
		return nil, sandbox.Command{}, invalid("", "no configuration")
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, sandbox.Command{}, invalidErr("", err)
	}
	c := &converter{cfg: cfg, linux: cfg.Linux, bundle: abs, spec: &sandbox.Spec{}}
	if c.linux == nil {
		c.linux = &specs.Linux{}
	}
	for _, step := range []func() error{
		c.version, c.platforms, c.hooks, c.namespaces, c.idMappings, c.process,
		c.root, c.rootInPlace, c.mounts, c.devices, c.devLinks, c.paths, c.hostname, c.resources, c.seccomp,
		c.labels, c.linuxOther,
	} {
		if err := step(); err != nil {
			return nil, sandbox.Command{}, err
		}
	}
	return c.spec, c.cmd, nil
}

// version checks that the configuration is of a version 1 of the spec.
func (c *converter) version() error {
	v := c.cfg.Version
	major, _, _ := strings.Cut(v, ".")
	if major != "1" {
		return invalid("ociVersion", "%q is not a version 1.x of the runtime spec", v)
	}
	return nil
}

// platforms refuses the parts of the configuration for other platforms.
func (c *converter) platforms() error {
	for _, p := range []struct {
		field string
		set   bool
	}{
		{"solaris", c.cfg.Solaris != nil}, {"windows", c.cfg.Windows != nil}, {"vm", c.cfg.VM != nil},
		{"zos", c.cfg.ZOS != nil}, {"freebsd", c.cfg.FreeBSD != nil},
	} {
		if p.set {
			return unsupported(p.field, "Paddock runs Linux containers only")
		}
	}
	return nil
}

// hooks checks the hooks, which the runtime runs around the sandbox (HooksOf):
// they make no part of the Spec.
func (c *converter) hooks() error {
	_, err := HooksOf(c.cfg)
	return err
}

// nsKinds maps the spec's namespace types to Paddock's kinds.
var nsKinds = map[specs.LinuxNamespaceType]namespace.Kind{
	specs.PIDNamespace: namespace.PID, specs.NetworkNamespace: namespace.Net,
	specs.MountNamespace: namespace.Mount, specs.IPCNamespace: namespace.IPC,
	specs.UTSNamespace: namespace.UTS, specs.UserNamespace: namespace.User,
	specs.CgroupNamespace: namespace.Cgroup, specs.TimeNamespace: namespace.Time,
}

// namespaces sets how each kind of namespace is had: new, or joined by path; the
// kinds not listed are the caller's. Without a new mount namespace, the root is
// set up in place (rootInPlace).
func (c *converter) namespaces() error {
	ns := &c.spec.Namespaces
	for i, n := range c.linux.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		k, ok := nsKinds[n.Type]
		if !ok {
			return invalid(field+".type", "unknown namespace type %q", n.Type)
		}
		if ns.Mode(k) != namespace.Host {
			return invalid(field+".type", "namespace %q listed twice", n.Type)
		}
		conf := namespace.Config{Mode: namespace.New}
		if n.Path != "" {
			if !filepath.IsAbs(n.Path) {
				return invalid(field+".path", "%q is not an absolute path", n.Path)
			}
			conf = namespace.Config{Mode: namespace.Join, Path: n.Path}
		}
		ns.Set(k, conf)
	}
	return nil
}

// rootInPlace sets the root up in the joined mount namespace, or in the
// runtime's own where the configuration lists none, as runc does (see
// sandbox.Spec.RootInPlace): root.path itself, pivoted into in a joined
// namespace, entered with chroot in the runtime's, and made read-only last
// where root.readonly says, the mount points of the configuration's mounts
// being made in root.path, as runc makes them.
func (c *converter) rootInPlace() error {
	s := c.spec
	if s.Namespaces.Mode(namespace.Mount) == namespace.New {
		return nil
	}
	s.RootInPlace = true
	if s.RootDir == "" && len(s.Rootfs.Lower) == 1 {
		s.RootDir, s.Rootfs = s.Rootfs.Lower[0], overlay.Spec{}
	}
	return nil
}

// newNS reports whether the configuration creates a namespace of kind k.
func (c *converter) newNS(k namespace.Kind) bool { return c.spec.Namespaces.Mode(k) == namespace.New }

// idMappings sets the ID maps of a new user namespace, which the spec requires
// there and forbids elsewhere.
func (c *converter) idMappings() error {
	uid, gid := c.linux.UIDMappings, c.linux.GIDMappings
	if !c.newNS(namespace.User) {
		if len(uid) > 0 || len(gid) > 0 {
			return invalid("linux.uidMappings", "ID mappings without a new user namespace")
		}
		return nil
	}
	if len(uid) == 0 {
		return invalid("linux.uidMappings", "a new user namespace needs uid mappings")
	}
	if len(gid) == 0 {
		return invalid("linux.gidMappings", "a new user namespace needs gid mappings")
	}
	c.spec.Namespaces.UIDMap = idMaps(uid)
	c.spec.Namespaces.GIDMap = idMaps(gid)
	return nil
}

// idMaps converts ID mappings.
func idMaps(ms []specs.LinuxIDMapping) []namespace.IDMap {
	out := make([]namespace.IDMap, len(ms))
	for i, m := range ms {
		out[i] = namespace.IDMap{ContainerID: m.ContainerID, HostID: m.HostID, Size: m.Size}
	}
	return out
}

// hostname sets the host and domain names.
func (c *converter) hostname() error {
	c.spec.Hostname, c.spec.Domainname = c.cfg.Hostname, c.cfg.Domainname
	if (c.cfg.Hostname != "" || c.cfg.Domainname != "") && c.spec.Namespaces.Mode(namespace.UTS) == namespace.Host {
		field := "hostname"
		if c.cfg.Hostname == "" {
			field = "domainname"
		}
		return invalid(field, "a host or domain name needs a uts namespace, new or joined")
	}
	return nil
}
