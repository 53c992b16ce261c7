package oci_test

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMountOrderAndPropagation runs runc's configuration with two tmpfs
// mounts of its own, shared and private, and a bind, as root and as uid 65534, and looks
// at the mount table from inside: the mounts appear in the configuration's
// order (runc's lists /dev/pts before /sys, which a sort by depth would swap),
// the tmpfs asked to be shared is shared, the other not, and a bind that is
// shared, nosuid and given a tmpfs's options (which mount(2) drops) is shared.
func TestMountOrderAndPropagation(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		dir := t.TempDir()
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			delete(p["capabilities"].(map[string]any), "ambient")
			p["args"] = []string{"awk", `$5 == "/dev/pts" { pts = NR } $5 == "/sys" { sys = NR }
$5 == "/mnt/shared" || $5 == "/mnt/private" || $5 == "/mnt/bound" { print $5, ($7 ~ /^shared:/) ? "shared" : "not shared" }
END { print (pts < sys) ? "listed order" : "reordered" }`, "/proc/self/mountinfo"}
			cfg["mounts"] = append(cfg["mounts"].([]any),
				map[string]any{"destination": "/mnt/shared", "type": "tmpfs", "source": "tmpfs", "options": []string{"shared", "size=1k"}},
				map[string]any{"destination": "/mnt/private", "type": "tmpfs", "source": "tmpfs", "options": []string{"private", "size=1k"}},
				map[string]any{"destination": "/mnt/bound", "source": dir, "options": []string{"rbind", "rshared", "nosuid", "mode=755"}})
		})
		out := runBundle(t, bundle)
		if want := "/mnt/shared shared\n/mnt/private not shared\n/mnt/bound shared\nlisted order\n"; string(out) != want {
			t.Errorf("inside the sandbox:\n%s\nwant:\n%s", out, want)
		}
	})
}
