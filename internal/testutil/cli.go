package testutil

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// RunCLI runs bin with args and returns its combined output and exit code; a
// failure to run it at all fails t.
func RunCLI(t testing.TB, bin string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

// CLIRefused runs bin with args and a command that would print COMMAND-RAN, and
// checks that it exits 125 with every one of want in its message, without running
// the command.
func CLIRefused(t testing.TB, bin string, args []string, want ...string) {
	t.Helper()
	args = append(args, "--", "/bin/sh", "-c", "echo COMMAND-RAN; id")
	out, code := RunCLI(t, bin, args...)
	if code != 125 || strings.Contains(out, "COMMAND-RAN") {
		t.Errorf("%q: exit %d, output %q; want 125 and the command not run", args, code, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%q: %q does not say %q", args, out, w)
		}
	}
}
