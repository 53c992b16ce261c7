package testutil

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/bootcache"
	"github.com/paddock-sandbox/paddock/internal/owner"
	"golang.org/x/sys/unix"
)

// EnvRun carries the run ID of the test binary that started a re-executed one (see
// RunID); its presence tells Main that another process owns the host check.
const EnvRun = "PADDOCK_TEST_RUN"

var runID = func() string {
	if id := os.Getenv(EnvRun); id != "" {
		return id
	}
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// RunID identifies this run of a test binary, the same in the copies it
// re-executes. Host objects that a test names itself (a cgroup parent, a
// directory under /run) carry it, so that Main can tell them from those of test
// binaries running beside this one.
func RunID() string { return runID }

// Main runs the tests of a package, then checks that they left the host as they
// found it, and fails the run, naming each leftover, when they did not. It runs
// the tests with a private temporary directory (TMPDIR, mode 1777 so that uid
// 65534 can use it too) and as a child subreaper, so that whatever the tests
// leave can be told from what test binaries running beside it leave:
//
//   - entries left in the private temporary directory (staging directories of
//     templates, temporary roots, built probes);
//   - processes left running: children, and orphans of processes the tests
//     started, which the subreaper inherits (those that already exited are
//     reaped without a word: a sandbox whose parent died is one);
//   - mounts in this mount namespace below the private temporary directory;
//   - cgroup directories, in any hierarchy, whose name carries RunID, or that the
//     library created for this process (the owner ID in their names);
//   - entries below /run whose name carries RunID, and the lock file of this
//     process's owner ID (a Template not closed).
//
// It also removes the default parent cgroups that sandboxes created once they are
// empty (RemoveCgroupParents), and, as root, grants namespace.AutoUser a
// subordinate range for the run (GrantAutoRange), which a root caller's rootless
// sandboxes draw from, and takes it back after. Call it from TestMain; re-executed copies of the
// test binary (EnvRun set) only run their tests.
func Main(m *testing.M) {
	startPoller()
	// Probes learn afresh in every run, and leave no boot cache entry behind.
	os.Setenv(bootcache.EnvOff, "off")
	if os.Getenv(EnvRun) != "" {
		code := m.Run()
		if left := ownerLeft(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: the tests left the host changed:\n  %s\n", strings.Join(left, "\n  "))
			code = 1
		}
		os.Exit(code)
	}
	h, err := startHostCheck()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testutil: %v\n", err)
		os.Exit(1)
	}
	_, idsErr := os.Stat(autoLockDir)
	undo, err := GrantAutoRange()
	if err != nil {
		fmt.Fprintf(os.Stderr, "testutil: grant %s a subordinate range: %v\n", autoUser, err)
		os.Exit(1)
	}
	code := m.Run()
	undo()
	if os.IsNotExist(idsErr) {
		removeIdleLockDir() // made by the tests' rootless sandboxes
	}
	RemoveCgroupParents()
	if left := h.leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: the tests left the host changed:\n  %s\n", strings.Join(left, "\n  "))
		code = 1
	}
	h.finish()
	os.Exit(code)
}

// hostCheck is what Main notes before the tests run.
type hostCheck struct {
	tmp, oldTmp string
}

func startHostCheck() (*hostCheck, error) {
	os.Setenv(EnvRun, runID)
	old := os.TempDir()
	// Short: Podman refuses a run root of more than 50 characters below it.
	tmp := filepath.Join(old, "paddock-"+runID)
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
		os.Remove(tmp)
		return nil, err
	}
	// Owned by uid 65534: a rootless sandbox on the host's "/" sees it through an
	// overlay, and writing below it copies it up, which needs its owner mapped in
	// the sandbox's user namespace (else EOVERFLOW); /tmp itself is root's, but
	// it is the root of its overlay, which is never copied up.
	if os.Geteuid() == 0 {
		os.Chown(tmp, Nobody, Nobody)
	}
	os.Setenv("TMPDIR", tmp)
	// Orphans of the processes the tests start come to this process, not to init.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	return &hostCheck{tmp: tmp, oldTmp: old}, nil
}

// leftovers returns what the tests left, one line each.
func (h *hostCheck) leftovers() []string {
	var left []string
	left = append(left, h.tmpLeft()...)
	left = append(left, childrenLeft(time.Second)...)
	left = append(left, h.mountsLeft()...)
	left = append(left, cgroupsLeft()...)
	left = append(left, runLeft()...)
	left = append(left, ownerLeft()...)
	return left
}

