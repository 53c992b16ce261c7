package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// runBinary is examples/run built once for the tests, in a directory that uid
// 65534 can reach; envRunBinary hands its path to the rootless half.
const envRunBinary = "PADDOCK_TEST_RUN_BINARY"

func runBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envRunBinary); p != "" {
		return p
	}
	return testutil.BuildForNobody(t, ".", "run")
}

// modes runs f as root and as uid 65534 with the same built binary.
func modes(t *testing.T, f func(t *testing.T, bin string)) {
	testutil.ModesWith(t, envRunBinary, runBinary, f)
}

func TestFirstCommand(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		out, code := testutil.RunCLI(t, bin, "--", "/bin/sh", "-c", "echo $$; id -u")
		if code != 0 || out != "1\n0\n" {
			t.Fatalf("exit %d, output %q; want 1 and 0", code, out)
		}
	})
}

func TestHostNamespaceFlags(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		for _, c := range []struct{ flag, kind string }{{"--uts", "uts"}, {"--pid", "pid"}, {"--net", "net"}, {"--ipc", "ipc"}} {
			out, code := testutil.RunCLI(t, bin, c.flag, "host", "--", "/bin/sh", "-c", "for k in uts pid net ipc mnt; do readlink /proc/self/ns/$k; done")
			if code != 0 {
				t.Fatalf("%s host: exit %d: %s", c.flag, code, out)
			}
			for i, k := range []string{"uts", "pid", "net", "ipc", "mnt"} {
				own, _ := os.Readlink("/proc/self/ns/" + k)
				inside := strings.Fields(out)[i]
				if shared := inside == own; shared != (k == c.kind) {
					t.Errorf("%s host: %s namespace inside %s, host %s", c.flag, k, inside, own)
				}
			}
		}
	})
}

func TestExitCodes(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		for _, c := range []struct {
			args []string
			code int
		}{
			{[]string{"--", "/bin/sh", "-c", "exit 42"}, 42},
			{[]string{"--", "no-such-program"}, 127},
			{[]string{"--", "/etc/passwd"}, 126},
			{[]string{"--workdir", "relative", "--", "/bin/true"}, 125},
			{[]string{"--cap-add", "CAP_BOGUS", "--", "/bin/true"}, 125},
			{[]string{"--", "/bin/sh", "-c", "kill -KILL $$"}, 0}, // PID 1 ignores even its own SIGKILL
		} {
			out, code := testutil.RunCLI(t, bin, c.args...)
			if code != c.code {
				t.Errorf("%q: exit %d, want %d: %s", c.args, code, c.code, out)
			}
		}
	})
}

func TestDryRun(t *testing.T) {
	bin := runBinary(t)
	out, code := testutil.RunCLI(t, bin, "--dry-run", "--privileged", "--net", "host")
	if code != 0 || !strings.Contains(out, `"privileged": true`) || !strings.Contains(out, `"net": {`) {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// TestOverlayUpperDiff keeps the writable layer in a directory and prints what the
// sandbox changed after it exits (--overlay-upper, --diff).
func TestOverlayUpperDiff(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		dir, err := os.MkdirTemp("", "paddock-upper-")
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			// overlayfs leaves work/work with mode 0: make it removable first.
			exec.Command("chmod", "-R", "u+rwx", dir).Run()
			os.RemoveAll(dir)
		}()
		upper := dir + "/upper"
		out, code := testutil.RunCLI(t, bin, "--overlay-upper", upper, "--diff", "--",
			"/bin/sh", "-c", "echo hi > /etc/paddock-diff-added; rm -f /etc/hostname")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, out)
		}
		if !strings.Contains(out, "A /etc/paddock-diff-added") || !strings.Contains(out, "D /etc/hostname") {
			t.Fatalf("--diff printed:\n%s", out)
		}
		if _, err := os.Stat("/etc/paddock-diff-added"); err == nil {
			os.Remove("/etc/paddock-diff-added")
			t.Fatal("the sandbox's file reached the host's /etc")
		}
	})
}

// TestSignalForwarding sends SIGTERM to run and expects the sandbox's shell, which
// traps it, to report it through its exit code, as podman run forwards signals.
func TestSignalForwarding(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		cmd := exec.Command(bin, "--", "/bin/sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done")
		if line := testutil.StartLine(t, cmd); line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("read %q, want ready", line)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 42 {
			t.Errorf("run exited with %v, want code 42 from the sandbox's trap", err)
		}
	})
}

