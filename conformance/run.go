package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A runtime is one runtime under test: its name in the table and its binary.
type runtime struct {
	Name, Binary string
}

// result is one file's run under one runtime.
type result struct {
	verdict
	Output string        // where its TAP output is kept
	Took   time.Duration // its wall time
	Swept  []string      // what was left behind and removed after it
	// Again is the verdict of a second run, made for a peer that passed a
	// file Paddock failed (see confirmPeers); nil where there was none.
	Again *verdict
	// Earlier are the verdicts of Paddock's failed runs of a racing file
	// before this one (see retryRaces), oldest first.
	Earlier []verdict
}

// steady reports whether the result is a pass that holds: a pass, and a pass
// again where the file was run a second time.
func (r result) steady() bool { return r.Pass && (r.Again == nil || r.Again.Pass) }

// runner runs validation programs one at a time, each in a private mount
// namespace with the hybrid host's cgroup2 mounts detached, under a timeout,
// and puts back what each left behind.
type runner struct {
	s       *suite
	tmp     string        // the run's temporary directory
	tap     string        // where each file's TAP output is kept
	detach  []string      // mount points to detach in each file's namespace
	timeout time.Duration // for each file
	ids     []string      // the IDs of every container created so far
}

// keys returns the keys of a set.
func keys(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	return out
}

// runFile runs the validation program file against rt and judges it.
func (r *runner) runFile(ctx context.Context, rt runtime, file string) (result, error) {
	dir := filepath.Join(r.tmp, "runs", rt.Name, file)
	state := filepath.Join(dir, "state")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{state, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil { // see run's Chmod
			return result{}, err
		}
	}
	calls := filepath.Join(dir, "calls")
	wrapper, err := writeWrapper(dir, rt, state, calls)
	if err != nil {
		return result{}, err
	}
	before, err := cgroupDirs()
	if err != nil {
		return result{}, err
	}
	devices := devOwners(stdDevices)
	res := result{Output: filepath.Join(r.tap, rt.Name, file+".tap")}
	start := time.Now()
	out, exit, timedOut, err := r.exec(ctx, file, wrapper, tmp)
	res.Took = time.Since(start)
	if err != nil {
		return res, err
	}
	res.verdict = judge(out, exit, timedOut)
	res.Swept = append(sweep(rt.Binary, state, calls, before), restoreDevices(devices)...)
	r.ids = append(r.ids, keys(createdIDs(calls))...)
	if err := os.MkdirAll(filepath.Dir(res.Output), 0o755); err != nil {
		return res, err
	}
	if err := os.WriteFile(res.Output, []byte(out), 0o644); err != nil {
		return res, err
	}
	if b, err := os.ReadFile(calls); err == nil {
		os.WriteFile(strings.TrimSuffix(res.Output, ".tap")+".calls", b, 0o644)
	}
	return res, os.RemoveAll(dir)
}

// writeWrapper writes the RUNTIME the suite calls: the runtime's binary with
// a state directory of this run's own, so that nothing of the host's
// containers is seen and everything this file creates can be found. It
// appends each call, its exit status and (for paddock-runtime, whose --log
// copies its errors) the runtime's errors to calls.
func writeWrapper(dir string, rt runtime, state, calls string) (string, error) {
	p := filepath.Join(dir, "runtime")
	args := "--root " + shellQuote(state)
	if rt.Name == paddock {
		args += " --log " + shellQuote(calls)
	}
	script := fmt.Sprintf("#!/bin/sh\n%s %s \"$@\"\nrc=$?\necho \"exit $rc: $*\" >>%s\nexit $rc\n",
		shellQuote(rt.Binary), args, shellQuote(calls))
	return p, os.WriteFile(p, []byte(script), 0o755)
}

// exec runs the program in the suite's working directory, in a private mount
// namespace (unshare(1)) where r.detach are lazily unmounted first, in a
// process group of its own that is killed at the timeout. It returns the
// combined output and the exit status.
func (r *runner) exec(ctx context.Context, file, wrapper, tmp string) (string, int, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	script := ""
	for _, m := range r.detach {
		script += "umount -l " + shellQuote(m) + " || exit 125; "
	}
	script += `exec "$@"`
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", script, "sh", filepath.Join(r.s.bin, file))
	cmd.Dir = r.s.work
	cmd.Env = append(os.Environ(), "RUNTIME="+wrapper, "TMPDIR="+tmp)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	timedOut := ctx.Err() != nil
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0, false, nil
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode(), timedOut, nil
	case timedOut:
		return out.String(), -1, true, nil
	}
	return out.String(), -1, false, err
}

// hybridV2Mounts lists the cgroup2 mounts of a hybrid host: those beside v1
// hierarchies, such as /sys/fs/cgroup/unified. crun 1.8 refuses to run while
// one lists a controller, so each file runs with them detached; a pure v2 or
// pure v1 host has none.
func hybridV2Mounts() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var v1 bool
	var v2 []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		i := indexOf(fields, "-")
		if i < 0 || i+1 >= len(fields) {
			continue
		}
		switch fields[i+1] {
		case "cgroup":
			v1 = true
		case "cgroup2":
			v2 = append(v2, fields[4])
		}
	}
	if !v1 {
		return nil, sc.Err()
	}
	return v2, sc.Err()
}

// indexOf returns the index of s in list, or -1.
func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
