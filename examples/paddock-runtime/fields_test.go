package main

import (
	"slices"
	"strings"
	"testing"
)

// TestRunFields runs a container with Podman's default sysctl
// (net.ipv4.ping_group_range, in the spec's own network namespace, added where
// the rootless spec has none), a umask and the LINUX32 personality, as root and
// as uid 65534, and reads each back from inside.
func TestRunFields(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		b := r.bundle(t, []string{"sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range; umask; uname -m"}, t.TempDir(), func(cfg map[string]any) {
			l := cfg["linux"].(map[string]any)
			ns := l["namespaces"].([]any)
			if !slices.ContainsFunc(ns, func(n any) bool { return n.(map[string]any)["type"] == "network" }) {
				l["namespaces"] = append(ns, map[string]any{"type": "network"})
			}
			l["sysctl"] = map[string]string{"net.ipv4.ping_group_range": "0 0"}
			l["personality"] = map[string]any{"domain": "LINUX32"}
			cfg["process"].(map[string]any)["user"].(map[string]any)["umask"] = 0o027
		})
		o, code := r.run(t, "run", "--bundle", b, "box")
		if got := strings.Fields(o); code != 0 || !slices.Equal(got, []string{"0", "0", "0027", "i686"}) {
			t.Errorf("run: exit %d: %q", code, o)
		}
		r.gone(t, "box")
	})
}
