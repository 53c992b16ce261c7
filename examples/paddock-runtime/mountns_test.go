package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// withoutMountNS removes the mount namespace from a configuration's list.
func withoutMountNS(cfg map[string]any) {
	linux := cfg["linux"].(map[string]any)
	var kept []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "mount" {
			kept = append(kept, n)
		}
	}
	linux["namespaces"] = kept
}

// TestNoMountNamespace: a configuration that lists no mount namespace runs its
// container in the runtime's, as runc does, and the host's mount table is the
// same after create, after the container ran and after delete; exec into it
// is refused, since the process would see the runtime's root; a read-only
// root stays read-only. As uid 65534,
// whose configuration has a user namespace, create refuses it, saying why.
func TestNoMountNamespace(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		b := r.bundle(t, []string{"sh", "-c", "readlink /proc/self/ns/mnt > /out/ns; cat /etc/hostname >> /out/ns; while [ ! -e /out/done ]; do sleep 0.05; done"}, out, withoutMountNS)
		if os.Geteuid() != 0 {
			if o, code := r.run(t, "create", "--bundle", b, "box"); code == 0 || !strings.Contains(o, "CAP_SYS_ADMIN") {
				t.Errorf("rootless create without a mount namespace: exit %d: %s", code, o)
			}
			return
		}
		table := func() string { return testutil.MountTable(t) }
		before := table()
		r.must(t, "create", "--bundle", b, "box")
		if after := table(); after != before {
			t.Errorf("after create, the mount table changed:\nbefore\n%s\nafter\n%s", before, after)
		}
		r.must(t, "start", "box")
		if o, code := r.run(t, "exec", "box", "true"); code == 0 || !strings.Contains(o, "no mount namespace of its own") {
			t.Errorf("exec into a container without a mount namespace: exit %d: %s", code, o)
		}
		if err := os.WriteFile(filepath.Join(out, "done"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r.waitStatus(t, "box", "stopped")
		own, _ := os.Readlink("/proc/self/ns/mnt")
		if got, err := os.ReadFile(filepath.Join(out, "ns")); string(got) != own+"\nbusybox\n" {
			t.Errorf("the container's mount namespace and root: %q, %v; want %s and busybox", got, err, own)
		}
		r.must(t, "delete", "box")
		r.gone(t, "box")
		if after := table(); after != before {
			t.Errorf("after delete, the mount table changed:\nbefore\n%s\nafter\n%s", before, after)
		}

		// A read-only root stays read-only: root.path itself, remounted so.
		ro := r.bundle(t, []string{"sh", "-c", "touch /written 2>/dev/null && echo writable; cat /etc/hostname"}, out, func(cfg map[string]any) {
			withoutMountNS(cfg)
			cfg["root"].(map[string]any)["readonly"] = true
		})
		if o, code := r.run(t, "run", "--bundle", ro, "ro"); code != 0 || o != "busybox\n" {
			t.Errorf("read-only root without a mount namespace: exit %d, %q", code, o)
		}
		r.gone(t, "ro")
		if after := table(); after != before {
			t.Errorf("after run, the mount table changed:\nbefore\n%s\nafter\n%s", before, after)
		}
	})
}
