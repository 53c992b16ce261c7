package handshake

import (
	"os"
	"os/exec"
	"testing"
)

// TestForkedNoExec reads the parent and the flags of /proc/PID/stat after the
// last ')', whatever the command name holds.
func TestForkedNoExec(t *testing.T) {
	for _, c := range []struct {
		stat string
		want bool
	}{
		{"42 (sh) S 7 42 42 0 -1 4194368 0 0", true},  // 0x400040: PF_FORKNOEXEC
		{"42 (sh) S 7 42 42 0 -1 4194304 0 0", false}, // exec'd
		{"42 (a) S 9 (b) S 7 42 42 0 -1 64 0", true},  // a name with ") S 9 ("
		{"42 (sh) S 8 42 42 0 -1 4194368 0 0", false}, // another parent
		{"42 (sh) S 7 42 42 0 -1", false},             // cut short
		{"42 (sh) S 7 42 42 0 -1 0x40 0 0", false},    // not decimal
	} {
		if got := forkedNoExec([]byte(c.stat), 7); got != c.want {
			t.Errorf("%q: %v, want %v", c.stat, got, c.want)
		}
	}
}

// TestNeverExecuted: a child that executed its program is told apart, and a pid
// that is not our child says no.
func TestNeverExecuted(t *testing.T) {
	cmd := exec.Command("/bin/sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	if NeverExecuted(cmd.Process.Pid) {
		t.Error("an executed child is said never to have executed")
	}
	if NeverExecuted(os.Getpid()) {
		t.Error("this process is said to be a child that never executed")
	}
}
