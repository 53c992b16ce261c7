package mounts

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Propagation names a mount propagation type, as mount(8) spells it.
type Propagation string

// The propagation types.
const (
	Private     Propagation = "private"
	RPrivate    Propagation = "rprivate"
	Slave       Propagation = "slave"
	RSlave      Propagation = "rslave"
	Shared      Propagation = "shared"
	RShared     Propagation = "rshared"
	Unbindable  Propagation = "unbindable"
	RUnbindable Propagation = "runbindable"
)

// Flags returns the mount(2) flags of p, 0 for an unknown name.
func (p Propagation) Flags() uintptr {
	var f uintptr
	name := string(p)
	if strings.HasPrefix(name, "r") {
		f = unix.MS_REC
		name = name[1:]
	}
	switch name {
	case "private":
		return f | unix.MS_PRIVATE
	case "slave":
		return f | unix.MS_SLAVE
	case "shared":
		return f | unix.MS_SHARED
	case "unbindable":
		return f | unix.MS_UNBINDABLE
	}
	return 0
}

// A Mount is one mount(2) call: the default kernel filesystems, or any other mount a
// caller lists. A Flags value with MS_BIND is a bind mount of the host path Source:
// the child binds it, then remounts it with the other flags (ro, nosuid, ...).
type Mount struct {
	Source string  `json:"source"`
	Target string  `json:"target"`
	FSType string  `json:"type,omitempty"`
	Flags  uintptr `json:"flags,omitempty"`
	Data   string  `json:"data,omitempty"`
	// Propagation, if set, is applied to the mount after it is made (a
	// propagation type cannot be given in the mount(2) call that makes it).
	Propagation Propagation `json:"propagation,omitempty"`
	// CopyUp, on a tmpfs only, fills it from the root as Tmpfs.CopyUp does.
	CopyUp bool `json:"copyUp,omitempty"`
}

// String implements fmt.Stringer.
func (m Mount) String() string {
	s := fmt.Sprintf("%s on %s type %s (%s", m.Source, m.Target, m.FSType, FlagString(m.Flags))
	if m.Data != "" {
		s += "," + m.Data
	}
	return s + ")"
}

// A Bind makes a host path visible in the sandbox.
type Bind struct {
	// Source is an absolute host path; it must exist.
	Source string `json:"source"`
	// Target is the absolute path in the sandbox; missing directories are created.
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	// Recursive binds the mounts under Source too (MS_REC). Read-only then applies
	// to every one of them.
	Recursive bool `json:"recursive,omitempty"`
	// Propagation, if set, is applied to the bind after it is made.
	Propagation Propagation `json:"propagation,omitempty"`
	// IDMap makes the bind an idmapped mount with the sandbox's user namespace
	// (Podman's -v SRC:DST:idmap): a file owned by ID n on the host appears owned
	// by ID n inside, and the sandbox's root writes files as host root. Without
	// it, files owned by IDs the namespace does not map appear as the overflow ID
	// (65534) and grant the sandbox only what they grant others. It needs a new
	// user namespace whose maps root writes and a filesystem that supports
	// idmapped mounts (see IDMapSupported).
	IDMap bool `json:"idmap,omitempty"`
}

// A Tmpfs is a fresh tmpfs in the sandbox.
type Tmpfs struct {
	Target string `json:"target"`
	// Size is tmpfs's size= value: a number with an optional k, m, g or % suffix.
	// Empty means the kernel default (half of RAM).
	Size string `json:"size,omitempty"`
	// Mode is the permission of the tmpfs root, such as 0o755; 0 means 0o1777.
	Mode uint32 `json:"mode,omitempty"`
	// Options are mount(8) options: flag names (ro, nosuid, nodev, noexec, noatime,
	// ...) become flags, anything else (uid=1000, nr_inodes=...) goes to the data.
	// Empty means nosuid,nodev,noexec.
	Options []string `json:"options,omitempty"`
	// CopyUp fills the new tmpfs with what the root filesystem holds at Target
	// before the sandbox runs (Podman's tmpcopyup), so that it starts with the
	// image's files. The child stops once its mounts are made, before
	// pivot_root, and the parent copies the tree, by descriptor: directories,
	// regular files, symbolic links as links (never followed), FIFOs, and device
	// nodes where the caller may make them; modes, times, and owners where the
	// caller may set them and the sandbox's user namespace maps them. It needs a
	// root filesystem to copy from (see the sandbox package).
	CopyUp bool `json:"copyUp,omitempty"`
}

