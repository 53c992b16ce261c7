package oci

import (
	"github.com/paddock-sandbox/paddock/selinux"
)

// labels sets the SELinux labels: none unless the configuration gives them, as a
// runtime labels only what it is told to. A Spec holds one level for the process
// and its files, and the file label's type only. Where SELinux is not enabled, a
// label names nothing the kernel enforces: the labels are checked, then left
// unapplied, as runc and crun leave them (engines write them whatever the host).
func (c *converter) labels() error {
	proc, mount := c.cfg.Process.SelinuxLabel, c.linux.MountLabel
	if proc == "" && mount == "" {
		c.spec.Label = selinux.Spec{Disable: true}
		return nil
	}
	s, err := parseLabels(proc, mount)
	if err != nil {
		return err
	}
	if !selinux.Enabled() {
		s = selinux.Spec{Disable: true}
	}
	c.spec.Label = s
	return nil
}

// parseLabels turns the process and mount labels into a Spec.
func parseLabels(proc, mount string) (selinux.Spec, error) {
	var s selinux.Spec
	if proc != "" {
		l, err := selinux.ParseLabel(proc)
		if err != nil {
			return s, invalidErr("process.selinuxLabel", err)
		}
		s = selinux.Spec{User: l.User, Role: l.Role, Type: l.Type, Level: l.Level}
	}
	if mount != "" {
		l, err := selinux.ParseLabel(mount)
		if err != nil {
			return s, invalidErr("linux.mountLabel", err)
		}
		if l.User != selinux.DefaultFileUser || l.Role != selinux.DefaultFileRole {
			return s, unsupported("linux.mountLabel", "%s: a Spec labels files as %s:%s", mount, selinux.DefaultFileUser, selinux.DefaultFileRole)
		}
		if proc != "" && l.Level != s.Level {
			return s, unsupported("linux.mountLabel", "level %q: a Spec gives files the process's level %q", l.Level, s.Level)
		}
		s.FileType, s.Level = l.Type, l.Level
	}
	return s, nil
}
