package emit

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/child"
)

func TestCapsShape(t *testing.T) {
	s := caps.Sets{
		Bounding:    caps.DockerDefault,
		Effective:   caps.DockerDefault,
		Permitted:   caps.DockerDefault,
		Inheritable: caps.Of(caps.NetBindService, caps.Kill),
		Ambient:     caps.Of(caps.NetBindService, caps.Kill),
	}
	var p child.Program
	Caps(&p, s)

	drops := int(caps.Last()) + 1 - caps.DockerDefault.Len()
	if want := drops + 2 + 2; len(p.Ops) != want || len(p.Steps) != want {
		t.Fatalf("%d ops and %d steps, want %d", len(p.Ops), len(p.Steps), want)
	}
	for i, st := range p.Steps {
		if st.Stage != "capabilities" {
			t.Errorf("step %d: stage %q", i, st.Stage)
		}
	}
	var dropped caps.Set
	for i, op := range p.Ops[:drops] {
		c := caps.Cap(op.Args[1])
		if op.Kind != child.KindSyscall || op.Trap != unix.SYS_PRCTL || op.Args[0] != unix.PR_CAPBSET_DROP ||
			op.Flags != child.IgnoreEINVAL || op.Args[2] != 0 {
			t.Errorf("op %d: %+v, want prctl(PR_CAPBSET_DROP, cap) ignoring EINVAL", i, op)
		}
		if want := "drop " + c.String() + " from the bounding set"; p.Steps[i].What != want {
			t.Errorf("op %d: What %q, want %q", i, p.Steps[i].What, want)
		}
		dropped = dropped.Add(c)
	}
	if dropped != caps.Full()&^caps.DockerDefault {
		t.Errorf("dropped %v, want %v", dropped, caps.Full()&^caps.DockerDefault)
	}
	if !strings.Contains(p.Steps[0].What, "CAP_DAC_READ_SEARCH") {
		t.Errorf("first step %q should drop CAP_DAC_READ_SEARCH, the lowest capability outside Docker's set", p.Steps[0].What)
	}

	clear := p.Ops[drops]
	if clear.Trap != unix.SYS_PRCTL || clear.Args != [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL} {
		t.Errorf("op %d: %+v, want prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)", drops, clear)
	}
	capset := p.Ops[drops+1]
	if capset.Kind != child.KindSyscall || capset.Trap != unix.SYS_CAPSET || capset.Args[0] == 0 || capset.Args[1] == 0 || capset.Flags != 0 {
		t.Errorf("op %d: %+v, want capset(&header, &data)", drops+1, capset)
	}
	if !strings.HasPrefix(p.Steps[drops+1].What, "capset ") {
		t.Errorf("capset step described as %q", p.Steps[drops+1].What)
	}
	for i, c := range []caps.Cap{caps.Kill, caps.NetBindService} {
		op := p.Ops[drops+2+i]
		if op.Trap != unix.SYS_PRCTL || op.Args != [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c)} || op.Flags != 0 {
			t.Errorf("op %d: %+v, want prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, %v)", drops+2+i, op, c)
		}
		if want := "raise " + c.String() + " in the ambient set"; p.Steps[drops+2+i].What != want {
			t.Errorf("step %d: %q, want %q", drops+2+i, p.Steps[drops+2+i].What, want)
		}
	}

	// Full bounding set: no drops at all.
	var q child.Program
	Caps(&q, caps.Sets{Bounding: caps.Full(), Effective: caps.Full(), Permitted: caps.Full()})
	if len(q.Ops) != 2 || q.Ops[1].Trap != unix.SYS_CAPSET {
		t.Errorf("full set: %d ops, want ambient clear and capset", len(q.Ops))
	}
}

// applyEnv names the environment variable that makes the test binary apply a compiled
// program to its own thread and exec /bin/cat /proc/self/status.
const applyEnv = "PADDOCK_CAPS_TEST_APPLY"

// The modes of applyAndExec.
const (
	modeRoot       = "root"        // Caps, stay root
	modeUser       = "user"        // Bounding, become uid/gid 65534 keeping caps, Capset
	modeCapsetOnly = "capset-only" // Capset only, stay root
	modeUserLate   = "user-late"   // become uid/gid 65534 keeping caps, then Caps
)