// CopiesUp reports whether a tmpfs of s is filled from the root (Tmpfs.CopyUp,
// Mount.CopyUp).
func (s *Spec) CopiesUp() bool {
	for _, m := range s.Mounts {
		if m.CopyUp {
			return true
		}
	}
	for _, t := range s.Tmpfs {
		if t.CopyUp {
			return true
		}
	}
	return false
}

// Spec is the mount part of a sandbox.
type Spec struct {
	// Defaults adds DefaultMounts: /proc, /dev with its nodes and symlinks, /dev/pts,
	// /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup.
	Defaults bool `json:"defaults,omitempty"`
	// Mounts, Binds and Tmpfs are the sandbox's own mounts, made after the defaults:
	// Mounts, then Binds, then Tmpfs, each in its order, except that a mount moves
	// before any earlier one on a path below its target (a mount on /a before one
	// on /a/b, as Docker and Podman sort them), so that none is covered.
	Mounts []Mount `json:"mounts,omitempty"`
	Binds  []Bind  `json:"binds,omitempty"`
	Tmpfs  []Tmpfs `json:"tmpfs,omitempty"`
	// Nodes are device nodes and FIFOs made after the mounts (see Node).
	Nodes []Node `json:"nodes,omitempty"`
	// Masked paths are hidden after pivot_root; missing ones are skipped. A "*" in a
	// path is expanded against the host (as in /sys/devices/system/cpu/cpu*/...).
	Masked []string `json:"masked,omitempty"`
	// ReadOnly paths are made read-only after pivot_root; missing ones are skipped.
	ReadOnly []string `json:"readOnly,omitempty"`
	// Hidden paths of the root filesystem are hidden also in a privileged sandbox
	// (see HostRoot): a directory gets an empty tmpfs, made read-only after the
	// Spec's own mounts below it, anything else a bind of /dev/null after
	// pivot_root. A hidden path that is the target of one of the Spec's mounts is
	// left to that mount; missing ones are skipped.
	Hidden []HiddenPath `json:"hidden,omitempty"`
	// Symlinks are made inside the root after the Spec's own mounts, before
	// pivot_root, with their missing parent directories; a path that exists is
	// left as it is. An OCI runtime makes the links of DefaultSymlinks this way
	// on a /dev of its configuration's own, as it makes no default mounts.
	Symlinks []Symlink `json:"symlinks,omitempty"`
	// ReadonlyRoot remounts the root filesystem read-only, last.
	ReadonlyRoot bool `json:"readonlyRoot,omitempty"`
	// RootPropagation is private (the default), slave or shared: how "/" of the
	// sandbox's mount namespace relates to the host's mounts.
	RootPropagation Propagation `json:"rootPropagation,omitempty"`
	// Chroot enters the new root with chroot instead of pivot_root (for a root that
	// pivot_root refuses, such as one on initramfs). The old root stays reachable to
	// a process that can escape a chroot.
	Chroot bool `json:"chroot,omitempty"`
}

// DefaultMasked is moby's list of masked paths.
var DefaultMasked = []string{
	"/proc/acpi",
	"/proc/asound",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/sys/devices/virtual/powercap",
	"/sys/firmware",
	"/sys/devices/system/cpu/cpu*/thermal_throttle",
}

// DefaultReadOnly is moby's list of read-only paths.
var DefaultReadOnly = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// PodmanMasked is Podman's (containers-common) variant of DefaultMasked: it also
// masks /sys/fs/selinux and leaves /proc/asound to PodmanReadOnly.
var PodmanMasked = podmanMasked()

// PodmanReadOnly is Podman's variant of DefaultReadOnly: it adds /proc/asound.
var PodmanReadOnly = append([]string{"/proc/asound"}, DefaultReadOnly...)

func podmanMasked() []string {
	var l []string
	for _, p := range DefaultMasked {
		if p != "/proc/asound" {
			l = append(l, p)
		}
	}
	return append(l, "/sys/fs/selinux")
}

