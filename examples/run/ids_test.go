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

// TestHostileUser: -u refuses every ID outside 0..2147483647, and malformed values,
// as root and rootless: 4294967295 is (uid_t)-1, which setresuid takes as "leave
// unchanged", so the command used to run as root with every capability.
func TestHostileUser(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		for _, u := range []string{"4294967295", "4294967295:4294967295", "0:4294967295", "-1", "2147483648",
			"1000:2147483648", "99999999999999999999", "-99999999999999999999"} {
			refused(t, bin, []string{"--user", u}, `-u "`+u+`"`, "outside 0..2147483647")
		}
		for _, u := range []string{"", "1:", ":1", ":", "0:-", "+1", "abc", "1 ", "0x10", "1:2:3", "٣"} {
			refused(t, bin, []string{"-u", u}, `-u "`+u+`"`, "not a number in 0..2147483647")
		}
	})
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

// TestHostileNumbers: sizes and numbers that overflow, are negative or empty stop run
// with 125 instead of wrapping to another value.
func TestHostileNumbers(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--memory", "99999999999g"}, "too large"},
			{[]string{"--memory", "17179869185g"}, "too large"},
			{[]string{"--memory", "9223372036854775808"}, "too large"},
			{[]string{"--memory", "-1"}, "not a size"},
			{[]string{"--memory", ""}, "not a size"},
			{[]string{"--memory", "g"}, "not a size"},
			{[]string{"--pids-limit", "99999999999999999999"}, "out of range"},
			{[]string{"--pids-limit", ""}, "--pids-limit"},
			{[]string{"--cpus", "1e999"}, "out of range"},
			{[]string{"--cpus", ""}, "--cpus"},
			{[]string{"--tmpfs", "/mnt:mode=77777777777"}, "mode"},
			{[]string{"--tmpfs", "/mnt:size=17179869185g"}, "more than 9223372036854775807 bytes"},
			{[]string{"--tmpfs", "/mnt:size=0100m"}, "octal"},
			{[]string{"--security-opt", "seccomp=/dev/zero"}, "not a regular file"},
		} {
			refused(t, bin, c.args, c.want)
		}
	})
}