// ownerLeft reports a liveness lock that this process still holds (package
// internal/owner): a Template not closed, or a sandbox with a cgroup not waited
// for, whose lock file would outlive the tests. It releases the lock.
func ownerLeft() []string {
	id, held := owner.Held()
	if !held {
		return nil
	}
	owner.Release()
	return []string{"the owner lock " + id + " is still held: a Template was not closed or a sandbox with a cgroup not waited for"}
}

// finish removes what the tests left, as far as it can: mounts below the private
// temporary directory, the directory itself, cgroups and /run entries that carry
// the run ID.
func (h *hostCheck) finish() {
	for _, m := range h.mounts() {
		unix.Unmount(m, unix.MNT_DETACH)
	}
	for _, c := range CgroupsWithRunID() {
		RemoveCgroupTree(c)
	}
	for _, r := range runWithRunID() {
		os.RemoveAll(r)
	}
	filepath.WalkDir(h.tmp, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(h.tmp)
	os.Setenv("TMPDIR", h.oldTmp)
}

func (h *hostCheck) tmpLeft() []string {
	ents, err := os.ReadDir(h.tmp)
	if err != nil {
		return []string{fmt.Sprintf("temporary directory %s: %v", h.tmp, err)}
	}
	var left []string
	for _, e := range ents {
		left = append(left, "temporary file or directory "+filepath.Join(h.tmp, e.Name()))
	}
	return left
}

// childrenLeft lists this process's children that still run, giving them up to
// patience to finish; it then kills them, and reaps every child.
func childrenLeft(patience time.Duration) []string {
	deadline := time.Now().Add(patience)
	for {
		var running []proc
		for _, k := range children() {
			if k.state == "Z" {
				var ws syscall.WaitStatus
				syscall.Wait4(k.pid, &ws, syscall.WNOHANG, nil)
				continue
			}
			running = append(running, k)
		}
		if len(running) == 0 {
			return nil
		}
		if time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var left []string
		for _, k := range running {
			left = append(left, fmt.Sprintf("process %d (%s) still runs", k.pid, k.comm))
			syscall.Kill(k.pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(k.pid, &ws, 0, nil)
		}
		return left
	}
}

type proc struct {
	pid         int
	comm, state string
}

// children returns this process's children, read from /proc/PID/stat.
func children() []proc {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == self {
			out = append(out, proc{pid: pid, comm: s[open+1 : close], state: f[0]})
		}
	}
	return out
}

// mounts returns the mount points of this mount namespace below the private
// temporary directory, innermost last.
func (h *hostCheck) mounts() []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mps []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && (f[4] == h.tmp || strings.HasPrefix(f[4], h.tmp+"/")) {
			mps = append(mps, f[4])
		}
	}
	return mps
}

func (h *hostCheck) mountsLeft() []string { return prefixed("mount on ", h.mounts()) }

// cgroupsWithRunID returns the cgroup directories, in every hierarchy, whose name
// carries the run ID.
// CgroupsWithRunID lists the cgroup directories, in every hierarchy, whose name
// holds this run's ID (RunID): what a test's cgroups left behind.
func CgroupsWithRunID() []string {
	var dirs []string
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.Contains(d.Name(), runID) {
			dirs = append(dirs, p)
			return filepath.SkipDir
		}
		return nil
	})
	sort.Strings(dirs)
	return dirs
}

func cgroupsLeft() []string { return prefixed("cgroup ", CgroupsWithRunID()) }

// RemoveCgroupTree removes the cgroup directory root and those below it,
// deepest first, killing the processes in them first, and returns those that
// are still busy (a process that has not finished dying).
func RemoveCgroupTree(root string) []string {
	var dirs []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var busy []string
	for i := len(dirs) - 1; i >= 0; i-- {
		if b, err := os.ReadFile(filepath.Join(dirs[i], "cgroup.procs")); err == nil {
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if err := syscall.Rmdir(dirs[i]); err != nil && !os.IsNotExist(err) {
			busy = append(busy, dirs[i])
		}
	}
	return busy
}

// runWithRunID returns the entries of /run and /run/paddock whose name carries
// the run ID.
func runWithRunID() []string {
	var paths []string
	for _, dir := range []string{"/run", "/run/paddock"} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), runID) {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	return paths
}

func runLeft() []string { return prefixed("run-time entry ", runWithRunID()) }

func prefixed(prefix string, items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = prefix + s
	}
	return out
}

// startPoller makes the Go runtime open its poller's descriptors (an epoll
// instance and an eventfd, opened on the first pollable file and never closed)
// before any test counts this process's descriptors: else the first test to
// open a pipe would seem to leak two.
func startPoller() {
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
	}
}
