// Package bootcache keeps what a feature probe learnt about the running kernel in a
// small file, so that the processes started after it during the same boot skip the
// probe: a short-lived front end that builds one sandbox and exits would otherwise
// clone a probe child on every run.
//
// An entry is valid for one kernel release, one boot (the kernel's random boot_id)
// and one effective user: it lives in that user's own directory (internal/owner's
// Dir: /run/paddock for root, $XDG_RUNTIME_DIR/paddock or paddock-UID in the
// temporary directory for others) and says which release and boot it was learnt
// on. A file that is not the caller's, is open to others, is too long or does not
// parse, or names another release or boot, is a miss; so is any error reading or
// writing it. A miss costs the probe, never a wrong answer from another boot.
//
// The environment variable PADDOCK_PROBE_CACHE=off turns the cache off: every
// Load misses and Store writes nothing (the test suites set it, so that they leave
// no entry behind).
package bootcache

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/internal/owner"
)

// header is the first line of every entry, naming the format.
const header = "paddock probe cache 1"

// maxSize bounds an entry's file; a longer one is a miss.
const maxSize = 4096

// EnvOff names the environment variable that turns the cache off when it is "off".
const EnvOff = "PADDOCK_PROBE_CACHE"

// off reports whether the environment turns the cache off.
func off() bool { return os.Getenv(EnvOff) == "off" }

// dir returns the directory of the entries, creating it; tests point it elsewhere.
var dir = owner.Dir

// UseDir makes the cache keep its entries in d, a directory of the caller's, and
// returns a function that restores the default; for tests.
func UseDir(d string) (restore func()) {
	old := dir
	dir = func() (string, error) { return d, nil }
	return func() { dir = old }
}

// identity returns the kernel release and boot ID an entry is valid for; tests
// replace it to play another boot.
var identity = func() (release, boot string, ok bool) {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return "", "", false
	}
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", "", false
	}
	return unix.ByteSliceToString(u.Release[:]), strings.TrimSpace(string(b)), true
}

// Load returns the value stored under name for this kernel, boot and user, or
// false for a miss.
func Load(name string) (string, bool) {
	if off() || !validName(name) {
		return "", false
	}
	d, err := dir()
	if err != nil {
		return "", false
	}
	data, ok := read(filepath.Join(d, name))
	if !ok {
		return "", false
	}
	want, ok := prefix()
	if !ok || !bytes.HasPrefix(data, []byte(want)) {
		return "", false
	}
	value, ok := strings.CutSuffix(string(data[len(want):]), "\n")
	if !ok || !validValue(value) {
		return "", false
	}
	return value, true
}

// Store keeps value under name for this kernel, boot and user, replacing what
// was there. A value must be one line of printable ASCII; Store drops any other,
// and fails silently: a later Load then misses.
func Store(name, value string) {
	if off() || !validValue(value) || !validName(name) {
		return
	}
	want, ok := prefix()
	if !ok {
		return
	}
	d, err := dir()
	if err != nil {
		return
	}
	f, err := os.CreateTemp(d, "."+name+".*")
	if err != nil {
		return
	}
	_, werr := f.WriteString(want + value + "\n")
	if cerr := f.Close(); werr != nil || cerr != nil || os.Rename(f.Name(), filepath.Join(d, name)) != nil {
		os.Remove(f.Name())
	}
}

// prefix returns the lines that begin an entry valid for this kernel, boot and
// user.
func prefix() (string, bool) {
	release, boot, ok := identity()
	if !ok || !validValue(release) || !validValue(boot) {
		return "", false
	}
	return header + "\nrelease " + release + "\nboot " + boot + "\nuid " + strconv.Itoa(os.Geteuid()) + "\n", true
}

// read returns the contents of the entry at path when it is a regular file of
// the caller's, that only the caller may read or write, of at most maxSize bytes.
func read(path string) ([]byte, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		int(st.Uid) != os.Geteuid() || st.Mode&0o077 != 0 || st.Size > maxSize {
		return nil, false
	}
	buf := make([]byte, maxSize+1)
	n, err := unix.Read(fd, buf)
	if err != nil || n > maxSize || int64(n) != st.Size {
		return nil, false
	}
	return buf[:n], true
}

// validValue reports whether s is one line of printable ASCII, at most 1 KiB.
func validValue(s string) bool {
	if len(s) == 0 || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// validName reports whether name can name an entry: a plain file name of
// letters, digits and dashes.
func validName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
