package main

import (
	"fmt"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestUserAtMaxID: the largest accepted ID works where it is mapped (rootful: the
// host's user namespace maps every ID) and runs without capabilities; rootless,
// where only the caller's own ID is mapped, to 0, it is refused before the start.
func TestUserAtMaxID(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		if testutil.Rootless() {
			testutil.CLIRefused(t, bin, []string{"--user", "2147483647"}, "user.uid", "2147483647 is not mapped",
				fmt.Sprintf(`uid map "0 %d 1"`, testutil.Nobody))
			return
		}
		out, code := testutil.RunCLI(t, bin, "--user", "2147483647", "--", "/bin/sh", "-c", "id -u; id -g; grep CapEff /proc/self/status")
		if want := "2147483647\n2147483647\nCapEff:\t0000000000000000\n"; code != 0 || out != want {
			t.Fatalf("exit %d, output %q; want %q", code, out, want)
		}
	})
}
