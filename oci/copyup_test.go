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

// TestTmpcopyup: Podman's tmpcopyup option on a tmpfs is taken where the
// directory in the root is empty (/tmp) or missing (/scratch), and the
// sandbox gets a writable tmpfs there in a read-only root, seen from inside;
// it is refused by the mount's field, naming the directory and an entry,
// where the directory holds files (/etc), or through a symbolic link to it;
// and on a filesystem other than tmpfs. As root and as uid 65534.
func TestTmpcopyup(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tmpfs := func(dst string) map[string]any {
			return map[string]any{"destination": dst, "type": "tmpfs", "source": "tmpfs", "options": []string{"rw", "nosuid", "nodev", "tmpcopyup"}}
		}
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			p["args"] = []string{"sh", "-c", "touch /bin/x 2>/dev/null || echo ro; touch /tmp/a /scratch/b && echo rw; " +
				"grep -c -E ' /(tmp|scratch) .* - tmpfs ' /proc/self/mountinfo"}
			delete(p["capabilities"].(map[string]any), "ambient")
			cfg["mounts"] = append(cfg["mounts"].([]any), tmpfs("/tmp"), tmpfs("/scratch"))
		})
		cfg, err := oci.ReadConfig(bundle)
		if err != nil {
			t.Fatal(err)
		}
		out := runConfig(t, cfg, bundle)
		if string(out) != "ro\nrw\n2\n" {
			t.Errorf("inside: %q; want a read-only root and two writable tmpfs mounts", out)
		}
		if _, err := os.Stat(filepath.Join(cfg.Root.Path, "tmp/a")); err == nil {
			t.Error("a file written to the tmpfs landed in the root")
		}

		n := len(cfg.Mounts)
		if err := os.Symlink("/etc", filepath.Join(cfg.Root.Path, "etclink")); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			dst, fstype, want string
			sentinel          error
		}{
			{"/etc", "tmpfs", `/etc in the root holds files (`, sandbox.ErrNotSupported},
			{"/etclink", "tmpfs", `/etclink in the root holds files (`, sandbox.ErrNotSupported},
			{"/tmp", "proc", "tmpcopyup on a proc mount", sandbox.ErrInvalidSpec},
		} {
			cfg.Mounts[n-1].Destination, cfg.Mounts[n-1].Type = c.dst, c.fstype
			_, _, err := oci.Convert(cfg, bundle)
			var fe *oci.FieldError
			if !errors.As(err, &fe) || !errors.Is(err, c.sentinel) || !strings.HasPrefix(fe.Field, "mounts[") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("tmpcopyup on %s %s: %v; want a field error of the mount, %q", c.fstype, c.dst, err, c.want)
			}
		}
	})
}
