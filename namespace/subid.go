package namespace

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// The files that grant subordinate IDs, read by newuidmap and newgidmap. Both are
// keyed by user name or numeric UID (never by group).
const (
	SubUIDFile = "/etc/subuid"
	SubGIDFile = "/etc/subgid"
)

// A SubIDRange is a range of subordinate IDs granted to a user: Count IDs from Start.
type SubIDRange struct {
	Start uint32 `json:"start"`
	Count uint32 `json:"count"`
}

// Contains reports whether the Size host IDs of m starting at m.HostID all lie in r.
func (r SubIDRange) Contains(m IDMap) bool {
	return uint64(m.HostID) >= uint64(r.Start) &&
		uint64(m.HostID)+uint64(m.Size) <= uint64(r.Start)+uint64(r.Count)
}

// SubIDRanges returns the ranges that file (in /etc/subuid format: "name:start:count"
// per line) grants to user, matched by name or, when uid >= 0, by numeric UID, in file
// order. A missing file grants nothing and is not an error. Malformed lines are
// skipped, as newuidmap does.
func SubIDRanges(file, user string, uid int) ([]SubIDRange, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	numeric := ""
	if uid >= 0 {
		numeric = strconv.Itoa(uid)
	}
	var out []SubIDRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) != 3 {
			continue
		}
		name := fields[0]
		if name == "" || (name != user && name != numeric) {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 || start+count-1 > math.MaxUint32-1 {
			continue
		}
		out = append(out, SubIDRange{Start: uint32(start), Count: uint32(count)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return out, nil
}

// userName returns the login name of uid, or "" when it has none.
func userName(uid int) string {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return ""
	}
	return u.Username
}

// DefaultRangeMaps builds the maps a rootless container engine uses by default
// (Podman's rootless default, the shape of its --userns=auto): container ID 0 is the
// caller's own uid (gid), and container IDs 1..N are the subordinate ranges that
// /etc/subuid (/etc/subgid) grants to the user uid, one entry per range, in file order.
// It fails with an error matching ErrNotSupported when either file grants nothing.
// The maps need newuidmap and newgidmap (see RunNewIDMap) unless the caller is root.
func DefaultRangeMaps(uid, gid int) (uidMap, gidMap []IDMap, err error) {
	name := userName(uid)
	uidMap, err = rangeMaps(SubUIDFile, name, uid, uint32(uid))
	if err != nil {
		return nil, nil, err
	}
	gidMap, err = rangeMaps(SubGIDFile, name, uid, uint32(gid))
	if err != nil {
		return nil, nil, err
	}
	return uidMap, gidMap, nil
}

func rangeMaps(file, name string, uid int, own uint32) ([]IDMap, error) {
	ranges, err := SubIDRanges(file, name, uid)
	if err != nil {
		return nil, err
	}
	if len(ranges) == 0 {
		who := strconv.Itoa(uid)
		if name != "" {
			who = name + " (" + who + ")"
		}
		return nil, fmt.Errorf("%w: no subordinate IDs: %s grants no range to user %s", ErrNotSupported, file, who)
	}
	maps := []IDMap{{ContainerID: 0, HostID: own, Size: 1}}
	next := uint64(1)
	for _, r := range ranges {
		// IDs on both sides stop at MaxID: a granted range that reaches above it
		// is cut short, one that starts above it is left out.
		if uint64(r.Start) > MaxID {
			continue
		}
		size := min(uint64(r.Count), MaxID+1-uint64(r.Start), MaxID+1-next)
		if size == 0 {
			break
		}
		maps = append(maps, IDMap{ContainerID: uint32(next), HostID: r.Start, Size: uint32(size)})
		next += size
	}
	return maps, nil
}

// KeepIDMaps builds the maps of Podman's --userns=keep-id for an unprivileged
// caller: uid (gid) is the same ID inside, so that files the caller owns are its
// own in the sandbox too, and the subordinate ranges that /etc/subuid (/etc/subgid)
// grants to the user uid fill the other IDs from 0 up, in file order, skipping that
// one: root inside is the first subordinate ID. The IDs inside stop at MaxID.
// It fails with an error matching ErrNotSupported when either file grants nothing, and
// for uid 0, whose own ID is host root. The maps need newuidmap and newgidmap
// (RunNewIDMap).
func KeepIDMaps(uid, gid int) (uidMap, gidMap []IDMap, err error) {
	if uid == 0 {
		return nil, nil, fmt.Errorf("%w: keep-id maps the caller's own ID inside, and root's is host root: "+
			"a root caller wants an automatic range (AutoRange)", ErrInvalid)
	}
	name := userName(uid)
	uidMap, err = keepMaps(SubUIDFile, name, uid, uint32(uid))
	if err != nil {
		return nil, nil, err
	}
	gidMap, err = keepMaps(SubGIDFile, name, uid, uint32(gid))
	if err != nil {
		return nil, nil, err
	}
	return uidMap, gidMap, nil
}

// keepMaps maps own to itself and the ranges that file grants to the user around it.
func keepMaps(file, name string, uid int, own uint32) ([]IDMap, error) {
	ranges, err := rangeMaps(file, name, uid, own)
	if err != nil {
		return nil, err
	}
	var maps []IDMap
	next := uint64(0)
	add := func(host, size uint64) {
		maps = append(maps, IDMap{ContainerID: uint32(next), HostID: uint32(host), Size: uint32(size)})
		next += size
	}
	for _, r := range ranges[1:] { // rangeMaps put own first, then the ranges
		host, left := uint64(r.HostID), uint64(r.Size)
		for left > 0 && next <= MaxID {
			if next == uint64(own) {
				add(uint64(own), 1)
				continue
			}
			n := min(left, MaxID+1-next)
			if next < uint64(own) {
				n = min(n, uint64(own)-next)
			}
			add(host, n)
			host, left = host+n, left-n
		}
	}
	if next <= uint64(own) {
		// The ranges end below own: it is mapped on its own, past a gap.
		maps = append(maps, IDMap{ContainerID: own, HostID: own, Size: 1})
	}
	return maps, nil
}
