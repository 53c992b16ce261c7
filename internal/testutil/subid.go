package testutil

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// AutoRangeLine is the line that GrantAutoRange adds to /etc/subuid and
// /etc/subgid: the range that namespace.NoRangeError suggests to
// namespace.AutoUser (spelled out here, since the namespace package's tests use
// this one; a test checks that they agree).
const AutoRangeLine = autoUser + ":1879048192:134217728"

const autoUser = "containers"

// subIDFiles are namespace.SubUIDFile and namespace.SubGIDFile.
var subIDFiles = []string{"/etc/subuid", "/etc/subgid"}

// GrantAutoRange makes /etc/subuid and /etc/subgid grant namespace.AutoUser a
// range for as long as the test binary runs, so that a root caller's rootless
// sandboxes (namespace.AutoRange's defaults) can start, and returns the function
// that takes it back. Where a file grants the user a range of the host's own, it
// is left alone; otherwise AutoRangeLine is put first, one copy for each test
// binary that runs at once (go test runs packages in parallel), and the undo
// removes one copy (and a file it created, left empty): the files end as they
// began. Both steps hold an flock on the
// file, which the test binaries share. Root only; for others it does nothing.
func GrantAutoRange() (undo func(), err error) {
	if os.Geteuid() != 0 {
		return func() {}, nil
	}
	var undos []func()
	undo = func() {
		for _, u := range undos {
			u()
		}
	}
	for _, file := range subIDFiles {
		u, err := grantIn(file, AutoRangeLine)
		if err != nil {
			undo()
			return nil, err
		}
		undos = append(undos, u)
	}
	return undo, nil
}

// GrantSubIDs grants the subordinate range line ("user:start:count") in
// /etc/subuid and /etc/subgid until t ends, as GrantAutoRange does: unless a file
// holds a range of the user's own, the line is put first and taken back after. It
// skips t for a caller other than root.
func GrantSubIDs(t testing.TB, line string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("granting subordinate IDs needs root")
	}
	for _, file := range subIDFiles {
		undo, err := grantIn(file, line)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(undo)
	}
}

// grantIn puts line first in file unless it holds another line of the same
// user's, and returns the undo.
func grantIn(file, line string) (func(), error) {
	user, _, _ := strings.Cut(line, ":")
	added, created := false, false
	if _, err := os.Stat(file); os.IsNotExist(err) {
		created = true
	}
	err := editLocked(file, func(data []byte) []byte {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, user+":") && l != line {
				return data // a range of the host's own
			}
		}
		added = true
		// First, so that a last line without its newline stays as it is.
		return append([]byte(line+"\n"), data...)
	})
	if err != nil || !added {
		return func() {}, err
	}
	return func() {
		editLocked(file, func(data []byte) []byte {
			ours := []byte(line + "\n")
			for i := 0; i+len(ours) <= len(data); {
				if bytes.HasPrefix(data[i:], ours) {
					return append(data[:i:i], data[i+len(ours):]...)
				}
				j := bytes.IndexByte(data[i:], '\n')
				if j < 0 {
					break
				}
				i += j + 1
			}
			return data
		})
		if st, err := os.Stat(file); created && err == nil && st.Size() == 0 {
			os.Remove(file)
		}
	}, nil
}

// editLocked rewrites file in place with edit's result, holding an exclusive
// flock on it, and leaves it untouched where edit changes nothing.
func editLocked(file string, edit func([]byte) []byte) error {
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	data := make([]byte, st.Size)
	if _, err := f.ReadAt(data, 0); err != nil && st.Size > 0 {
		return err
	}
	out := edit(append([]byte(nil), data...))
	if bytes.Equal(out, data) {
		return nil
	}
	if _, err := f.WriteAt(out, 0); err != nil {
		return err
	}
	return f.Truncate(int64(len(out)))
}

// autoLockDir and autoLockFile are namespace.AutoLockDir and
// namespace.LockFileName, the lock file that a root caller's rootless sandboxes
// create (TestAutoRangeLine checks that they agree).
const (
	autoLockDir  = "/run/paddock/ids"
	autoLockFile = "blocks.lock"
)

// removeIdleLockDir removes the lock file of automatic allocations and its
// directory when no process holds a block: it takes a write lock on the whole
// file first (fcntl(F_OFD_SETLK), as the blocks' locks are), so that a holder
// makes it fail, and unlinks the file while it holds it; a process that still
// has the file open makes it anew (namespace's lockFile.open).
func removeIdleLockDir() {
	file := autoLockDir + "/" + autoLockFile
	f, err := os.OpenFile(file, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk) != nil {
		return // a block is held
	}
	os.Remove(file)
	os.Remove(autoLockDir)
	os.Remove("/run/paddock") // only if empty, as internal/owner leaves it
}
