package namespace

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Values of /proc/PID/setgroups.
const (
	// SetgroupsAllow lets processes in the user namespace call setgroups(2) once a
	// GID map exists. Only a parent privileged over the namespace's parent may use it
	// with a directly written GID map.
	SetgroupsAllow = "allow"
	// SetgroupsDeny makes setgroups(2) fail in the user namespace forever; the kernel
	// requires it before an unprivileged process writes a GID map.
	SetgroupsDeny = "deny"
)

// FormatIDMap returns the exact text to write to a uid_map or gid_map file: one
// "container host size" line per entry. The kernel takes it in a single write.
func FormatIDMap(maps []IDMap) []byte {
	b := make([]byte, 0, len(maps)*24)
	for _, m := range maps {
		b = strconv.AppendUint(b, uint64(m.ContainerID), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(m.HostID), 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, uint64(m.Size), 10)
		b = append(b, '\n')
	}
	return b
}

// ParseIDMap parses the text of a uid_map or gid_map file (FormatIDMap's format, with
// any amount of blank space between fields). It reads what the kernel reports, so it
// takes any 32-bit numbers: the initial user namespace's map is "0 0 4294967295".
// What a map given to a sandbox may hold is Spec.Validate's to check. A malformed
// line is an error matching ErrInvalid.
func ParseIDMap(text []byte) ([]IDMap, error) {
	var out []IDMap
	for n, line := range strings.Split(string(text), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, idMapError("", -1, IDMap{}, fmt.Sprintf("line %d %q: want 3 fields", n+1, line))
		}
		var v [3]uint32
		for i := range f {
			x, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				return nil, idMapError("", -1, IDMap{}, fmt.Sprintf("line %d %q: %v", n+1, line, err))
			}
			v[i] = uint32(x)
		}
		out = append(out, IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return out, nil
}

// MapToHost returns the host ID that id inside a user namespace with maps m is, and
// whether m maps it at all.
func MapToHost(m []IDMap, id uint32) (uint32, bool) {
	for _, e := range m {
		if id >= e.ContainerID && id-e.ContainerID < e.Size {
			return e.HostID + (id - e.ContainerID), true
		}
	}
	return 0, false
}

// OwnIDMap returns the single map of id to root inside: what an unprivileged process
// may write without help.
func OwnIDMap(id int) []IDMap { return []IDMap{{ContainerID: 0, HostID: uint32(id), Size: 1}} }

// RunNewIDMap runs newgidmap and then newuidmap (the setuid helpers of the uidmap
// package) on process pid, which must be waiting for its maps. The helpers check the
// maps against /etc/subgid and /etc/subuid for the calling user; they leave setgroups
// "allow" for a range and write "deny" themselves for a single own GID. Empty uid or
// gid means the caller's own real ID mapped to 0. Errors name the helper and its
// arguments, with what it printed; a helper missing from PATH matches ErrNotSupported.
func RunNewIDMap(pid int, uid, gid []IDMap) error {
	if len(uid) == 0 {
		uid = OwnIDMap(os.Getuid())
	}
	if len(gid) == 0 {
		gid = OwnIDMap(os.Getgid())
	}
	if err := runHelper("newgidmap", pid, gid); err != nil {
		return err
	}
	return runHelper("newuidmap", pid, uid)
}

// HelperArgs returns the arguments of newuidmap or newgidmap for pid and maps.
func HelperArgs(pid int, maps []IDMap) []string {
	args := make([]string, 0, 1+3*len(maps))
	args = append(args, strconv.Itoa(pid))
	for _, m := range maps {
		args = append(args,
			strconv.FormatUint(uint64(m.ContainerID), 10),
			strconv.FormatUint(uint64(m.HostID), 10),
			strconv.FormatUint(uint64(m.Size), 10))
	}
	return args
}

func runHelper(helper string, pid int, maps []IDMap) error {
	args := HelperArgs(pid, maps)
	path, err := exec.LookPath(helper)
	if err != nil {
		return helperError(helper, args, "", missingHelper(err))
	}
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return helperError(helper, args, strings.TrimSpace(stderr.String()), err)
	}
	return nil
}
