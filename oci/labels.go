package oci

import (
	"github.com/paddock-sandbox/paddock/selinux"
)

// labels sets the SELinux labels: none unless the configuration gives them, as a
// runtime labels only what it is told to. A Spec holds one level for the process
// and its files, and the file label's type only.
func (c *converter) labels() error {
	proc, mount := c.cfg.Process.SelinuxLabel, c.linux.MountLabel
	if proc == "" && mount == "" {
		c.spec.Label = selinux.Spec{Disable: true}
		return nil
	}
	field := "process.selinuxLabel"
	if proc == "" {
		field = "linux.mountLabel"
	}
	if !selinux.Enabled() {
		return unsupported(field, "SELinux is not enabled on this host")
	}
	var s selinux.Spec
	if proc != "" {
		l, err := selinux.ParseLabel(proc)
		if err != nil {
			return invalidErr("process.selinuxLabel", err)
		}
		s = selinux.Spec{User: l.User, Role: l.Role, Type: l.Type, Level: l.Level}
	}
	if mount != "" {
		l, err := selinux.ParseLabel(mount)
		if err != nil {
			return invalidErr("linux.mountLabel", err)
		}
		if l.User != selinux.DefaultFileUser || l.Role != selinux.DefaultFileRole {
			return unsupported("linux.mountLabel", "%s: a Spec labels files as %s:%s", mount, selinux.DefaultFileUser, selinux.DefaultFileRole)
		}
		if proc != "" && l.Level != s.Level {
			return unsupported("linux.mountLabel", "level %q: a Spec gives files the process's level %q", l.Level, s.Level)
		}
		s.FileType, s.Level = l.Type, l.Level
	}
	c.spec.Label = s
	return nil
}
