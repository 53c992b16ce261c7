package testutil

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// A Rerun runs some tests of the test binary again in a new process: as another
// user, in another namespace, with another environment.
type Rerun struct {
	// Pattern selects the tests to run (-test.run).
	Pattern string
	// Env is the new process's whole environment; nil means this process's.
	Env []string
	// Attr sets the new process's credentials, namespaces and so on.
	Attr *syscall.SysProcAttr
	// Dir is the new process's working directory; "" means this one's.
	Dir string
	// Exe is the test binary to run; "" means this one, copied where uid 65534
	// can run it.
	Exe string
	// Label names the other process in messages ("as uid 65534").
	Label string
	// ExtraFiles are passed to the new process as descriptors 3 and up.
	ExtraFiles []*os.File
	// Started, if set, is called with the new process's pid once it runs; the
	// process's outcome is read only after Started returns.
	Started func(pid int)
}

// Run runs the tests and reports their outcome as t's own: a failure fails t with
// the output; a run whose top-level tests all skipped skips t with their reasons;
// every skipped subtest appears below t as a skipped subtest of the same name, so
// that a skip in the other process is never reported as a pass. A pattern that
// runs no test fails t.
func (r Rerun) Run(t *testing.T) {
	t.Helper()
	exe := r.Exe
	if exe == "" {
		exe = unprivilegedCopy(t)
	}
	cmd := exec.Command(exe, "-test.run", r.Pattern, "-test.count=1", "-test.v")
	env := r.Env
	if env == nil {
		env = os.Environ()
	}
	// The copy belongs to this run: it leaves the host check to this process.
	cmd.Env = append(env[:len(env):len(env)], EnvRun+"="+runID)
	cmd.Dir, cmd.SysProcAttr, cmd.ExtraFiles = r.Dir, r.Attr, r.ExtraFiles
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err == nil {
		if r.Started != nil {
			r.Started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	text := out.String()
	label := r.Label
	if label == "" {
		label = "in a new process"
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", label, err, text)
	}
	res := ParseVerbose(text)
	if len(res.Top) == 0 {
		t.Fatalf("%s: pattern %q ran no test\n%s", label, r.Pattern, text)
	}
	if testing.Verbose() {
		t.Logf("%s:\n%s", label, text)
	}
	res.Report(t, label)
}

// Results are the outcomes that the verbose output of a test binary reports.
type Results struct {
	// Top holds the outcome ("PASS", "FAIL" or "SKIP") of each top-level test.
	Top map[string]string
	// Skipped lists the subtests that skipped, in order, with their log (the reason).
	Skipped []Skip
	// TopSkip holds the log of each top-level test that skipped.
	TopSkip map[string]string
}

// A Skip is a skipped test and what it logged.
type Skip struct {
	Name, Log string
}

var (
	resultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+) \(`)
	markerLine = regexp.MustCompile(`^=== (RUN|NAME|CONT|PAUSE)\s+(\S+)`)
)

// ParseVerbose reads the output of a test binary run with -test.v.
func ParseVerbose(text string) Results {
	res := Results{Top: map[string]string{}, TopSkip: map[string]string{}}
	logs := map[string]*strings.Builder{}
	cur := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := markerLine.FindStringSubmatch(line); m != nil {
			cur = m[2]
			continue
		}
		if m := resultLine.FindStringSubmatch(line); m != nil {
			name, outcome := m[2], m[1]
			log := ""
			if b := logs[name]; b != nil {
				log = strings.TrimSpace(b.String())
			}
			switch {
			case !strings.Contains(name, "/"):
				res.Top[name] = outcome
				if outcome == "SKIP" {
					res.TopSkip[name] = log
				}
			case outcome == "SKIP":
				res.Skipped = append(res.Skipped, Skip{Name: name, Log: log})
			}
			continue
		}
		if cur != "" && strings.HasPrefix(line, "    ") {
			if logs[cur] == nil {
				logs[cur] = &strings.Builder{}
			}
			logs[cur].WriteString(strings.TrimSpace(line) + "\n")
		}
	}
	return res
}

// Report makes t show the skips of res: t skips when every top-level test skipped,
// and each skipped subtest becomes a skipped subtest of t.
func (res Results) Report(t *testing.T, label string) {
	t.Helper()
	for _, s := range res.Skipped {
		name := s.Name
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		t.Run(name, func(t *testing.T) { t.Skipf("%s: %s", label, s.Log) })
	}
	var reasons []string
	for name, outcome := range res.Top {
		if outcome != "SKIP" {
			return
		}
		reasons = append(reasons, name+": "+res.TopSkip[name])
	}
	t.Skipf("%s: %s", label, strings.Join(reasons, "; "))
}

// RunAsNobody re-executes the test binary as uid and gid 65534, running the tests
// that match pattern with env added to this process's environment, and reports
// their outcome as t's (see Rerun.Run).
func RunAsNobody(t *testing.T, pattern string, env ...string) {
	t.Helper()
	Rerun{
		Pattern: pattern,
		Env:     append(append(os.Environ(), EnvMode+"=rootless"), env...),
		Attr:    &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}},
		Label:   "as uid 65534",
	}.Run(t)
}
