package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// Config is what an image's configuration says about the process to run, with
// its user resolved against the image's own /etc/passwd and /etc/group.
type Config struct {
	// Entrypoint and Cmd make the default command line: Entrypoint followed by
	// Cmd, where a caller's arguments replace Cmd (see Args).
	Entrypoint []string
	Cmd        []string
	// Env is the image's environment, KEY=VALUE.
	Env []string
	// WorkingDir is the directory to run in; "" means "/".
	WorkingDir string
	// User is the image's user as it gives it: "", NAME or UID, with an
	// optional :GROUP or :GID.
	User string
	// UID, GID and Groups are User resolved: names looked up in the image's
	// /etc/passwd and /etc/group, read from its layers, never the host's;
	// Groups are the groups of /etc/group that list the user. No User is root,
	// 0:0.
	UID, GID uint32
	Groups   []uint32
}

// Args returns the command line to run: Entrypoint followed by args, or by Cmd
// when args is empty, as podman run does.
func (c *Config) Args(args []string) []string {
	out := append([]string(nil), c.Entrypoint...)
	if len(args) == 0 {
		return append(out, c.Cmd...)
	}
	return append(out, args...)
}

// MergeEnv returns base with the entries of over added, an entry of over
// replacing one of base with the same key, in base's order.
func MergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	index := map[string]int{}
	for i, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		index[k] = i
	}
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// configFrom takes the process settings of an image's configuration and
// resolves its user in the layers (lowest first).
func configFrom(cf *v1.ConfigFile, layers []string) (Config, error) {
	c := Config{
		Entrypoint: cf.Config.Entrypoint,
		Cmd:        cf.Config.Cmd,
		Env:        cf.Config.Env,
		WorkingDir: cf.Config.WorkingDir,
		User:       cf.Config.User,
	}
	if c.WorkingDir != "" && !filepath.IsAbs(c.WorkingDir) {
		c.WorkingDir = "/" + c.WorkingDir
	}
	var err error
	c.UID, c.GID, c.Groups, err = resolveUser(layers, c.User)
	if err != nil {
		return c, fmt.Errorf("image user %q: %w", c.User, err)
	}
	return c, nil
}

// resolveUser reads user ("NAME|UID[:GROUP|GID]") as podman does: a name must
// be in the image's /etc/passwd, a number need not be (its group is then 0
// unless given).
func resolveUser(layers []string, user string) (uid, gid uint32, groups []uint32, err error) {
	if user == "" {
		return 0, 0, nil, nil
	}
	name, group, hasGroup := strings.Cut(user, ":")
	passwd, err := readLayered(layers, "etc/passwd")
	if err != nil {
		return 0, 0, nil, err
	}
	uid, gid, found, err := lookupPasswd(passwd, name)
	if err != nil {
		return 0, 0, nil, err
	}
	var groupFile []byte
	if hasGroup || found {
		if groupFile, err = readLayered(layers, "etc/group"); err != nil {
			return 0, 0, nil, err
		}
	}
	if hasGroup {
		if gid, err = lookupGroup(groupFile, group); err != nil {
			return 0, 0, nil, err
		}
	}
	if found {
		groups = memberOf(groupFile, passwdName(passwd, uid, name), gid)
	}
	return uid, gid, groups, nil
}

// lookupPasswd finds name (or a number) in an /etc/passwd.
func lookupPasswd(passwd []byte, name string) (uid, gid uint32, found bool, err error) {
	n, numErr := parseID(name)
	for _, f := range fields(passwd, 7) {
		if f[0] == name || (numErr == nil && f[2] == name) {
			u, err1 := parseID(f[2])
			g, err2 := parseID(f[3])
			if err1 != nil || err2 != nil {
				return 0, 0, false, fmt.Errorf("/etc/passwd: malformed entry for %q", f[0])
			}
			return u, g, true, nil
		}
	}
	if numErr == nil {
		return n, 0, false, nil
	}
	return 0, 0, false, fmt.Errorf("%w: no user %q in the image's /etc/passwd", ErrNotFound, name)
}

// passwdName returns the name of uid in an /etc/passwd, or def.
func passwdName(passwd []byte, uid uint32, def string) string {
	for _, f := range fields(passwd, 7) {
		if f[2] == strconv.FormatUint(uint64(uid), 10) {
			return f[0]
		}
	}
	return def
}

// lookupGroup finds a group name or number in an /etc/group.
func lookupGroup(group []byte, name string) (uint32, error) {
	if n, err := parseID(name); err == nil {
		return n, nil
	}
	for _, f := range fields(group, 4) {
		if f[0] == name {
			return parseID(f[2])
		}
	}
	return 0, fmt.Errorf("%w: no group %q in the image's /etc/group", ErrNotFound, name)
}

// memberOf returns the groups of an /etc/group that list user, other than gid.
func memberOf(group []byte, user string, gid uint32) []uint32 {
	var out []uint32
	for _, f := range fields(group, 4) {
		g, err := parseID(f[2])
		if err != nil || g == gid {
			continue
		}
		for _, m := range strings.Split(f[3], ",") {
			if m == user {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// fields splits the lines of a colon-separated file with at least n fields.
func fields(data []byte, n int) [][]string {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Split(line, ":"); len(f) >= n {
			out = append(out, f)
		}
	}
	return out
}

// parseID reads a decimal ID below 2^31.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	return uint32(n), err
}

// maxIDFile bounds what readLayered reads of /etc/passwd or /etc/group.
const maxIDFile = 4 << 20

// readLayered reads the file rel as the overlay of layers (lowest first) would
// show it: from the highest layer that holds it, unless a higher layer whites it
// or a directory above it out. It follows no symbolic link; a missing file reads
// as empty.
func readLayered(layers []string, rel string) ([]byte, error) {
	comps := strings.Split(rel, "/")
	for i := len(layers) - 1; i >= 0; i-- {
		data, found, stop, err := readInLayer(layers[i], comps)
		if err != nil || found {
			return data, err
		}
		if stop {
			break
		}
	}
	return nil, nil
}

// readInLayer reads the file comps in one layer. stop says that the layer hides
// the lower ones' (a whiteout or an opaque directory along the path).
func readInLayer(layer string, comps []string) (data []byte, found, stop bool, err error) {
	p := layer
	for i, c := range comps {
		p = filepath.Join(p, c)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return nil, false, stop, nil
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			return nil, false, st.Rdev == 0, nil
		case unix.S_IFDIR:
			if i == len(comps)-1 {
				return nil, false, true, nil
			}
			if opaque(p) {
				stop = true
			}
		case unix.S_IFREG:
			if i != len(comps)-1 {
				return nil, false, true, nil
			}
			data, err := readFile(p)
			return data, true, true, err
		default:
			return nil, false, true, fmt.Errorf("/%s is not a regular file in the image (a symbolic link is not followed)", strings.Join(comps[:i+1], "/"))
		}
	}
	return nil, false, stop, nil
}

// opaque reports whether the store's directory p is marked opaque.
func opaque(p string) bool {
	buf := make([]byte, 1)
	for _, name := range []string{opaqueUser, opaqueTrusted} {
		if n, err := unix.Lgetxattr(p, name, buf); err == nil && n == 1 && buf[0] == 'y' {
			return true
		}
	}
	return false
}

// readFile reads at most maxIDFile bytes of the store's regular file p.
func readFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIDFile+1))
	if err == nil && len(data) > maxIDFile {
		err = errors.New("larger than 4 MiB")
	}
	return data, err
}