// applyAndExec runs in the re-executed test binary: it applies the program for the Sets in
// arg to the current thread with raw syscalls, as the sandbox child does, and execs cat.
func applyAndExec(arg string) {
	runtime.LockOSThread() // capabilities and credentials are per thread; exec from this one
	var mode string
	var s caps.Sets
	if _, err := fmt.Sscanf(arg, "%s %x %x %x %x %x", &mode, &s.Bounding, &s.Effective, &s.Permitted, &s.Inheritable, &s.Ambient); err != nil {
		fatalf("bad %s=%q: %v", applyEnv, arg, err)
	}
	var before, after child.Program
	switch mode {
	case modeRoot:
		Caps(&before, s)
	case modeUser:
		Bounding(&before, s)
		Capset(&after, s)
	case modeUserLate:
		Caps(&after, s)
	case modeCapsetOnly:
		Capset(&after, s)
	default:
		fatalf("bad mode %q", mode)
	}
	run(&before)
	if mode == modeUser || mode == modeUserLate {
		for _, sc := range [][4]uintptr{
			{unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1},
			{unix.SYS_SETGROUPS, 0, 0},
			{unix.SYS_SETRESGID, 65534, 65534, 65534},
			{unix.SYS_SETRESUID, 65534, 65534, 65534},
		} {
			if _, _, e := unix.RawSyscall(sc[0], sc[1], sc[2], sc[3]); e != 0 {
				fatalf("syscall %d: %v", sc[0], e)
			}
		}
	}
	run(&after)
	err := unix.Exec("/bin/cat", []string{"cat", "/proc/self/status"}, nil)
	fatalf("exec /bin/cat: %v", err)
}

// run executes the KindSyscall ops of p on the calling thread, as the child does.
func run(p *child.Program) {
	for i, op := range p.Ops {
		if op.Kind != child.KindSyscall {
			fatalf("op %d: kind %d", i, op.Kind)
		}
		_, _, e := unix.RawSyscall6(op.Trap, op.Args[0], op.Args[1], op.Args[2], op.Args[3], op.Args[4], op.Args[5])
		if e == unix.EINVAL && op.Flags&child.IgnoreEINVAL != 0 {
			continue
		}
		if e != 0 {
			fatalf("%s: %s: %v", p.Steps[i].Stage, p.Steps[i].What, e)
		}
	}
	runtime.KeepAlive(p)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

// execWith re-executes the test binary in mode with s and returns the sets of the program
// it execs afterwards.
func execWith(t *testing.T, mode string, s caps.Sets) caps.Sets {
	t.Helper()
	got, stderr, err := tryExecWith(t, mode, s)
	if err != nil {
		t.Fatalf("%s %v: %v: %s", mode, s, err, stderr)
	}
	return got
}

// tryExecWith is execWith returning the subprocess's failure and its stderr.
func tryExecWith(t *testing.T, mode string, s caps.Sets) (caps.Sets, string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: dropping from the bounding set requires CAP_SETPCAP")
	}
	if mine, err := caps.Inspect(0); err != nil {
		t.Fatal(err)
	} else if mine.Effective&caps.Of(caps.Setpcap, caps.Setuid, caps.Setgid) != caps.Of(caps.Setpcap, caps.Setuid, caps.Setgid) {
		t.Skipf("needs CAP_SETPCAP, CAP_SETUID and CAP_SETGID, have %v", mine.Effective)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %x %x %x %x %x", applyEnv, mode,
		uint64(s.Bounding), uint64(s.Effective), uint64(s.Permitted), uint64(s.Inheritable), uint64(s.Ambient)))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return caps.Sets{}, stderr.String(), err
	}
	got, err := parseCaps(out)
	if err != nil {
		t.Fatal(err)
	}
	return got, stderr.String(), nil
}

