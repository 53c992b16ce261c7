package mounts

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Info is what a live process sees of the filesystem.
type Info struct {
	// Mounts is the process's mount table, from /proc/PID/mountinfo; mount points are
	// relative to its root.
	Mounts []*mountinfo.Info `json:"mounts"`
	// Masked lists the paths of DefaultMasked (patterns expanded) that are masked:
	// a 1:3 character device, or a read-only tmpfs mounted on the path.
	Masked []string `json:"masked"`
	// Unmasked lists the paths of DefaultMasked that exist unmasked.
	Unmasked []string `json:"unmasked,omitempty"`
	// ReadOnly lists the paths of DefaultReadOnly that sit on a read-only mount;
	// Writable those that do not.
	ReadOnly []string `json:"readOnly"`
	Writable []string `json:"writable,omitempty"`
	// HostVisible lists the process's mounts that show a host filesystem: the same
	// device, and a root within a mount of PID 1's table.
	HostVisible []HostMount `json:"hostVisible,omitempty"`
}

// A HostMount is a mount of a process that shows part of a host mount.
type HostMount struct {
	// Mountpoint is where the process sees it.
	Mountpoint string `json:"mountpoint"`
	// HostMountpoint is where PID 1 sees the host mount; Root is the subtree shown.
	HostMountpoint string `json:"hostMountpoint"`
	Root           string `json:"root"`
	FSType         string `json:"type"`
	Source         string `json:"source"`
	ReadOnly       bool   `json:"readOnly"`
}

// Inspect reads the mount table of process pid and checks it against the default
// masked and read-only lists and PID 1's table. Reading another process's root
// needs the right to ptrace it.
func Inspect(pid int) (*Info, error) {
	ms, err := readTable(pid)
	if err != nil {
		return nil, err
	}
	host, err := readTable(1)
	if err != nil {
		return nil, err
	}
	info := &Info{Mounts: ms}
	rootDir := "/proc/" + strconv.Itoa(pid) + "/root"
	for _, pattern := range DefaultMasked {
		paths := []string{pattern}
		if strings.Contains(pattern, "*") {
			paths, _ = filepath.Glob(rootDir + pattern)
			for i := range paths {
				paths[i] = strings.TrimPrefix(paths[i], rootDir)
			}
		}
		for _, p := range paths {
			var st unix.Stat_t
			if unix.Lstat(rootDir+p, &st) != nil {
				continue // missing here
			}
			if masked(ms, p, &st) {
				info.Masked = append(info.Masked, p)
			} else {
				info.Unmasked = append(info.Unmasked, p)
			}
		}
	}
	for _, p := range DefaultReadOnly {
		var st unix.Stat_t
		if unix.Lstat(rootDir+p, &st) != nil {
			continue
		}
		if m := covering(ms, p); m != nil && hasOpt(m.Options, "ro") {
			info.ReadOnly = append(info.ReadOnly, p)
		} else {
			info.Writable = append(info.Writable, p)
		}
	}
	for _, m := range ms {
		for _, h := range host {
			if h.Major == m.Major && h.Minor == m.Minor && (m.Root == h.Root || h.Root == "/" || strings.HasPrefix(m.Root, h.Root+"/")) {
				info.HostVisible = append(info.HostVisible, HostMount{
					Mountpoint: m.Mountpoint, HostMountpoint: h.Mountpoint, Root: m.Root,
					FSType: m.FSType, Source: m.Source, ReadOnly: hasOpt(m.Options, "ro"),
				})
				break
			}
		}
	}
	sort.Slice(info.HostVisible, func(i, j int) bool { return info.HostVisible[i].Mountpoint < info.HostVisible[j].Mountpoint })
	return info, nil
}

// masked reports a /dev/null-like device at p, or an empty read-only tmpfs
// mounted on it.
func masked(ms []*mountinfo.Info, p string, st *unix.Stat_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		return unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 3
	case unix.S_IFDIR:
		m := covering(ms, p)
		return m != nil && m.Mountpoint == p && m.FSType == "tmpfs" && hasOpt(m.Options, "ro")
	}
	return false
}

// covering returns the mount that p lies on: the last-mounted of those with the
// longest mount point that is p or one of its parents.
func covering(ms []*mountinfo.Info, p string) *mountinfo.Info {
	var best *mountinfo.Info
	for _, m := range ms {
		mp := m.Mountpoint
		if mp == p || mp == "/" || strings.HasPrefix(p, mp+"/") {
			if best == nil || len(mp) >= len(best.Mountpoint) {
				best = m
			}
		}
	}
	return best
}

func hasOpt(opts, o string) bool {
	for _, x := range strings.Split(opts, ",") {
		if x == o {
			return true
		}
	}
	return false
}

func readTable(pid int) ([]*mountinfo.Info, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mountinfo.GetMountsFromReader(f, nil)
}
