package testutil

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// EnvMode is set in a re-executed test binary to the mode it runs in.
const EnvMode = "PADDOCK_TEST_MODE"

// Nobody is the unprivileged uid and gid that rootless tests run as.
const Nobody = 65534

// Rootless reports whether this process runs a test's rootless half.
func Rootless() bool { return os.Geteuid() != 0 }

// Modes runs f twice: as root ("rootful") and as uid 65534 ("rootless"), the second
// in a re-executed copy of the test binary. In the re-executed binary it runs f once.
// A run that is not root runs only the rootless half, directly.
func Modes(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if os.Getenv(EnvMode) != "" {
		f(t)
		return
	}
	t.Run("rootful", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("rootful sandboxes need root; the rootless half runs instead")
		}
		f(t)
	})
	t.Run("rootless", func(t *testing.T) {
		if os.Geteuid() != 0 {
			f(t)
			return
		}
		RunAsNobody(t, "^"+topName(t)+"$")
	})
}

// AsNobody runs f only in the rootless half: as uid 65534 in a re-executed copy of
// the test binary when this process is root, directly otherwise. It is for tests of
// what only an unprivileged caller meets.
func AsNobody(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	if os.Getenv(EnvMode) != "" || os.Geteuid() != 0 {
		f(t)
		return
	}
	RunAsNobody(t, "^"+topName(t)+"$")
}

// ModesWith is Modes for a test that prepares something once, as root, that its
// rootless half reuses (a binary built for uid 65534): prepare runs only in the
// first process, and its result reaches the re-executed binary in the environment
// variable key. f gets it in both halves.
func ModesWith(t *testing.T, key string, prepare func(t *testing.T) string, f func(t *testing.T, value string)) {
	t.Helper()
	if os.Getenv(EnvMode) != "" {
		f(t, os.Getenv(key))
		return
	}
	value := prepare(t)
	t.Run("rootful", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("rootful sandboxes need root; the rootless half runs instead")
		}
		f(t, value)
	})
	t.Run("rootless", func(t *testing.T) {
		if os.Geteuid() != 0 {
			f(t, value)
			return
		}
		RunAsNobody(t, "^"+topName(t)+"$", key+"="+value)
	})
}

// topName is the name of the top-level test that t belongs to.
func topName(t *testing.T) string {
	name := t.Name()
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	return name
}

// unprivilegedCopy copies the test binary into a directory that uid 65534 can
// reach: go test builds it in a directory private to root.
func unprivilegedCopy(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := SharedTempDir(t, "paddock-test-")
	dst := filepath.Join(dir, filepath.Base(self))
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

// OpenFDs returns the number of descriptors this process has open.
func OpenFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // the directory being read
}

// NoChildren fails t if this process has an unreaped child.
func NoChildren(t *testing.T) {
	t.Helper()
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|syscall.WALL, nil)
	if err == syscall.ECHILD {
		return
	}
	if pid > 0 {
		t.Errorf("an unreaped child %d was left behind (%v)", pid, ws)
		return
	}
	if err == nil && pid == 0 {
		t.Errorf("a child process is still running")
	}
}

// RemoveCgroupParents removes the default parent cgroups ("paddock" below this
// process's own cgroup in each hierarchy) that sandboxes started by the tests
// created, once they are empty, so that the tests leave the host's cgroups as they
// found them. Call it from TestMain after the tests ran.
func RemoveCgroupParents() {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls := strings.Split(parts[1], ",")
		for _, c := range ctrls {
			c = strings.TrimPrefix(c, "name=")
			dirs := []string{filepath.Join("/sys/fs/cgroup", c, parts[2], "paddock")}
			if c == "" {
				dirs = []string{filepath.Join("/sys/fs/cgroup/unified", parts[2], "paddock"), filepath.Join("/sys/fs/cgroup", parts[2], "paddock")}
			}
			for _, d := range dirs {
				if !seen[d] {
					seen[d] = true
					syscall.Rmdir(d)
				}
			}
		}
	}
}

// SharedTempDir makes a temporary directory that every user can read and search
// (uid 65534 runs the rootless halves), removed with what it holds when t ends.
func SharedTempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// BuildForNobody builds the Go package pkg (a path as go build takes it) into a
// directory that uid 65534 can reach, statically linked, and returns the binary's
// path. The directory is removed when t ends.
func BuildForNobody(t testing.TB, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(SharedTempDir(t, "paddock-bin-"), name)
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// StartLine starts cmd and returns the first line it prints on standard output,
// newline included. If cmd cannot start or ends before printing a line, it is
// killed and reaped and t fails. The caller owns the running cmd.
func StartLine(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s printed no line: %q, %v", cmd.Path, line, err)
	}
	return line
}

// Require returns the path of the program name, or skips t with a reason that
// names the Debian package that provides it. Tests that need a peer or a tool
// beyond Go call it, so that they skip on a machine without it; .ci/run installs
// every such package.
func Require(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package %s): %v", name, pkg, err)
	}
	return p
}

// EnvSysprobe passes the path of the built syscall probe to the rootless half of a
// test.
const EnvSysprobe = "PADDOCK_SYSPROBE"

// Sysprobe builds internal/testutil/sysprobe (static, no cgo) into a directory
// that every user can read, once per run of the test binary, and returns its path:
// the rootless half of a test reuses the binary its root parent built.
func Sysprobe(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvSysprobe); p != "" {
		return p
	}
	exe := BuildForNobody(t, "github.com/paddock-sandbox/paddock/internal/testutil/sysprobe", "sysprobe")
	t.Setenv(EnvSysprobe, exe)
	return exe
}
