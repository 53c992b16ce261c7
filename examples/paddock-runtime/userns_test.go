package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// envUserNS marks the copy of the test binary that runs as uid 0 of a user
// namespace whose uid 0 is host uid 65534, as a rootless Podman calls the
// runtime.
const envUserNS = "PADDOCK_RUNTIME_TEST_USERNS"

// TestRootlessEngineRoot: as uid 0 of a user namespace that maps it to host
// uid 65534, the runtime knows it is that user: hostEUID says 65534, the state
// goes under XDG_RUNTIME_DIR, and a container gets no cgroup where that user
// could not make one (cgroup v1 here), instead of a failed mkdir. As host
// root, hostEUID is 0 and the state is /run/paddock-runtime.
func TestRootlessEngineRoot(t *testing.T) {
	if os.Getenv(envUserNS) == "" {
		if os.Geteuid() != 0 {
			t.Skip("mapping a user namespace's uid 0 to uid 65534 needs root")
		}
		if got := hostEUID(); got != 0 || !hostRoot() {
			t.Errorf("as host root: hostEUID %d, hostRoot %v", got, hostRoot())
		}
		xdg := testutil.SharedTempDir(t, "xdg-")
		if err := os.Chown(xdg, testutil.Nobody, testutil.Nobody); err != nil {
			t.Fatal(err)
		}
		testutil.Rerun{
			Pattern: "^TestRootlessEngineRoot$",
			Env:     append(os.Environ(), envUserNS+"=1", "XDG_RUNTIME_DIR="+xdg),
			Attr: &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}},
			},
			Label: "as uid 0 of a user namespace (host uid 65534)",
		}.Run(t)
		return
	}
	if os.Geteuid() != 0 || hostEUID() != testutil.Nobody || hostRoot() {
		t.Fatalf("euid %d, hostEUID %d, hostRoot %v; want 0, 65534, false", os.Geteuid(), hostEUID(), hostRoot())
	}
	root, err := stateRoot("")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "paddock-runtime"); root != want {
		t.Errorf("state root %s, want %s", root, want)
	}
	if m := cgroup.Detect(); m == cgroup.V1 || m == cgroup.Hybrid {
		spec := &sandbox.Spec{}
		spec.Cgroup.Devices = cgroup.DefaultDevices()
		if placeCgroup(spec); !spec.NoCgroup {
			t.Error("on cgroup v1, host uid 65534's container has a cgroup planned, which it cannot make")
		}
	}
}

// TestCgroupManagerDisabled: --cgroup-manager disabled leaves every
// container without a cgroup of its own; cgroupfs leaves the choice to the
// sandbox package; systemd is refused with its reason.
func TestCgroupManagerDisabled(t *testing.T) {
	defer func() { cgroupsOff = false }()
	for _, tc := range []struct {
		args   []string
		noCg   bool
		errMsg string
	}{
		{[]string{"--cgroup-manager", "disabled", "list"}, true, ""},
		{[]string{"--cgroup-manager", "cgroupfs", "list"}, false, ""},
		{[]string{"--cgroup-manager", "systemd", "list"}, false, "--systemd-cgroup is not supported"},
	} {
		var out strings.Builder
		code := run(append([]string{"--root", t.TempDir()}, tc.args...), &out, &out)
		if tc.errMsg != "" {
			if code == 0 || !strings.Contains(out.String(), tc.errMsg) {
				t.Errorf("%q: exit %d: %q", tc.args, code, out.String())
			}
			continue
		}
		spec := &sandbox.Spec{}
		if placeCgroup(spec); code != 0 || spec.NoCgroup != tc.noCg {
			t.Errorf("%q: exit %d, NoCgroup %v: %q", tc.args, code, spec.NoCgroup, out.String())
		}
	}
}

// envNoSubIDs marks the copy of the test binary that runs as uid 0 of a user
// namespace of host uid 65534 alone, whose setgroups is denied, as a rootless
// Podman without subordinate IDs calls the runtime.
const envNoSubIDs = "PADDOCK_RUNTIME_TEST_NO_SUBIDS"

// TestRootlessEngineNoSubIDs: in such a namespace, a container that stays in
// it (a configuration without a user namespace of its own) runs as its uid 0,
// keeping the groups that the namespace will not let it drop, where it failed
// at "drop supplementary groups", and delete leaves nothing.
func TestRootlessEngineNoSubIDs(t *testing.T) {
	if os.Getenv(envNoSubIDs) == "" {
		if os.Geteuid() != 0 {
			t.Skip("mapping a user namespace's uid 0 to uid 65534 needs root")
		}
		bin := build(t)
		xdg := testutil.SharedTempDir(t, "xdg-")
		if err := os.Chown(xdg, testutil.Nobody, testutil.Nobody); err != nil {
			t.Fatal(err)
		}
		testutil.Rerun{
			Pattern: "^TestRootlessEngineNoSubIDs$",
			Env:     append(os.Environ(), envNoSubIDs+"=1", envBin+"="+bin, "XDG_RUNTIME_DIR="+xdg),
			Attr: &syscall.SysProcAttr{
				Cloneflags:  syscall.CLONE_NEWUSER,
				Credential:  &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true},
				UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}},
				GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: testutil.Nobody, Size: 1}},
			},
			Label: "as uid 0 of a user namespace that denies setgroups (host uid 65534)",
		}.Run(t)
		return
	}
	if b, _ := os.ReadFile("/proc/self/setgroups"); strings.TrimSpace(string(b)) != "deny" {
		t.Fatalf("/proc/self/setgroups: %q, want deny", b)
	}
	r := &rt{bin: os.Getenv(envBin), root: filepath.Join(t.TempDir(), "state")}
	b := r.bundle(t, []string{"sh", "-c", "id -u; cat /proc/self/setgroups"}, t.TempDir(), func(cfg map[string]any) {
		callersUserNS(cfg)
		for _, m := range cfg["mounts"].([]any) { // gid 5 is not mapped
			if m := m.(map[string]any); m["type"] == "devpts" {
				var opts []any
				for _, o := range m["options"].([]any) {
					if o != "gid=5" {
						opts = append(opts, o)
					}
				}
				m["options"] = opts
			}
		}
	})
	if out := r.must(t, "run", "--bundle", b, "box"); !strings.HasSuffix(out, "0\ndeny\n") {
		t.Errorf("run: %q; want uid 0 in a namespace that denies setgroups", out)
	}
	r.gone(t, "box")
	// Groups of its own it cannot be given there: create says so by field.
	b = r.bundle(t, []string{"true"}, t.TempDir(), func(cfg map[string]any) {
		cfg["process"].(map[string]any)["user"] = map[string]any{"uid": 0, "gid": 0, "additionalGids": []int{0}}
		callersUserNS(cfg)
	})
	if out, code := r.run(t, "create", "--bundle", b, "box"); code != 1 || !strings.Contains(out, "user.groups") || !strings.Contains(out, "denies setgroups(2)") {
		t.Errorf("create with groups: exit %d: %q", code, out)
	}
	r.gone(t, "box")
}

// callersUserNS has the configuration cfg stay in the runtime's user
// namespace: no user namespace of its own, no maps.
func callersUserNS(cfg map[string]any) {
	linux := cfg["linux"].(map[string]any)
	var ns []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "user" {
			ns = append(ns, n)
		}
	}
	linux["namespaces"] = ns
	delete(linux, "uidMappings")
	delete(linux, "gidMappings")
}
