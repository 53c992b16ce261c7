package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the host's cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// suiteCgroup matches a path component that the suite or a runtime made for
// it: the suite's fixed cgroupsPath names and the containers' IDs, which the
// suite draws as UUIDs.
var suiteCgroup = regexp.MustCompile(`^(cgrouptest|testdir|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)

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
// that appeared since before and are the suite's (suiteCgroup), and removes
// them. It returns what it removed.
func sweep(binary, state string, before map[string]bool) []string {
	var swept []string
	ents, _ := os.ReadDir(state)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		exec.Command(binary, "--root", state, "delete", "--force", e.Name()).Run()
		swept = append(swept, "container "+e.Name())
	}
	for _, d := range leftCgroups(before) {
		killCgroup(d)
		if err := os.Remove(d); err == nil {
			swept = append(swept, "cgroup "+d)
		}
	}
	return swept
}

// leftCgroups returns the cgroup directories that are not in before and have
// a component of the suite's, deepest first.
func leftCgroups(before map[string]bool) []string {
	now, _ := cgroupDirs()
	var left []string
	for d := range now {
		if before[d] || !suiteMade(d) {
			continue
		}
		left = append(left, d)
	}
	sort.Slice(left, func(i, j int) bool {
		return strings.Count(left[i], "/") > strings.Count(left[j], "/")
	})
	return left
}

// suiteMade reports whether a cgroup directory has a component of the suite's.
func suiteMade(dir string) bool {
	rel, err := filepath.Rel(cgroupRoot, dir)
	if err != nil {
		return false
	}
	for _, c := range strings.Split(rel, "/") {
		if suiteCgroup.MatchString(c) {
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
