package oci

import (
	"os"
	"path/filepath"

	"github.com/paddock-sandbox/paddock/mounts"
)

// devLinks makes the links that runc makes in a container's /dev when the
// configuration gives it a /dev of its own (a filesystem mounted there, not a
// bind of the host's): /dev/fd and /dev/stdin, stdout and stderr into
// /proc/self/fd; /dev/ptmx to pts/ptmx where a devpts is mounted on /dev/pts;
// and /dev/core to /proc/kcore where the host has one. Without the default
// mounts the Spec makes none of them by itself. A path that the configuration
// fills otherwise (a device, a mount) keeps what it has.
func (c *converter) devLinks() error {
	if !c.newFS("/dev", "") {
		return nil
	}
	links := []mounts.Symlink{
		{Path: "/dev/fd", Value: "/proc/self/fd"},
		{Path: "/dev/stdin", Value: "/proc/self/fd/0"},
		{Path: "/dev/stdout", Value: "/proc/self/fd/1"},
		{Path: "/dev/stderr", Value: "/proc/self/fd/2"},
	}
	if c.newFS("/dev/pts", "devpts") {
		links = append(links, mounts.Symlink{Path: "/dev/ptmx", Value: "pts/ptmx"})
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, mounts.Symlink{Path: "/dev/core", Value: "/proc/kcore"})
	}
	c.spec.Mounts.Symlinks = append(c.spec.Mounts.Symlinks, links...)
	return nil
}

// newFS reports whether the configuration mounts a new filesystem (of type
// fstype, unless that is empty) on target, rather than a bind.
func (c *converter) newFS(target, fstype string) bool {
	for _, m := range c.cfg.Mounts {
		if filepath.Join("/", m.Destination) != target || m.Type == "bind" {
			continue
		}
		o, err := parseOptions("", m.Options)
		if err != nil || o.bind {
			continue
		}
		if fstype == "" || m.Type == fstype {
			return true
		}
	}
	return false
}
