package spec

import (
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/namespace"
)

// validateIDs checks the IDs the target runs with, before anything is cloned: each
// within 0..namespace.MaxID (the kernel's set*id calls read 4294967295 as -1, "leave
// unchanged", so a switch to it would keep root), at most MaxGroups supplementary
// groups, and, in a new user namespace, each ID mapped by the namespace's maps, as
// is 0, which the child becomes first to set the sandbox up.
func (s *Spec) validateIDs(c ids) error {
	u := s.User
	if u == nil {
		u = &User{}
	}
	if err := checkID("user.uid", u.UID); err != nil {
		return err
	}
	if err := checkID("user.gid", u.GID); err != nil {
		return err
	}
	if len(u.Groups) > MaxGroups {
		return specErr("user.groups", "%d groups, the kernel takes at most %d (NGROUPS_MAX)", len(u.Groups), MaxGroups)
	}
	for i, g := range u.Groups {
		if err := checkID(fmt.Sprintf("user.groups[%d]", i), g); err != nil {
			return err
		}
	}
	if s.Namespaces.Mode(namespace.User) == namespace.Host && len(u.Groups) > 0 && ownSetgroups() == namespace.SetgroupsDeny {
		return specErr("user.groups", "the caller's own user namespace, which the sandbox stays in, denies setgroups(2): "+
			"the target keeps the caller's groups and can be given none of its own")
	}
	if s.Namespaces.Mode(namespace.User) != namespace.New {
		return nil
	}
	if s.Namespaces.Auto != nil && s.Rootfs.Upper != "" {
		return specErr("rootfs.upper", "a persistent writable layer (%s) with an automatic ID range: each start gets "+
			"a block of IDs of its own, so what one start writes there belongs to IDs the next does not map; "+
			"give the user namespace maps of its own (WithUserNS) or keep the layer ephemeral", s.Rootfs.Upper)
	}
	return s.checkMapped(u, c)
}

// checkID refuses an ID above namespace.MaxID, naming field and value.
func checkID(field string, id uint32) error {
	if id <= namespace.MaxID {
		return nil
	}
	return specErr(field, "%d is outside 0..%d: IDs from 2^31 up read as negative, and 4294967295 is (uid_t)-1, "+
		"which set*id calls take as \"leave unchanged\"", id, namespace.MaxID)
}

// checkMapped checks that the new user namespace's maps (given, or the single map of
// the caller's own IDs to 0) hold 0 and every ID of u, and that supplementary groups
// can be set at all.
func (s *Spec) checkMapped(u *User, c ids) error {
	uidMap, uidDesc := s.effectiveMap(s.Namespaces.UIDMap, c.uid, "uid")
	gidMap, gidDesc := s.effectiveMap(s.Namespaces.GIDMap, c.gid, "gid")
	for _, m := range []struct {
		maps []namespace.IDMap
		desc string
	}{{uidMap, uidDesc}, {gidMap, gidDesc}} {
		if !idMapped(m.maps, 0) {
			return specErr("namespaces", "the %s does not map 0, which the child becomes first to set the sandbox up", m.desc)
		}
	}
	if !idMapped(uidMap, u.UID) {
		return specErr("user.uid", "%d is not mapped in the sandbox's user namespace (%s)", u.UID, uidDesc)
	}
	if !idMapped(gidMap, u.GID) {
		return specErr("user.gid", "%d is not mapped in the sandbox's user namespace (%s)", u.GID, gidDesc)
	}
	for i, g := range u.Groups {
		if !idMapped(gidMap, g) {
			return specErr(fmt.Sprintf("user.groups[%d]", i), "%d is not mapped in the sandbox's user namespace (%s)", g, gidDesc)
		}
	}
	if len(u.Groups) > 0 && c.uid != 0 && s.setgroupsPolicy(c, false) == namespace.SetgroupsDeny {
		return specErr("user.groups", "an unprivileged caller whose gid map is its own gid alone must deny setgroups(2) in the "+
			"user namespace (see sandbox.User): supplementary groups need subordinate ranges "+
			"(namespace.DefaultRangeMaps) or a root caller")
	}
	return nil
}

// setgroupsPolicy returns what /proc/PID/setgroups of the sandbox's new user
// namespace holds for caller c, and so whether the child can set its supplementary
// groups: "allow" where root writes the maps, or where newgidmap maps a subordinate
// range (it leaves setgroups allowed); "deny" where the gid map is the caller's own
// gid alone, written by the unprivileged caller, by newgidmap (which denies
// setgroups for such a map) or by the child itself in vfork mode. Where it is
// "allow", the child drops the caller's supplementary groups; where it is "deny",
// the kernel keeps them (see User).
func (s *Spec) setgroupsPolicy(c ids, vfork bool) string {
	if vfork {
		return namespace.SetgroupsDeny
	}
	if c.uid == 0 {
		return namespace.SetgroupsAllow
	}
	g := s.Namespaces.GIDMap
	if len(g) == 0 || len(g) == 1 && g[0].Size == 1 && int(g[0].HostID) == c.gid {
		return namespace.SetgroupsDeny
	}
	return namespace.SetgroupsAllow
}

// IDMaps returns the maps that a new user namespace of s gets when the user
// callerUID (group callerGID) starts it, as Build writes them: the Spec's own
// maps; under an automatic range, the first block the range holds, which stands
// for the block each start allocates; otherwise the caller's own IDs, each mapped
// to 0. Build, Describe and package exposure all take the maps from here.
func (s *Spec) IDMaps(callerUID, callerGID int) (uidMap, gidMap []namespace.IDMap) {
	ns := &s.Namespaces
	if a := ns.Auto; a != nil {
		r := *a
		if resolved, err := a.Resolve(); err == nil {
			r = resolved // a validated Spec's range is resolved already: no file is read
		}
		return autoMap(&r, "uid"), autoMap(&r, "gid")
	}
	uidMap, gidMap = ns.UIDMap, ns.GIDMap
	if len(uidMap) == 0 {
		uidMap = namespace.OwnIDMap(callerUID)
	}
	if len(gidMap) == 0 {
		gidMap = namespace.OwnIDMap(callerGID)
	}
	return uidMap, gidMap
}

// effectiveMap returns the map a new user namespace gets for which ("uid" or "gid"),
// the caller's own id mapped to 0 when m is empty, and says it in words for errors.
func (s *Spec) effectiveMap(m []namespace.IDMap, own int, which string) ([]namespace.IDMap, string) {
	if a := s.Namespaces.Auto; a != nil {
		m = autoMap(a, which)
		return m, fmt.Sprintf("automatic %s range: blocks of %d IDs, 0 inside the first of each", which, m[0].Size)
	}
	if len(m) == 0 {
		m = namespace.OwnIDMap(own)
		return m, fmt.Sprintf("%s map %q: the caller's own %s as 0, nothing else", which, idMapLines(m), which)
	}
	return m, fmt.Sprintf("%s map %q", which, idMapLines(m))
}

// idMapLines is a map as one line: its entries separated by commas.
func idMapLines(m []namespace.IDMap) string {
	return strings.ReplaceAll(strings.TrimSuffix(string(namespace.FormatIDMap(m)), "\n"), "\n", ", ")
}

// hasGroups reports whether the target gets supplementary groups.
func (s *Spec) hasGroups() bool { return s.User != nil && len(s.User.Groups) > 0 }
