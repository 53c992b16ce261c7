package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the host's cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// suiteCgroups are the fixed names the suite gives cgroupsPath
// (cgroups.AbsCgroupPath and RelCgroupPath of runtime-tools).
var suiteCgroups = map[string]bool{"cgrouptest": true, "testdir": true}

// cgroupDirs lists the directories of every cgroup hierarchy.
func cgroupDirs() (map[string]bool, error) {
	dirs := map[string]bool{}
	err := filepath.WalkDir(cgroupRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a cgroup removed while walking
		}
		if d.IsDir() {
			dirs[p] = true
		}
		return nil
	})
	return dirs, err
}

// sweep puts back what a file left: it deletes, with --force, every container
// left in the file's state directory, then kills what is in the cgroups
// that appeared since before and are the file's (a component is one of the
// suite's fixed names or the ID of a container the file created, read from the
// calls log), and removes them. Other cgroups are left alone: other work on
// the host may be making its own meanwhile. It returns what it removed.
func sweep(binary, state, calls string, before map[string]bool) []string {
	var swept []string
	ents, _ := os.ReadDir(state)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		exec.Command(binary, "--root", state, "delete", "--force", e.Name()).Run()
		swept = append(swept, "container "+e.Name())
	}
	for _, d := range leftCgroups(before, createdIDs(calls)) {
		killCgroup(d)
		if err := os.Remove(d); err == nil {
			swept = append(swept, "cgroup "+d)
		}
	}
	return swept
}

// createdIDs reads the IDs of the containers created or run in a calls log,
// whose lines are "exit N: ARGS", the ID last in a create or run.
func createdIDs(calls string) map[string]bool {
	ids := map[string]bool{}
	b, _ := os.ReadFile(calls)
	for _, line := range strings.Split(string(b), "\n") {
		_, args, ok := strings.Cut(line, ": ")
		f := strings.Fields(args)
		if ok && len(f) > 1 && (f[0] == "create" || f[0] == "run") {
			ids[f[len(f)-1]] = true
		}
	}
	return ids
}

// leftCgroups returns the cgroup directories that are not in before and have
// a component that is one of suiteCgroups or ids, deepest first.
func leftCgroups(before, ids map[string]bool) []string {
	now, _ := cgroupDirs()
	var left []string
	for d := range now {
		if before[d] || !madeBy(d, ids) {
			continue
		}
		left = append(left, d)
	}
	sort.Slice(left, func(i, j int) bool {
		return strings.Count(left[i], "/") > strings.Count(left[j], "/")
	})
	return left
}

// madeBy reports whether a cgroup directory has a component of the suite's
// fixed names or one of ids.
func madeBy(dir string, ids map[string]bool) bool {
	rel, err := filepath.Rel(cgroupRoot, dir)
	if err != nil {
		return false
	}
	for _, c := range strings.Split(rel, "/") {
		if suiteCgroups[c] || ids[c] {
			return true
		}
	}
	return false
}

// killCgroup kills the processes of a cgroup left by the suite and waits a
// little for them to leave it.
func killCgroup(dir string) {
	for i := 0; i < 50; i++ {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		pids := strings.Fields(string(b))
		if err != nil || len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stdDevices are the host's device nodes a runtime may hand a container as
// its standard streams (the suite starts the runtime with /dev/null as those)
// and change the owner of: crun 1.8 gives the container's user the
// descriptors of its standard streams, /dev/null included, where runc leaves
// /dev/null alone.
var stdDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// devOwner is the owner and mode of a device node.
type devOwner struct{ uid, gid, mode uint32 }

// devOwners reads the owner and mode of each of paths that exists.
func devOwners(paths []string) map[string]devOwner {
	out := map[string]devOwner{}
	for _, p := range paths {
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			out[p] = devOwner{st.Uid, st.Gid, st.Mode & 0o7777}
		}
	}
	return out
}

// restoreDevices puts back the owner and mode of every node of before that a
// file changed, and says what it put back.
func restoreDevices(before map[string]devOwner) []string {
	var out []string
	paths := make([]string, 0, len(before))
	for p := range before {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	now := devOwners(paths)
	for _, p := range paths {
		was, now := before[p], now[p]
		if now == was {
			continue
		}
		os.Chown(p, int(was.uid), int(was.gid))
		syscall.Chmod(p, was.mode)
		out = append(out, fmt.Sprintf("owner and mode of %s (%d:%d %o, put back to %d:%d %o)", p, now.uid, now.gid, now.mode, was.uid, was.gid, was.mode))
	}
	return out
}