// TestOverlaySizeFlag bounds the writable layer from the command line: a write
// past --overlay-size fails with "No space left on device", and nothing of it
// reaches the host's memory beyond the bound.
func TestOverlaySizeFlag(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		out, code := testutil.RunCLI(t, bin, "--overlay-size", "4m", "--", "/bin/sh", "-c",
			"dd if=/dev/zero of=/usr/paddock-big bs=1M count=8; wc -c < /usr/paddock-big")
		if code != 0 || !strings.Contains(out, "No space left on device") || !strings.HasSuffix(out, "4194304\n") {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if out, code := testutil.RunCLI(t, bin, "--overlay-size", "lots", "--", "/bin/true"); code != 125 || !strings.Contains(out, "size") {
			t.Errorf("a bad size: exit %d:\n%s", code, out)
		}
	})
}

// TestInit runs the same checks with --init: exit codes pass through the init
// (and a target that kills itself is no longer PID 1, so it dies: 128+9), signals
// sent to run reach the target, and PID 1 shows nothing of run's environment, as
// podman run --init's catatonit shows nothing of podman's.
func TestInit(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		for _, c := range []struct {
			args []string
			code int
		}{
			{[]string{"--init", "--", "/bin/sh", "-c", "exit 42"}, 42},
			{[]string{"--init", "--", "no-such-program"}, 127},
			{[]string{"--init", "--", "/etc/passwd"}, 126},
			{[]string{"--init", "--", "/bin/sh", "-c", "kill -KILL $$"}, 128 + 9},
			{[]string{"--init", "--privileged", "--", "/bin/sh", "-c", "exit 3"}, 3},
		} {
			out, code := testutil.RunCLI(t, bin, c.args...)
			if code != c.code {
				t.Errorf("%q: exit %d, want %d: %s", c.args, code, c.code, out)
			}
		}

		cmd := exec.Command(bin, "--init", "--", "/bin/sh", "-c", "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done")
		if line := testutil.StartLine(t, cmd); line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("read %q, want ready", line)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err == nil || err.(*exec.ExitError).ExitCode() != 42 {
			t.Errorf("run --init exited with %v, want code 42 from the sandbox's trap", err)
		}

		for _, priv := range []string{"--privileged=false", "--privileged"} {
			cmd := exec.Command(bin, "--init", priv, "--", "/bin/sh", "-c", `{ tr '\0' '\n' </proc/1/environ; } 2>/dev/null | grep -c SECRET_TOKEN`)
			cmd.Env = append(os.Environ(), "SECRET_TOKEN=s3cr3t")
			out, err := cmd.CombinedOutput()
			if strings.TrimSpace(string(out)) != "0" {
				t.Errorf("run --init %s: PID 1's environment: %v\n%s", priv, err, out)
			}
		}
	})
}

// TestCallersInPIDNamespaces is the reproduction of the collision of cgroup
// names: callers in pid namespaces of their own all have pid 1 there. A caller
// killed while its sandbox runs must not make the next one fail, and two callers
// run side by side.
func TestCallersInPIDNamespaces(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("unshare --pid needs root here; a rootless caller creates no cgroup on cgroup v1")
	}
	unshare := testutil.Require(t, "unshare", "util-linux")
	bin := runBinary(t)
	inPIDNS := func(args ...string) *exec.Cmd {
		return exec.Command(unshare, append([]string{"--pid", "--fork", "--kill-child", bin}, args...)...)
	}
	killed := inPIDNS("--", "/bin/sh", "-c", "echo ready; sleep 30")
	if line := testutil.StartLine(t, killed); line != "ready\n" {
		killed.Process.Kill()
		killed.Wait()
		t.Fatalf("read %q", line)
	}
	// SIGKILL to unshare takes run with it (--kill-child), and run's sandbox with
	// run (its parent-death signal): nothing of run's own cleanup runs.
	killed.Process.Kill()
	killed.Wait()
	beside := inPIDNS("--", "/bin/sh", "-c", "echo ready; read x")
	stdin, err := beside.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if line := testutil.StartLine(t, beside); line != "ready\n" {
		beside.Process.Kill()
		beside.Wait()
		t.Fatalf("read %q", line)
	}
	out, err := inPIDNS("--", "/bin/echo", "ok").CombinedOutput()
	stdin.Close()
	beside.Wait()
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("a caller after a killed one, beside a live one: %v: %s", err, out)
	}
}

