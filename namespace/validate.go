package namespace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// MaxIDMapEntries is the number of lines the kernel accepts in uid_map or gid_map
// (since Linux 4.15; 5 before).
const MaxIDMapEntries = 340

// maxIDMapText is the size a map write must stay below: the kernel takes one write of
// less than a page.
const maxIDMapText = 4096

// validator holds what Validate reads from the host, so that tests can point the
// subordinate ID files elsewhere.
type validator struct {
	subuid, subgid string
}

// Validate checks s for a caller with the given real UID and GID (usually
// os.Getuid() and os.Getgid()) and returns the first problem, naming the kind, the
// path or the map entry at fault:
//
//   - an error matching ErrInvalid for an unknown kind or mode, a Join without a
//     path or with a path that is not a namespace of that kind, clock offsets
//     without a new time namespace or that would make a clock negative, or a new
//     user namespace combined with joining another kind without joining a user
//     namespace; for maps without a new user namespace, empty ranges, ranges with an
//     ID above MaxID at either end, overlapping ranges, too many entries, or, for a
//     non-root caller, maps that are neither the caller's own single ID nor granted
//     by /etc/subuid or /etc/subgid; for an automatic range (Auto) beside maps of
//     the Spec's own;
//   - an error matching ErrNotSupported when granted maps need newuidmap or
//     newgidmap and they are not on PATH, for an automatic range and a caller other
//     than root, when the kernel lacks a requested kind, and, as a *NoRangeError,
//     where an automatic range holds no block (see AutoRange.Resolve).
func (s *Spec) Validate(callerUID, callerGID int) error {
	return s.validate(callerUID, callerGID, validator{subuid: SubUIDFile, subgid: SubGIDFile})
}

