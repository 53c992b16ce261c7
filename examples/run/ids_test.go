package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// refused runs bin with args, a command that would print COMMAND-RAN, and checks that it
// exits 125 with every one of want in its message, without running the command.
func refused(t *testing.T, bin string, args []string, want ...string) {
	t.Helper()
	args = append(args, "--", "/bin/sh", "-c", "echo COMMAND-RAN; id")
	out, code := runCmd(t, bin, args...)
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

// TestUserAtMaxID: the largest accepted ID works where it is mapped (rootful: the
// host's user namespace maps every ID) and runs without capabilities; rootless,
// where only the caller's own ID is mapped, to 0, it is refused before the start.
func TestUserAtMaxID(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		if testutil.Rootless() {
			refused(t, bin, []string{"--user", "2147483647"}, "user.uid", "2147483647 is not mapped",
				fmt.Sprintf(`uid map "0 %d 1"`, testutil.Nobody))
			return
		}
		out, code := runCmd(t, bin, "--user", "2147483647", "--", "/bin/sh", "-c", "id -u; id -g; grep CapEff /proc/self/status")
		if want := "2147483647\n2147483647\nCapEff:\t0000000000000000\n"; code != 0 || out != want {
			t.Fatalf("exit %d, output %q; want %q", code, out, want)
		}
	})
}