// Validate checks the spec: absolute clean targets, bind sources that exist,
// known propagation names, tmpfs sizes and options.
func (s *Spec) Validate() error {
	switch s.RootPropagation {
	case "", Private, Slave, Shared, RPrivate, RSlave, RShared:
	default:
		return fmt.Errorf("%w: unknown root propagation %q (want private, slave or shared)", ErrInvalid, s.RootPropagation)
	}
	for _, m := range s.Mounts {
		if err := checkTarget(m.Target); err != nil {
			return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err, Invalid: true}
		}
		if m.Flags&unix.MS_BIND != 0 {
			if _, err := checkSource(m.Source); err != nil {
				return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: err, Invalid: true}
			}
		} else if m.FSType == "" {
			return &MountError{Source: m.Source, Target: m.Target, Flags: m.Flags, Data: m.Data, Err: errors.New("no filesystem type"), Invalid: true}
		}
		if m.Propagation != "" && m.Propagation.Flags() == 0 {
			return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: fmt.Errorf("unknown propagation %q", m.Propagation), Invalid: true}
		}
		if m.CopyUp && (m.FSType != "tmpfs" || m.Flags&unix.MS_BIND != 0) {
			return &MountError{Source: m.Source, Target: m.Target, FSType: m.FSType, Flags: m.Flags, Data: m.Data, Err: errors.New("copy-up fills a new tmpfs only"), Invalid: true}
		}
	}
	for _, b := range s.Binds {
		merr := func(err error) error {
			return &MountError{Source: b.Source, Target: b.Target, FSType: "bind", Flags: b.flags(), Err: err, Invalid: true}
		}
		if err := checkTarget(b.Target); err != nil {
			return merr(err)
		}
		if _, err := checkSource(b.Source); err != nil {
			return merr(err)
		}
		if b.Propagation != "" && b.Propagation.Flags() == 0 {
			return merr(fmt.Errorf("unknown propagation %q", b.Propagation))
		}
	}
	for _, t := range s.Tmpfs {
		if err := checkTarget(t.Target); err != nil {
			return tmpfsError(t, err)
		}
		if _, _, err := t.flagsData(); err != nil {
			return tmpfsError(t, err)
		}
	}
	for _, p := range s.Masked {
		if err := checkTarget(p); err != nil {
			return pathError("masked", p, err)
		}
	}
	for _, p := range s.ReadOnly {
		if err := checkTarget(p); err != nil {
			return pathError("readonly", p, err)
		}
	}
	for _, h := range s.Hidden {
		if err := checkTarget(h.Path); err != nil {
			return pathError("hidden", h.Path, err)
		}
	}
	for _, l := range s.Symlinks {
		if err := checkTarget(l.Path); err != nil {
			return pathError("symlink", l.Path, err)
		}
		if l.Path == "/" || l.Value == "" || strings.ContainsRune(l.Value, 0) {
			return pathError("symlink", l.Path, fmt.Errorf("cannot link it to %q", l.Value))
		}
	}
	return nil
}

func checkTarget(p string) error {
	if !filepath.IsAbs(p) {
		return errors.New("not an absolute path")
	}
	if strings.ContainsRune(p, 0) {
		return errors.New("contains a NUL byte")
	}
	if filepath.Clean(p) != p {
		return fmt.Errorf("not clean: want %q", filepath.Clean(p))
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return errors.New("contains a .. element")
		}
	}
	return nil
}

func checkSource(p string) (os.FileInfo, error) {
	if !filepath.IsAbs(p) {
		return nil, errors.New("source is not an absolute path")
	}
	return os.Stat(p)
}

func (b Bind) flags() uintptr {
	f := uintptr(unix.MS_BIND)
	if b.Recursive {
		f |= unix.MS_REC
	}
	return f
}

// flagNames maps mount(8) option names to flags; a flag with clear set is removed.
var flagNames = map[string]struct {
	flag  uintptr
	clear bool
}{
	"ro":          {unix.MS_RDONLY, false},
	"rw":          {unix.MS_RDONLY, true},
	"nosuid":      {unix.MS_NOSUID, false},
	"suid":        {unix.MS_NOSUID, true},
	"nodev":       {unix.MS_NODEV, false},
	"dev":         {unix.MS_NODEV, true},
	"noexec":      {unix.MS_NOEXEC, false},
	"exec":        {unix.MS_NOEXEC, true},
	"sync":        {unix.MS_SYNCHRONOUS, false},
	"dirsync":     {unix.MS_DIRSYNC, false},
	"noatime":     {unix.MS_NOATIME, false},
	"nodiratime":  {unix.MS_NODIRATIME, false},
	"relatime":    {unix.MS_RELATIME, false},
	"strictatime": {unix.MS_STRICTATIME, false},
}