// TestFlagInputs: what podman takes, run takes the same way; what it refuses, run
// refuses with 125 before anything starts.
func TestFlagInputs(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		if out, code := testutil.RunCLI(t, bin, "-h"); code != 0 || !strings.Contains(out, "-rootfs") {
			t.Errorf("-h: exit %d, want 0 and the usage:\n%s", code, out)
		}
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--cap-drop", "BOGUS"}, `drop "BOGUS"`},
			{[]string{"-e", "=x"}, "KEY=VALUE"},
			{[]string{"--security-opt", "seccomp="}, "names no profile"},
		} {
			out, code := testutil.RunCLI(t, bin, append(c.args, "--", "/bin/sh", "-c", "echo COMMAND-RAN")...)
			if code != 125 || strings.Contains(out, "COMMAND-RAN") || !strings.Contains(out, c.want) {
				t.Errorf("%q: exit %d, want 125 saying %q:\n%s", c.args, code, c.want, out)
			}
		}
		// ALL means every capability the caller has, as podman's --cap-add ALL does
		// (this host's root lacks CAP_SYS_RESOURCE, so "every capability of the
		// kernel" would fail).
		own, err := caps.Inspect(0)
		if err != nil {
			t.Fatal(err)
		}
		out, code := testutil.RunCLI(t, bin, "--cap-add", "ALL", "--", "/bin/sh", "-c", "grep CapBnd /proc/self/status")
		if want := fmt.Sprintf("CapBnd:\t%016x\n", uint64(own.Bounding)); code != 0 || out != want {
			t.Errorf("--cap-add ALL: exit %d, %q; want %q", code, out, want)
		}
		// A read-only root leaves the sandbox's own tmpfs and read-write volumes
		// writable, rootless too (its root is a mount per top-level directory).
		dir := testutil.SharedTempDir(t, "paddock-volume-")
		os.Chmod(dir, 0o777)
		out, code = testutil.RunCLI(t, bin, "--read-only", "--tmpfs", "/tmp", "-v", dir+":/opt", "--", "/bin/sh", "-c",
			"touch /tmp/x && touch /opt/x && echo writable; touch /usr/x 2>&1 | grep -c 'Read-only'")
		if code != 0 || out != "writable\n1\n" {
			t.Errorf("--read-only with a tmpfs and a volume: exit %d:\n%s", code, out)
		}
	})
}

// TestLimitFlags: --pids-limit -1 removes the default bound, as podman's does;
// --timeout kills the sandbox and says so.
func TestLimitFlags(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		nproc := []string{"--", "/bin/sed", "-n", `s/^Max processes  *\([0-9a-z]*\) .*/\1/p`, "/proc/self/limits"}
		out, code := testutil.RunCLI(t, bin, append([]string{"--pids-limit", "-1"}, nproc...)...)
		if code != 0 || strings.TrimSpace(out) == "2048" {
			t.Errorf("--pids-limit -1: exit %d, RLIMIT_NPROC %q", code, out)
		}
		start := time.Now()
		out, code = testutil.RunCLI(t, bin, "--timeout", "300ms", "--", "/bin/sleep", "10")
		if code != 137 || time.Since(start) > 5*time.Second || !strings.Contains(out, "--timeout") {
			t.Errorf("--timeout 300ms of sleep 10: exit %d after %v: %s", code, time.Since(start), out)
		}
		for _, bad := range []string{"abc", "-1", "-5s", ""} {
			if out, code := testutil.RunCLI(t, bin, "--timeout", bad, "--", "/bin/true"); code != 125 {
				t.Errorf("--timeout %q: exit %d, want 125: %s", bad, code, out)
			}
		}
		if out, code := testutil.RunCLI(t, bin, "--pids-limit", "-2", "--", "/bin/true"); code != 125 {
			t.Errorf("--pids-limit -2: exit %d, want 125: %s", code, out)
		}
	})
}
