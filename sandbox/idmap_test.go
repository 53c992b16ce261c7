package sandbox_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
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

// subIDGroup is a supplementary group the rootless half of withSubIDs runs with, as
// a caller started from a root shell keeps root's group: the sandbox must drop it
// wherever setgroups is allowed.
const subIDGroup = 0

// withSubIDs runs half as uid 65534 (with the supplementary group subIDGroup) after
// granting it the subordinate IDs 200000-265535. The host's /etc/subuid and
// /etc/subgid are not touched: a re-executed test binary, in a mount namespace of
// its own, binds temporary files over them and runs the rootless half from there.
func withSubIDs(t *testing.T, half func(t *testing.T)) {
	t.Helper()
	name := t.Name()
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
		testutil.Rerun{
			Pattern: "^" + name + "$",
			Env:     append(os.Environ(), testutil.EnvMode+"=rootless", envSubIDs+"=2"),
			Attr: &syscall.SysProcAttr{Credential: &syscall.Credential{
				Uid: testutil.Nobody, Gid: testutil.Nobody, Groups: []uint32{subIDGroup}}},
			Label: "as uid 65534 with subordinate IDs",
		}.Run(t)
		return
	case os.Getenv(envSubIDs) == "2":
		// Nobody, with a granted range.
		if _, err := exec.LookPath("newuidmap"); err != nil {
			t.Skipf("newuidmap (Debian uidmap) is not installed: %v", err)
		}
		half(t)
		return
	case os.Geteuid() != 0:
		t.Skip("granting subordinate IDs without touching /etc needs root to bind files in a private mount namespace")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envSubIDs+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "no tests to run") {
		t.Fatalf("%v\n%s", err, out)
	}
	res := testutil.ParseVerbose(string(out))
	if len(res.Top) == 0 {
		t.Fatalf("in a private mount namespace: no test ran\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
	res.Report(t, "in a private mount namespace")
}

// TestRangeMapsRootless maps a range of subordinate IDs for an unprivileged caller
// through newuidmap and newgidmap.
func TestRangeMapsRootless(t *testing.T) {
	withSubIDs(t, func(t *testing.T) {
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
	})
}

// TestGroupsRangeMapsRootless: with subordinate ranges, newgidmap leaves setgroups
// allowed, so the caller's supplementary group (subIDGroup, unmapped: 65534 inside)
// is dropped: the target has exactly its primary group, or the groups it is given.
// With the single map of its own IDs, where setgroups is denied, the kernel keeps
// the caller's groups, as WithUser documents.
func TestGroupsRangeMapsRootless(t *testing.T) {
	withSubIDs(t, func(t *testing.T) {
		if gs, _ := os.Getgroups(); len(gs) != 1 || gs[0] != subIDGroup {
			t.Fatalf("the caller's supplementary groups: %v, want [%d]", gs, subIDGroup)
		}
		uids, gids, err := namespace.DefaultRangeMaps(os.Geteuid(), os.Getegid())
		if err != nil {
			t.Fatal(err)
		}
		ranges := sandbox.WithUserNS(uids, gids)
		for _, c := range []struct {
			name string
			opts []sandbox.Option
			want string
		}{
			{"range maps, root", []sandbox.Option{ranges}, "0"},
			{"range maps, WithUser(1000, 1000)", []sandbox.Option{ranges, sandbox.WithUser(1000, 1000)}, "1000"},
			{"range maps, WithUser(1000, 1000, 1001, 1002)", []sandbox.Option{ranges, sandbox.WithUser(1000, 1000, 1001, 1002)}, "1000 1001 1002"},
			{"range maps, fork mode", []sandbox.Option{ranges, sandbox.WithUser(1000, 1000), sandbox.WithSpawnMode(sandbox.SpawnFork)}, "1000"},
			{"own IDs only (setgroups denied)", nil, "0 65534"},
			// newgidmap denies setgroups for a map of the caller's own gid alone.
			{"uid range, own gid (setgroups denied)", []sandbox.Option{sandbox.WithUserNS(uids, nil)}, "0 65534"},
		} {
			out, st := run(t, c.opts, "/bin/sh", "-c", "id -G")
			if !st.Success() || strings.TrimSpace(out) != c.want {
				t.Errorf("%s: id -G: %v %q, want %q", c.name, st, out, c.want)
			}
		}
		// With fuse-overlayfs, whose daemon becomes root of the namespace
		// (setgroups is allowed there) instead of keeping the caller's IDs.
		t.Run("fuse", func(t *testing.T) {
			requireFuse(t)
			out, st := run(t, []sandbox.Option{ranges, sandbox.WithUser(1000, 1000), sandbox.WithOverlayDriver(overlay.Fuse)},
				"/bin/sh", "-c", "id -G; echo x > /tmp/f && stat -c %u /tmp/f")
			if !st.Success() || out != "1000\n1000\n" {
				t.Errorf("range maps with fuse-overlayfs: %v %q", st, out)
			}
		})
		_, err = sandbox.NewBuilder(sandbox.WithUserNS(uids, nil), sandbox.WithUser(0, 0, 0)).Build()
		var se *sandbox.SpecError
		if !errors.As(err, &se) || se.Field != "user.groups" {
			t.Errorf("groups where newgidmap denies setgroups: %v, want a SpecError on user.groups", err)
		}
	})
}

// TestGroupsRootful: a switched user has exactly its primary group, or the groups
// it is given, not the caller's; so does root of a user namespace whose maps root
// writes.
func TestGroupsRootful(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("rootful sandboxes need root; the rootless half is TestGroupsRangeMapsRootless")
	}
	maps := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	for _, c := range []struct {
		name string
		opts []sandbox.Option
		want string
	}{
		{"WithUser(1000, 1000)", []sandbox.Option{sandbox.WithUser(1000, 1000)}, "1000"},
		{"WithUser(1000, 1000, 5)", []sandbox.Option{sandbox.WithUser(1000, 1000, 5)}, "1000 5"},
		{"range maps, root", []sandbox.Option{sandbox.WithUserNS(maps, maps)}, "0"},
		{"range maps, WithUser(1000, 1000)", []sandbox.Option{sandbox.WithUserNS(maps, maps), sandbox.WithUser(1000, 1000)}, "1000"},
	} {
		out, st := run(t, c.opts, "/bin/sh", "-c", "id -G")
		if !st.Success() || strings.TrimSpace(out) != c.want {
			t.Errorf("%s: id -G: %v %q, want %q", c.name, st, out, c.want)
		}
	}
}
