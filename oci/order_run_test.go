package oci_test

import (
	"context"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
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
		cfg, err := oci.ReadConfig(bundle)
		if err != nil {
			t.Fatal(err)
		}
		spec, cmd, err := oci.Convert(cfg, bundle)
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		tpl, err := sandbox.NewBuilder(sandbox.WithSpec(spec)).Build()
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		defer tpl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, st, err := tpl.CombinedOutput(ctx, cmd)
		if err != nil || !st.Success() {
			t.Fatalf("run: %v, %v\n%s", err, st, out)
		}
		if want := "/mnt/shared shared\n/mnt/private not shared\n/mnt/bound shared\nlisted order\n"; string(out) != want {
			t.Errorf("inside the sandbox:\n%s\nwant:\n%s", out, want)
		}
	})
}