func (s *Spec) validate(callerUID, callerGID int, v validator) error {
	// Walk kinds in a fixed order so that the error reported is deterministic.
	keys := make([]string, 0, len(s.NS))
	for k := range s.NS {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, name := range keys {
		k := Kind(name)
		if err := checkKind(k, s.NS[k]); err != nil {
			return err
		}
	}

	userMode := s.Mode(User)
	if userMode == New {
		for _, name := range keys {
			k := Kind(name)
			if k == User || s.NS[k].Mode != Join {
				continue
			}
			return nsError(k, s.NS[k].Path, errors.New(
				"cannot join while creating a new user namespace: setns needs CAP_SYS_ADMIN in the user namespace "+
					"that owns the target, and the new user namespace does not own it; join the owning user "+
					"namespace instead of creating one"))
		}
	}

	if s.Time != nil && s.Mode(Time) != New {
		return nsError(Time, "", errors.New("clock offsets need a new time namespace"))
	}
	if s.Time != nil {
		if err := checkTimeOffsets(s.Time); err != nil {
			return err
		}
	}

	if userMode != New {
		if s.Auto != nil {
			return nsError(User, "", errors.New("an automatic ID range needs a new user namespace"))
		}
		if len(s.UIDMap) > 0 {
			return idMapError("uid", 0, s.UIDMap[0], "ID maps need a new user namespace")
		}
		if len(s.GIDMap) > 0 {
			return idMapError("gid", 0, s.GIDMap[0], "ID maps need a new user namespace")
		}
		return nil
	}
	if err := checkUserNSEnabled(); err != nil {
		return err
	}
	if err := checkMaps("uid", s.UIDMap); err != nil {
		return err
	}
	if err := checkMaps("gid", s.GIDMap); err != nil {
		return err
	}
	if s.Auto != nil {
		return checkAuto(s, callerUID)
	}
	if callerUID == 0 {
		return nil
	}
	name := userName(callerUID)
	if err := checkGranted("uid", s.UIDMap, uint32(callerUID), v.subuid, name, callerUID, "newuidmap"); err != nil {
		return err
	}
	return checkGranted("gid", s.GIDMap, uint32(callerGID), v.subgid, name, callerUID, "newgidmap")
}

// checkAuto checks an automatic range: no maps of the Spec's own beside it, a root
// caller, and ranges that hold a block (AutoRange.Resolve, which reads
// /etc/subuid and /etc/subgid where the ranges are not given).
func checkAuto(s *Spec, callerUID int) error {
	if len(s.UIDMap) > 0 || len(s.GIDMap) > 0 {
		return idMapError("", -1, IDMap{}, "an automatic range replaces the maps: give one or the other")
	}
	if callerUID != 0 {
		return nsError(User, "", fmt.Errorf("%w: an automatic ID range needs a root caller, who alone may map IDs "+
			"it does not own; an unprivileged caller maps its subordinate IDs (DefaultRangeMaps, KeepIDMaps)", ErrNotSupported))
	}
	_, err := s.Auto.Resolve()
	return err
}

// checkKind checks one entry of Spec.NS.
func checkKind(k Kind, c Config) error {
	if !k.Valid() {
		return nsError(k, "", fmt.Errorf("unknown kind %q (want one of %v)", string(k), Kinds))
	}
	switch c.Mode {
	case "", Host:
		if c.Path != "" {
			return nsError(k, c.Path, errors.New("a path is only used with mode join"))
		}
	case New:
		if c.Path != "" {
			return nsError(k, c.Path, errors.New("a path is only used with mode join"))
		}
		if err := kernelHas(k); err != nil {
			return err
		}
	case Join:
		if c.Path == "" {
			return nsError(k, "", errors.New("mode join needs a path such as /proc/PID/ns/"+string(k)))
		}
		if err := kernelHas(k); err != nil {
			return err
		}
		if err := CheckPath(k, c.Path); err != nil {
			return err
		}
	default:
		return nsError(k, "", fmt.Errorf("unknown mode %q (want host, new or join)", string(c.Mode)))
	}
	return nil
}

// kernelHas reports, as an error matching ErrNotSupported, a kind that the
// running kernel lacks: it has no /proc/self/ns entry.
func kernelHas(k Kind) error {
	if _, err := os.Lstat(k.Path(0)); err != nil {
		return nsError(k, "", fmt.Errorf("%w: %s namespaces (%s: %v)", ErrNotSupported, k, k.Path(0), err))
	}
	return nil
}

// checkUserNSEnabled reports user namespaces disabled by sysctl.
func checkUserNSEnabled() error {
	b, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err == nil && strings.TrimSpace(string(b)) == "0" {
		return nsError(User, "", fmt.Errorf("%w: user namespaces are disabled (user.max_user_namespaces = 0)", ErrNotSupported))
	}
	return nil
}

// CheckPath opens path and checks with the NS_GET_NSTYPE ioctl that it is a namespace
// of kind k. It returns an error matching ErrInvalid otherwise. The open does not block, so
// that a FIFO given as a path is refused instead of waiting for a writer.
func CheckPath(k Kind, path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nsError(k, path, err)
	}
	defer unix.Close(fd)
	got, err := fdKind(fd)
	if err != nil {
		return nsError(k, path, err)
	}
	if got != k {
		return nsError(k, path, fmt.Errorf("is a %s namespace, not %s", got, k))
	}
	return nil
}

// fdKind returns the kind of the namespace open at fd.
func fdKind(fd int) (Kind, error) {
	t, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		if errors.Is(err, unix.ENOTTY) || errors.Is(err, unix.EINVAL) {
			return "", fmt.Errorf("not a namespace file (NS_GET_NSTYPE: %w)", err)
		}
		return "", fmt.Errorf("NS_GET_NSTYPE: %w", err)
	}
	for _, k := range Kinds {
		if k.CloneFlag() == uintptr(t) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown namespace type %#x", t)
}

