package oci_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestRuncSpecFields runs runc's configuration with a sysctl (Podman's
// net.ipv4.ping_group_range, in a new network namespace), a umask, the LINUX32
// personality, a raised OOM score, SCHED_BATCH at nice 19, an I/O priority
// and a CPU affinity, as root and as uid 65534, and reads each back from
// inside.
func TestRuncSpecFields(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		score := min(readOOMScoreAdj(t)+10, 1000)
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			p["args"] = []string{"sh", "-c", "cat /proc/sys/net/ipv4/ping_group_range; umask; uname -m; cat /proc/self/oom_score_adj; grep Cpus_allowed_list /proc/self/status; cat /proc/self/stat"}
			delete(p["capabilities"].(map[string]any), "ambient")
			p["user"].(map[string]any)["umask"] = 0o027
			p["oomScoreAdj"] = score
			p["scheduler"] = map[string]any{"policy": "SCHED_BATCH", "nice": 19}
			p["ioPriority"] = map[string]any{"class": "IOPRIO_CLASS_BE", "priority": 6}
			p["execCPUAffinity"] = map[string]any{"initial": "0", "final": "0"}
			l := cfg["linux"].(map[string]any)
			ns := l["namespaces"].([]any)
			has := false
			for _, n := range ns {
				has = has || n.(map[string]any)["type"] == "network"
			}
			if !has {
				l["namespaces"] = append(ns, map[string]any{"type": "network"})
			}
			l["sysctl"] = map[string]string{"net.ipv4.ping_group_range": "0 0"}
			l["personality"] = map[string]any{"domain": "LINUX32"}
		})
		out := runBundle(t, bundle)
		lines := strings.Split(strings.ReplaceAll(string(out), " ", "\t"), "\n")
		want := []string{"0\t0", "0027", "i686", fmt.Sprint(score), "Cpus_allowed_list:\t0"}
		if len(lines) < 6 || !slices.Equal(lines[:5], want) {
			t.Fatalf("inside:\n%s\nwant:\n%q", out, want)
		}
		stat := strings.Fields(string(out)[strings.LastIndexByte(string(out), ')')+1:])
		if len(stat) < 39 || stat[16] != "19" || stat[38] != "3" {
			t.Errorf("nice and policy inside: %q", lines[5])
		}
	})
}
