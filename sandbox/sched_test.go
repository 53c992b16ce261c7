package sandbox_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// statFields returns the fields of /proc/self/stat after the command name, as
// the target read it: index 0 is the state (field 3).
func statFields(t *testing.T, out string) []string {
	t.Helper()
	i := strings.LastIndexByte(out, ')')
	if i < 0 {
		t.Fatalf("no stat line: %q", out)
	}
	return strings.Fields(out[i+1:])
}

// TestScheduler: the target runs under SCHED_BATCH (policy 3) with nice 19, and
// as an unprivileged caller a realtime policy is refused by Build, naming the
// field.
func TestScheduler(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, []sandbox.Option{sandbox.WithScheduler(sandbox.Scheduler{Policy: "SCHED_BATCH", Nice: 19})}, "/bin/cat", "/proc/self/stat")
		f := statFields(t, out)
		if !st.Success() || len(f) < 39 || f[16] != "19" || f[38] != "3" {
			t.Fatalf("inside: %v, nice and policy %q", st, out)
		}
		if !testutil.Rootless() {
			return
		}
		_, err := sandbox.NewBuilder(sandbox.WithScheduler(sandbox.Scheduler{Policy: "SCHED_FIFO", Priority: 10})).Build()
		var se *sandbox.SpecError
		if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &se) || se.Field != "scheduler.policy" {
			t.Fatalf("SCHED_FIFO without CAP_SYS_NICE: %v", err)
		}
		_, err = sandbox.NewBuilder(sandbox.WithScheduler(sandbox.Scheduler{Policy: "SCHED_OTHER", Nice: -5})).Build()
		if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &se) || se.Field != "scheduler.nice" {
			t.Fatalf("a lower nice without CAP_SYS_NICE: %v", err)
		}
	})
}

// TestIOPriority: the target runs in the best-effort I/O class at priority 6.
func TestIOPriority(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if _, err := os.Stat("/usr/bin/ionice"); err != nil {
			t.Skipf("ionice, which reads the class inside: %v", err)
		}
		out, st := run(t, []sandbox.Option{sandbox.WithIOPriority("IOPRIO_CLASS_BE", 6)}, "/usr/bin/ionice")
		if !st.Success() || strings.TrimSpace(out) != "best-effort: prio 6" {
			t.Fatalf("inside: %v %q", st, out)
		}
		_, err := sandbox.NewBuilder(sandbox.WithIOPriority("IOPRIO_CLASS_BE", 8)).Build()
		if !errors.Is(err, sandbox.ErrInvalidSpec) {
			t.Fatalf("priority 8: %v", err)
		}
	})
}

// TestCPUAffinity: the target runs on the final CPU list only.
func TestCPUAffinity(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, []sandbox.Option{sandbox.WithCPUAffinity("", "0")}, "/bin/grep", "Cpus_allowed_list", "/proc/self/status")
		if !st.Success() || strings.Fields(out)[len(strings.Fields(out))-1] != "0" {
			t.Fatalf("inside: %v %q", st, out)
		}
		_, err := sandbox.NewBuilder(sandbox.WithCPUAffinity("0-4095", "")).Build()
		var se *sandbox.SpecError
		if !errors.Is(err, sandbox.ErrInvalidSpec) || !errors.As(err, &se) || se.Field != "cpuAffinity.initial" {
			t.Fatalf("offline CPUs: %v", err)
		}
	})
}
