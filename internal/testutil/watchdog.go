package testutil

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// envWatchdog marks the copy of the test binary that UnderWatchdog runs.
const envWatchdog = "PADDOCK_TEST_WATCHDOG"

// UnderWatchdog runs body in a copy of the test binary, as the same user, and
// kills the copy after limit. A start that froze the Go runtime (a thread that
// the runtime must stop, asleep in a clone) would freeze the test binary with it,
// and no goroutine of a frozen program can fail its test: a watchdog outside can.
// t must be a subtest of a test that Modes runs (or ModesWith, AsNobody); its
// name's last element selects it again in the copy.
func UnderWatchdog(t *testing.T, limit time.Duration, body func(t *testing.T)) {
	t.Helper()
	if os.Getenv(envWatchdog) != "" {
		body(t)
		return
	}
	name := strings.Split(t.Name(), "/")
	pattern := "^" + regexp.QuoteMeta(name[0]) + "$/^" + regexp.QuoteMeta(name[len(name)-1]) + "$"
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	mode := os.Getenv(EnvMode)
	if mode == "" {
		mode = "rootful"
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run", pattern, "-test.count=1", "-test.v")
	// EnvMode makes Modes run its function directly; EnvRun leaves the host
	// check to this process.
	cmd.Env = append(os.Environ(), envWatchdog+"=1", EnvMode+"="+mode, EnvRun+"="+runID)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the test froze: killed after %v\n%s", limit, out)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	res := ParseVerbose(string(out))
	if len(res.Top) == 0 {
		t.Fatalf("pattern %q ran no test\n%s", pattern, out)
	}
	if testing.Verbose() {
		t.Logf("under a watchdog:\n%s", out)
	}
	res.Report(t, "under a watchdog")
}
