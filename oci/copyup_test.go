package oci_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestTmpcopyup: Podman's tmpcopyup option on a tmpfs fills it with what the
// root holds there: an empty directory (/tmp), a missing one (/scratch), and
// /etc of the busybox root, whose files show in a writable tmpfs of a
// read-only root, seen from inside, while writes never land in the root; it
// is refused on a filesystem other than tmpfs. As root and as uid 65534.
func TestTmpcopyup(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tmpfs := func(dst string) map[string]any {
			return map[string]any{"destination": dst, "type": "tmpfs", "source": "tmpfs", "options": []string{"rw", "nosuid", "nodev", "tmpcopyup"}}
		}
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			p["args"] = []string{"sh", "-c", "touch /bin/x 2>/dev/null || echo ro; touch /tmp/a /scratch/b /etc/c && echo rw; " +
				"cat /etc/hostname; grep -c -E ' /(tmp|scratch|etc) .* - tmpfs ' /proc/self/mountinfo"}
			delete(p["capabilities"].(map[string]any), "ambient")
			cfg["mounts"] = append(cfg["mounts"].([]any), tmpfs("/tmp"), tmpfs("/scratch"), tmpfs("/etc"))
		})
		cfg, err := oci.ReadConfig(bundle)
		if err != nil {
			t.Fatal(err)
		}
		out := runConfig(t, cfg, bundle)
		if string(out) != "ro\nrw\nbusybox\n3\n" {
			t.Errorf("inside: %q; want a read-only root, the root's /etc/hostname and three writable tmpfs mounts", out)
		}
		for _, f := range []string{"tmp/a", "etc/c"} {
			if _, err := os.Stat(filepath.Join(cfg.Root.Path, f)); err == nil {
				t.Errorf("a file written to the tmpfs landed in the root: %s", f)
			}
		}

		n := len(cfg.Mounts)
		cfg.Mounts[n-1].Destination, cfg.Mounts[n-1].Type = "/tmp", "proc"
		_, _, err = oci.Convert(cfg, bundle)
		var fe *oci.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, sandbox.ErrInvalidSpec) || !strings.HasPrefix(fe.Field, "mounts[") || !strings.Contains(err.Error(), "tmpcopyup on a proc mount") {
			t.Errorf("tmpcopyup on proc: %v; want a field error of the mount", err)
		}
	})
}
