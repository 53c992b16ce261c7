package sandbox_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestRangeMapsAsRoot: root writes any map itself; root inside is host uid 100000.
func TestRangeMapsAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("arbitrary maps need root; the rootless half is TestRangeMapsRootless")
	}
	maps := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	out, st := run(t, []sandbox.Option{sandbox.WithUserNS(maps, maps), sandbox.WithoutCgroup()},
		"/bin/sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/f; stat -c %u /tmp/f")
	if !st.Success() {
		t.Fatalf("%v: %s", st, out)
	}
	f := strings.Fields(out)
	if len(f) != 8 || f[0] != "0" || f[1] != "100000" || f[2] != "65536" || f[3] != "0" || f[4] != "100000" || f[6] != "0" || f[7] != "0" {
		t.Fatalf("maps and identity inside: %q", out)
	}
}

// envSubIDs marks the re-executed test binary that grants uid 65534 subordinate IDs
// in a private mount namespace, then runs the rootless half as that user.
const envSubIDs = "PADDOCK_TEST_SUBIDS"

// TestRangeMapsRootless maps a range of subordinate IDs for an unprivileged caller
// through newuidmap and newgidmap. The host's /etc/subuid and /etc/subgid are not
// touched: a re-executed test binary, in a mount namespace of its own, binds
// temporary files over them and runs the rootless half from there.
func TestRangeMapsRootless(t *testing.T) {
	switch {
	case os.Getenv(envSubIDs) == "1" && os.Geteuid() == 0:
		// The private mount namespace: grant the range, then become nobody.
		dir := t.TempDir()
		for _, name := range []string{"subuid", "subgid"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(strconv.Itoa(testutil.Nobody)+":200000:65536\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mount(p, "/etc/"+name, "", syscall.MS_BIND, ""); err != nil {
				t.Fatal(err)
			}
		}
		testutil.RunAsNobody(t, "^TestRangeMapsRootless$", envSubIDs+"=2")
		return
	case os.Getenv(envSubIDs) == "2":
		// Nobody, with a granted range.
		if _, err := exec.LookPath("newuidmap"); err != nil {
			t.Skipf("newuidmap (Debian uidmap) is not installed: %v", err)
		}
		uids, gids, err := namespace.DefaultRangeMaps(os.Geteuid(), os.Getegid())
		if err != nil {
			t.Fatal(err)
		}
		out, st := run(t, []sandbox.Option{sandbox.WithUserNS(uids, gids)}, "/bin/sh", "-c", "cat /proc/self/uid_map; id -u")
		if !st.Success() {
			t.Fatalf("%v: %s", st, out)
		}
		if !strings.Contains(out, "200000") || !strings.HasSuffix(out, "\n0\n") {
			t.Fatalf("uid map inside: %q", out)
		}
		return
	case os.Geteuid() != 0:
		t.Skip("granting subordinate IDs without touching /etc needs root to bind files in a private mount namespace")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestRangeMapsRootless$", "-test.count=1")
	cmd.Env = append(os.Environ(), envSubIDs+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "no tests to run") {
		t.Fatalf("%v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}
