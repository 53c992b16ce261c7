// Package owner gives a process that creates host objects for sandboxes (cgroups,
// staging directories) an owner ID to put in their names, and a liveness lock
// that tells, after the process is gone, that what carries its ID can be
// reclaimed.
//
// The ID is random, so that names are unique across pid namespaces and reboots
// (a caller's pid is neither). The lock is an exclusive flock(2) on a file named
// after the ID, taken before anything is created and held until the process ends:
// the kernel drops it when the process dies, however it dies. Whoever can then
// take the lock knows the owner is dead; a lock file that cannot be found proves
// nothing (another /run, another user) and its objects are left alone.
//
// Hold and Drop count what carries the ID, so that the lock file goes when the
// last of it does; Reclaim removes the staging directories and cgroups of dead
// owners.
package owner

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// An Owner is this process's owner ID and its held lock.
type Owner struct {
	// ID is 16 hexadecimal digits.
	ID      string
	dir     string
	f       *os.File
	cgroups bool // the lock file says it makes cgroups (NoteCgroups)
}

var self struct {
	mu sync.Mutex
	o  *Owner
}

// Self returns this process's Owner, taking its lock on first use. It fails when
// no lock directory can be made: the caller may then go on without one, its
// objects never reclaimed by others.
func Self() (*Owner, error) {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.o != nil {
		return self.o, nil
	}
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b[:])
	f, err := os.OpenFile(filepath.Join(dir, id+".lock"), os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("owner: lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("owner: lock %s: %w", f.Name(), err)
	}
	// The lock file names this process's temporary directory, where its
	// staging directories are: a Reclaim run with another TMPDIR finds them
	// there once this owner is dead.
	f.WriteString(filepath.Clean(os.TempDir()) + "\n")
	self.o = &Owner{ID: id, dir: dir, f: f}
	return self.o, nil
}

// NoteCgroups records in the lock file, once, that this owner makes cgroups, so
// that after its death a Reclaim pass that does not list cgroups leaves its lock
// file to one that does.
func NoteCgroups() {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.o == nil || self.o.cgroups {
		return
	}
	self.o.cgroups = true
	self.o.f.WriteString(cgroupsLine + "\n")
}

// Held returns this process's owner ID while its lock is held.
func Held() (string, bool) {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.o == nil {
		return "", false
	}
	return self.o.ID, true
}

// Known returns the IDs of the lock files in Dir: owners alive or dead.
func Known() []string {
	dir, err := existingDir()
	if err != nil {
		return nil
	}
	ents, _ := os.ReadDir(dir)
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".lock"); ok && ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Release removes this process's lock file and drops the lock, for a process
// that has nothing left that carries its ID; the next Self takes a new ID. It does
// nothing when Self was never called.
func Release() {
	self.mu.Lock()
	defer self.mu.Unlock()
	if self.o == nil {
		return
	}
	os.Remove(self.o.f.Name())
	self.o.f.Close()
	os.Remove(self.o.dir) // only if empty
	self.o = nil
}

// Dir returns the directory of the lock files, creating it: /run/paddock for
// root; for anyone else $XDG_RUNTIME_DIR/paddock where that is the caller's, or
// paddock-UID in the temporary directory. The directory must be the caller's own
// and not a symbolic link, so that nobody else can plant or remove locks in it.
func Dir() (string, error) {
	uid, dir := dirPath()
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("owner: lock directory: %w", err)
	}
	if err := ownDir(dir, uid); err != nil {
		return "", err
	}
	return dir, nil
}

// existingDir is Dir where it exists already: a pass that only looks for
// owners must not leave a lock directory behind.
func existingDir() (string, error) {
	uid, dir := dirPath()
	if err := ownDir(dir, uid); err != nil {
		return "", err
	}
	return dir, nil
}

// dirPath returns the caller's effective uid and the path of its lock directory.
func dirPath() (int, string) {
	uid := os.Geteuid()
	switch xdg := os.Getenv("XDG_RUNTIME_DIR"); {
	case uid == 0:
		return uid, "/run/paddock"
	case xdg != "" && ownDir(xdg, uid) == nil:
		return uid, filepath.Join(xdg, "paddock")
	}
	return uid, filepath.Join(os.TempDir(), fmt.Sprintf("paddock-%d", uid))
}

// ownDir checks that dir is a directory owned by uid, not a symbolic link, that
// no one else may write to.
func ownDir(dir string, uid int) error {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return fmt.Errorf("owner: lock directory %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != uid || st.Mode&0o022 != 0 {
		return fmt.Errorf("owner: lock directory %s: not a directory of uid %d that only it may write (mode %o, owner %d)", dir, uid, st.Mode, st.Uid)
	}
	return nil
}

// A Dead owner is one whose lock could be taken: its process is gone. Remove its
// lock file with Release once its objects are gone; while the Dead is held, nobody
// else can judge the owner dead.
type Dead struct{ f *os.File }

// Release removes the dead owner's lock file and drops the lock.
func (d *Dead) Release() {
	os.Remove(d.f.Name())
	d.f.Close()
}

// Keep drops the lock and leaves the lock file, for an owner whose objects could
// not all be removed: a later pass tries again.
func (d *Dead) Keep() { d.f.Close() }

// cgroupsLine is the line a lock file gets once its owner makes a cgroup.
const cgroupsLine = "cgroups"

// TempDir returns the temporary directory that the dead owner's lock file names
// (where its staging directories are), or "" where it names none. The lock file
// is in the caller's own lock directory, which nobody else may write.
func (d *Dead) TempDir() string {
	lines := d.lines()
	if len(lines) == 0 || !filepath.IsAbs(lines[0]) || filepath.Clean(lines[0]) != lines[0] {
		return ""
	}
	return lines[0]
}

// MadeCgroups reports whether the dead owner's lock file says it made cgroups,
// which only a Reclaim pass that lists them can judge gone.
func (d *Dead) MadeCgroups() bool { return slices.Contains(d.lines(), cgroupsLine) }

// lines returns the complete lines of the dead owner's lock file.
func (d *Dead) lines() []string {
	var b [4096]byte
	n, _ := d.f.ReadAt(b[:], 0)
	s := string(b[:n])
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return strings.Split(s[:i], "\n")
	}
	return nil
}

// IfDead returns a *Dead when the owner id's lock file exists in Dir and its lock
// can be taken, and nil otherwise: the owner lives, is this process, or is not
// known here.
func IfDead(id string) *Dead {
	if !ValidID(id) {
		return nil
	}
	self.mu.Lock()
	mine := self.o != nil && self.o.ID == id
	self.mu.Unlock()
	if mine {
		return nil
	}
	dir, err := existingDir()
	if err != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(dir, id+".lock"), os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil
	}
	return &Dead{f: f}
}

// ValidID reports whether s has the form of an owner ID.
func ValidID(s string) bool {
	if len(s) != 16 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
