package oci_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/paddock-sandbox/paddock/oci"
)

// TestBindBelowPrivateDir: as root, a container in a user namespace whose
// root is another user of the host (uid 100000, as Podman's --uidmap gives)
// gets a bind whose source lies below a directory only host root may search
// (mode 0700, as Podman's run root holding /etc/hosts): the parent copies
// the source before the child enters its namespace, as runc opens such
// sources first. Seen from inside: the file's content, read-only.
func TestBindBelowPrivateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a user namespace mapping root to another uid is a root caller's")
	}
	private := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	hosts := filepath.Join(private, "hosts")
	if err := os.WriteFile(hosts, []byte("10.0.0.1 boxed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := runcBundle(t, func(cfg map[string]any) {
		// The root as Podman hands it over: a directory, its mount points
		// there (Podman chowns an image to the map; this one is host root's).
		root := cfg["root"].(map[string]any)
		root["readonly"] = false
		if err := os.WriteFile(filepath.Join(root["path"].(string), "etc/hosts"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		p := cfg["process"].(map[string]any)
		p["terminal"] = false
		p["args"] = []string{"sh", "-c", "cat /etc/hosts; { echo x > /etc/hosts; } 2>/dev/null || echo ro; cat /proc/self/uid_map"}
		delete(p["capabilities"].(map[string]any), "ambient")
		linux := cfg["linux"].(map[string]any)
		linux["namespaces"] = append(linux["namespaces"].([]any), map[string]any{"type": "user"})
		m := []map[string]any{{"containerID": 0, "hostID": 100000, "size": 65536}}
		linux["uidMappings"], linux["gidMappings"] = m, m
		cfg["mounts"] = append(cfg["mounts"].([]any), map[string]any{"destination": "/etc/hosts", "type": "bind",
			"source": hosts, "options": []string{"bind", "rprivate", "ro", "nosuid", "noexec", "nodev"}})
	})
	cfg, err := oci.ReadConfig(bundle)
	if err != nil {
		t.Fatal(err)
	}
	out := runConfig(t, cfg, bundle)
	const want = "10.0.0.1 boxed\nro\n         0     100000      65536\n"
	if string(out) != want {
		t.Errorf("inside: %q; want %q", out, want)
	}
}