func TestCapsAppliedRoot(t *testing.T) {
	got := execWith(t, modeRoot, specSets(t, caps.SpecFromSet(caps.DockerDefault)))
	want := caps.Sets{Bounding: caps.DockerDefault, Effective: caps.DockerDefault, Permitted: caps.DockerDefault}
	if got != want {
		t.Errorf("after execve as root:\n got %v\nwant %v", got, want)
	}
}

func TestCapsAppliedRootAmbient(t *testing.T) {
	s := caps.Sets{Bounding: caps.PodmanDefault, Effective: caps.PodmanDefault, Permitted: caps.PodmanDefault,
		Inheritable: caps.Of(caps.NetBindService), Ambient: caps.Of(caps.NetBindService)}
	got := execWith(t, modeRoot, s)
	// Root keeps its ambient set across execve too (no file capabilities, not setuid).
	want := s
	if got != want {
		t.Errorf("after execve as root:\n got %v\nwant %v", got, want)
	}
}

func TestCapsAppliedUser(t *testing.T) {
	amb := caps.Of(caps.NetBindService, caps.NetRaw)
	s := caps.Sets{Bounding: caps.DockerDefault, Effective: amb, Permitted: amb, Inheritable: amb, Ambient: amb}
	got := execWith(t, modeUser, s)
	want := caps.Sets{Bounding: caps.DockerDefault, Effective: amb, Permitted: amb, Inheritable: amb, Ambient: amb}
	if got != want {
		t.Errorf("after execve as uid 65534:\n got %v\nwant %v", got, want)
	}

	// Without ambient capabilities a non-root program gets none.
	got = execWith(t, modeUser, specSets(t, caps.SpecFromSet(caps.DockerDefault)))
	want = caps.Sets{Bounding: caps.DockerDefault}
	if got != want {
		t.Errorf("after execve as uid 65534:\n got %v\nwant %v", got, want)
	}
}

// TestCapsAfterSetuidFails documents the pitfall of Caps's doc: setresuid from root
// to a non-root uid clears the effective set even with PR_SET_KEEPCAPS, so the bounding
// drops that follow fail for lack of CAP_SETPCAP.
func TestCapsAfterSetuidFails(t *testing.T) {
	_, stderr, err := tryExecWith(t, modeUserLate, specSets(t, caps.SpecFromSet(caps.DockerDefault)))
	if err == nil {
		t.Fatal("Caps after setresuid(65534) succeeded; expected EPERM on the first bounding drop")
	}
	if want := "capabilities: drop CAP_DAC_READ_SEARCH from the bounding set: operation not permitted"; !strings.Contains(stderr, want) {
		t.Errorf("subprocess said %q, want %q", stderr, want)
	}
}

// TestCapsetAloneIsUndone shows why Caps drops the bounding set: capset alone does not
// survive execve for root, which gets its bounding set back as permitted and effective.
func TestCapsetAloneIsUndone(t *testing.T) {
	mine, err := caps.Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	got := execWith(t, modeCapsetOnly, caps.Sets{Effective: caps.DockerDefault, Permitted: caps.DockerDefault})
	if got.Permitted != mine.Bounding || got.Effective != mine.Bounding {
		t.Errorf("capset alone, then execve as root: %v; want permitted = effective = bounding %v", got, mine.Bounding)
	}
}

// specSets resolves s or fails the test.
func specSets(t *testing.T, s caps.Spec) caps.Sets {
	t.Helper()
	r, err := s.Sets()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// parseCaps reads the Cap* lines of the /proc/self/status that cat printed.
func parseCaps(out []byte) (caps.Sets, error) {
	var s caps.Sets
	fields := map[string]*caps.Set{"CapInh": &s.Inheritable, "CapPrm": &s.Permitted,
		"CapEff": &s.Effective, "CapBnd": &s.Bounding, "CapAmb": &s.Ambient}
	seen := 0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		if dst, ok := fields[key]; ok {
			v, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
			if err != nil {
				return caps.Sets{}, fmt.Errorf("%s: %w", key, err)
			}
			*dst, seen = caps.Set(v), seen+1
		}
	}
	if seen != len(fields) {
		return caps.Sets{}, fmt.Errorf("%d of the 5 capability lines in cat's output", seen)
	}
	return s, nil
}
