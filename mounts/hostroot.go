package mounts

import (
	"os"
	"path/filepath"
	"sort"
)

// HostRoot says what a sandbox whose root filesystem is the host's own "/" (the
// embedded default root, a read-only lower layer) does not see of the host. The
// host's files are readable there as they are on the host, to root inside a
// rootful sandbox even where their mode says otherwise (it holds
// CAP_DAC_OVERRIDE): a default that untrusted code gets first must not hand it the
// host's secrets, temporary files or run-time state.
type HostRoot struct {
	// Empty are directories that get an empty tmpfs of their own, before the
	// sandbox's own mounts: the host's temporary files and run-time state (its
	// sockets, locks and pid files) stay out of sight, and what the sandbox writes
	// there is bounded by each tmpfs's size.
	Empty []Tmpfs `json:"empty,omitempty"`
	// Hidden are paths hidden whatever their mode, as masked paths are, also in a
	// privileged sandbox: a file reads as empty, a directory is an empty read-only
	// tmpfs. A "*" is expanded against the host.
	Hidden []string `json:"hidden,omitempty"`
	// RootOnlyIn are directories whose entries the host marks as private (a file
	// that others may not read, a directory that others may not read or search)
	// are hidden too: what a distribution makes root-only, such as /etc/shadow, the
	// SSH host keys or /etc/ssl/private, whatever it is called on this host.
	RootOnlyIn []string `json:"rootOnlyIn,omitempty"`
}

// DefaultHostRoot is what the default root hides: the home directories of root
// and of every user, the data of services (/var/lib, /var/spool, /var/mail,
// /var/backups, /srv) and the logs; the password and group shadow files, sudo's
// rules, the SSH host keys and the TLS private keys by name; and every root-only
// entry of /etc, /etc/ssh, /etc/ssl, /etc/security, /var, /var/cache, /opt and
// /usr/local/etc. /tmp, /var/tmp (1 GiB each) and /run (64 MiB) are empty tmpfs.
// Everything else of the host's "/" (/usr, /etc, /opt, ...) is visible,
// read-only.
func DefaultHostRoot() HostRoot {
	return HostRoot{
		Empty: []Tmpfs{
			{Target: "/tmp", Size: "1g", Mode: 0o1777},
			{Target: "/var/tmp", Size: "1g", Mode: 0o1777},
			{Target: "/run", Size: "64m", Mode: 0o755},
		},
		Hidden: []string{
			"/root", "/home", "/var/lib", "/var/log", "/var/spool", "/var/mail", "/var/backups", "/srv",
			"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers", "/etc/sudoers.d",
			"/etc/ssh/ssh_host_*_key", "/etc/ssl/private", "/etc/security/opasswd",
		},
		RootOnlyIn: []string{"/etc", "/etc/ssh", "/etc/ssl", "/etc/security", "/var", "/var/cache", "/opt", "/usr/local/etc"},
	}
}

// A HiddenPath is a path that a sandbox hides (Spec.Hidden): a directory gets an
// empty tmpfs, anything else a bind of /dev/null.
type HiddenPath struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir,omitempty"`
}

// Resolve reads the host's "/" and returns what h hides on it, sorted: the Hidden
// paths that exist (globs expanded) and the root-only entries of RootOnlyIn, each
// marked as a directory or not. Symbolic links count as what they lead to, as the
// sandbox resolves them; a path below another hidden directory is left out.
func (h HostRoot) Resolve() []HiddenPath {
	seen := map[string]bool{}
	for _, p := range expand(h.Hidden) {
		if _, err := os.Stat(p); err == nil {
			seen[filepath.Clean(p)] = true
		}
	}
	for _, dir := range h.RootOnlyIn {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if fi, err := os.Stat(p); err == nil && rootOnly(fi) {
				seen[p] = true
			}
		}
	}
	var out []HiddenPath
	for p := range seen {
		if below(p, seen) {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		out = append(out, HiddenPath{Path: p, Dir: fi.IsDir()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// rootOnly reports whether others may not read a file, or read or search a
// directory.
func rootOnly(fi os.FileInfo) bool {
	m := fi.Mode().Perm()
	if fi.IsDir() {
		return m&0o005 != 0o005
	}
	return m&0o004 == 0
}

// below reports whether p lies strictly inside a directory of set.
func below(p string, set map[string]bool) bool {
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		if set[d] {
			return true
		}
	}
	return false
}

// targets returns the targets of the Spec's own mounts, binds and tmpfs.
func (s *Spec) targets() map[string]bool {
	targets := map[string]bool{}
	for _, m := range s.Mounts {
		targets[filepath.Clean(m.Target)] = true
	}
	for _, b := range s.Binds {
		targets[filepath.Clean(b.Target)] = true
	}
	for _, t := range s.Tmpfs {
		targets[filepath.Clean(t.Target)] = true
	}
	return targets
}

// keepTargets drops the hidden paths that are the target of one of the Spec's own
// mounts, binds or tmpfs: the sandbox's mount replaces what is there.
func (s *Spec) keepTargets(hidden []HiddenPath) []HiddenPath {
	targets := s.targets()
	var out []HiddenPath
	for _, h := range hidden {
		if !targets[filepath.Clean(h.Path)] {
			out = append(out, h)
		}
	}
	return out
}