// checkMaps checks the shape of one map list: sizes, bounds, overlap, count.
func checkMaps(which string, maps []IDMap) error {
	if len(maps) > MaxIDMapEntries {
		return idMapError(which, -1, IDMap{}, fmt.Sprintf("%d entries, the kernel accepts at most %d", len(maps), MaxIDMapEntries))
	}
	for i, m := range maps {
		if m.Size == 0 {
			return idMapError(which, i, m, "size is zero")
		}
		if r := beyondMaxID("container", m.ContainerID, m.Size); r != "" {
			return idMapError(which, i, m, r)
		}
		if r := beyondMaxID("host", m.HostID, m.Size); r != "" {
			return idMapError(which, i, m, r)
		}
		for j := 0; j < i; j++ {
			o := maps[j]
			if overlap(m.ContainerID, m.Size, o.ContainerID, o.Size) {
				return idMapError(which, i, m, fmt.Sprintf("container range overlaps entry %d (%s)", j, o))
			}
			if overlap(m.HostID, m.Size, o.HostID, o.Size) {
				return idMapError(which, i, m, fmt.Sprintf("host range overlaps entry %d (%s)", j, o))
			}
		}
	}
	if n := len(FormatIDMap(maps)); n >= maxIDMapText {
		return idMapError(which, -1, IDMap{}, fmt.Sprintf("map text is %d bytes, the kernel accepts less than %d", n, maxIDMapText))
	}
	return nil
}

// beyondMaxID says, in words, how the size IDs from first reach above MaxID, or
// returns "" when they do not. The sum is taken in 64 bits: it cannot wrap.
func beyondMaxID(side string, first, size uint32) string {
	last := uint64(first) + uint64(size)
	if size > 0 {
		last--
	}
	switch {
	case last <= MaxID:
		return ""
	case first > MaxID:
		return fmt.Sprintf("%s ID %d is above %d (IDs are 0..%d)", side, first, MaxID, MaxID)
	}
	return fmt.Sprintf("%s range %d..%d reaches above %d (IDs are 0..%d)", side, first, last, MaxID, MaxID)
}

func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}

// ownSingle reports whether maps is empty (meaning the caller's own ID) or the single
// map of the caller's own ID.
func ownSingle(maps []IDMap, own uint32) bool {
	return len(maps) == 0 || (len(maps) == 1 && maps[0].HostID == own && maps[0].Size == 1)
}

// checkGranted checks, for a non-root caller, that every entry of maps is the
// caller's own ID or lies in a range that file grants, and that helper is on PATH
// when a grant is needed.
func checkGranted(which string, maps []IDMap, own uint32, file, name string, uid int, helper string) error {
	if ownSingle(maps, own) {
		return nil
	}
	ranges, err := SubIDRanges(file, name, uid)
	if err != nil {
		return idMapError(which, -1, IDMap{}, err.Error())
	}
	who := name
	if who == "" {
		who = fmt.Sprint(uid)
	}
	for i, m := range maps {
		if m.HostID == own && m.Size == 1 {
			continue
		}
		granted := false
		for _, r := range ranges {
			if r.Contains(m) {
				granted = true
				break
			}
		}
		if !granted {
			return idMapError(which, i, m, fmt.Sprintf(
				"an unprivileged caller may map only its own ID (%d) or IDs that %s grants to user %s", own, file, who))
		}
	}
	if _, err := exec.LookPath(helper); err != nil {
		return helperError(helper, nil, "", missingHelper(err))
	}
	return nil
}

// UseHelper reports whether the ID maps of a new user namespace must be written by
// newuidmap and newgidmap (RunNewIDMap) rather than by the caller itself: true for a
// non-root caller whose maps are anything but its own single IDs.
func UseHelper(callerUID, callerGID int, uidMap, gidMap []IDMap) bool {
	if callerUID == 0 {
		return false
	}
	return !ownSingle(uidMap, uint32(callerUID)) || !ownSingle(gidMap, uint32(callerGID))
}
