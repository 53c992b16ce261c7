package oci_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestJoinedPIDNamespace: a configuration that joins a pid namespace by path
// (linux.namespaces[].path), as the runtime-tools suite's linux_ns_path does,
// runs its process inside that namespace, not as its PID 1, and the start's pid
// is that process (what the OCI state reports). Rootless, the configuration's
// new user namespace cannot join a pid namespace that another user namespace
// owns: Build refuses it by field.
func TestJoinedPIDNamespace(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		first := sandboxtest.Sleeper(t)
		path := namespace.PID.Path(first.Pid())
		want, err := os.Readlink(path)
		if err != nil {
			t.Fatal(err)
		}
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			p["args"] = []string{"sh", "-c", "readlink /proc/self/ns/pid; echo $$"}
			delete(p["capabilities"].(map[string]any), "ambient")
			linux := cfg["linux"].(map[string]any)
			for _, n := range linux["namespaces"].([]any) {
				if n := n.(map[string]any); n["type"] == "pid" {
					n["path"] = path
				}
			}
		})
		cfg, err := oci.ReadConfig(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if testutil.Rootless() {
			spec, _, err := oci.Convert(cfg, bundle)
			if err == nil {
				_, err = sandbox.NewBuilder(sandbox.WithSpec(spec)).Build()
			}
			var se *sandbox.SpecError
			t.Logf("refused: %v", err)
			if !errors.As(err, &se) || !strings.HasPrefix(se.Field, "namespaces") {
				t.Fatalf("Build = %v, want a *SpecError naming the namespaces", err)
			}
			return
		}
		out := strings.Fields(string(runConfig(t, cfg, bundle)))
		if len(out) != 2 || out[0] != want || out[1] == "1" {
			t.Fatalf("the process says %q, want the pid namespace %s and a pid other than 1", out, want)
		}
	})
}