// FlagString spells mount flags as mount(8) options, in a fixed order.
func FlagString(f uintptr) string {
	var names []string
	if f&unix.MS_RDONLY != 0 {
		names = append(names, "ro")
	} else {
		names = append(names, "rw")
	}
	for n, v := range flagNames {
		if !v.clear && v.flag != unix.MS_RDONLY && f&v.flag != 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	for _, x := range []struct {
		f uintptr
		n string
	}{{unix.MS_BIND, "bind"}, {unix.MS_REC, "rec"}, {unix.MS_REMOUNT, "remount"}} {
		if f&x.f != 0 {
			names = append(names, x.n)
		}
	}
	return strings.Join(names, ",")
}

// flagsData turns a Tmpfs into mount flags and data.
func (t Tmpfs) flagsData() (uintptr, string, error) {
	var flags uintptr = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if len(t.Options) > 0 {
		flags = 0
	}
	var data []string
	perm := t.Mode
	if perm == 0 {
		perm = 0o1777
	}
	if perm&^0o7777 != 0 {
		return 0, "", fmt.Errorf("bad mode %#o", t.Mode)
	}
	data = append(data, fmt.Sprintf("mode=%#o", perm))
	if t.Size != "" {
		if err := CheckTmpfsSize(t.Size); err != nil {
			return 0, "", err
		}
		data = append(data, "size="+t.Size)
	}
	for _, o := range t.Options {
		if v, ok := flagNames[o]; ok {
			if v.clear {
				flags &^= v.flag
			} else {
				flags |= v.flag
			}
			continue
		}
		if o == "" || strings.ContainsAny(o, ",\x00") {
			return 0, "", fmt.Errorf("bad option %q", o)
		}
		if strings.HasPrefix(o, "size=") || strings.HasPrefix(o, "mode=") {
			return 0, "", fmt.Errorf("option %q: use the Size and Mode fields", o)
		}
		data = append(data, o)
	}
	return flags, strings.Join(data, ","), nil
}

// MaxTmpfsPercent is the largest share of the RAM, in percent, a tmpfs Size may ask
// for: the kernel multiplies the number by the RAM's size in 64 bits, which a larger
// one could wrap on a large host. A larger tmpfs can be given in bytes.
const MaxTmpfsPercent = 100

// CheckTmpfsSize checks a tmpfs size= value: a whole number with an optional k, m
// or g (binary multiples, in either case) or % suffix, that the kernel reads as
// written. The kernel's memparse wraps silently past 2^64, reads a leading 0 as
// octal and 0 as "no limit at all"; CheckTmpfsSize refuses all three, as well as
// sizes above 2^63-1 bytes and above MaxTmpfsPercent. Errors match ErrInvalid.
func CheckTmpfsSize(s string) error {
	_, _, err := parseTmpfsSize(s)
	return err
}

// sizeError reports the tmpfs size s, which the kernel would not read as
// written, for reason.
func sizeError(s, reason string) error {
	return fmt.Errorf("%w: tmpfs size %q: %s", ErrInvalid, s, reason)
}

// parseTmpfsSize reads a tmpfs size= value as bytes, or as a percentage of the RAM
// when percent is true.
func parseTmpfsSize(s string) (n uint64, percent bool, err error) {
	num, shift := s, 0
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			num, shift = s[:len(s)-1], 10
		case 'm', 'M':
			num, shift = s[:len(s)-1], 20
		case 'g', 'G':
			num, shift = s[:len(s)-1], 30
		case '%':
			num, percent = s[:len(s)-1], true
		}
	}
	if num == "" || strings.Trim(num, "0123456789") != "" {
		return 0, false, sizeError(s, "want a whole number with an optional k, m, g or % suffix")
	}
	if len(num) > 1 && num[0] == '0' {
		return 0, false, sizeError(s, "a leading 0 makes the kernel read the number as octal")
	}
	v, err := strconv.ParseUint(num, 10, 64)
	switch {
	case percent && (err != nil || v > MaxTmpfsPercent):
		return 0, false, sizeError(s, fmt.Sprintf("more than %d%% of the RAM; give a larger size in bytes", MaxTmpfsPercent))
	case err != nil || v > math.MaxInt64>>shift:
		return 0, false, sizeError(s, fmt.Sprintf("more than %d bytes", int64(math.MaxInt64)))
	case v == 0:
		return 0, false, sizeError(s, "the kernel reads 0 as no limit at all; leave the size empty for the default (half of the RAM)")
	}
	return v << shift, percent, nil
}
