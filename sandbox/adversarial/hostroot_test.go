package adversarial_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// sh runs script in a sandbox built from opts and returns its output; the script
// must succeed.
func sh(t *testing.T, opts []sandbox.Option, script string) string {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	var out bytes.Buffer
	st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", script}, Stdout: &out, Stderr: &out})
	if err != nil || !st.Success() {
		t.Fatalf("%q: %v %v:\n%s", script, st, err, out.String())
	}
	return out.String()
}

// hostSecretScript prints what a sandbox on the default root sees of the host's
// secrets and temporary files: the size of /etc/shadow as the sandbox reads it
// ("-" when it cannot), the entries of /root, /home, /var/lib, /run and /tmp, and
// whether the host's canary file in its temporary directory is visible.
const hostSecretScript = `
size() { if [ -r "$1" ]; then wc -c < "$1"; else echo -; fi; }
count() { if [ -x "$1" ]; then ls -A "$1" | wc -l; else echo -; fi; }
echo "shadow $(size /etc/shadow)"
for d in /root /home /var/lib /run /tmp; do echo "$d $(count $d)"; done
if [ -e %[1]q ]; then echo canary visible; else echo canary hidden; fi
echo scratch > /tmp/scratch && echo "tmp writable"
`

// TestHostRoot checks that the default root, the host's own "/", does not hand the
// sandbox the host's secrets or temporary files, in every kind but
// super-privileged: /etc/shadow reads as empty (root of a rootful sandbox read it
// whole before), /root, /home, /var/lib and /run are empty, and /tmp is an empty
// tmpfs of its own. WithHostRoot with an empty HostRoot shows them again.
func TestHostRoot(t *testing.T) {
	shadow, err := os.Stat("/etc/shadow")
	if err != nil || shadow.Size() == 0 {
		t.Skipf("this host has no /etc/shadow to hide: %v", err)
	}
	testutil.Modes(t, func(t *testing.T) {
		canary := filepath.Join(os.TempDir(), "paddock-canary")
		if err := os.WriteFile(canary, []byte("host secret\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(canary)
		script := fmt.Sprintf(hostSecretScript, canary)
		for _, kind := range []struct {
			name string
			opts []sandbox.Option
		}{{"default", nil}, {"privileged", []sandbox.Option{sandbox.Privileged()}}} {
			t.Run(kind.name, func(t *testing.T) {
				out := sh(t, kind.opts, script)
				for _, want := range []string{"/home 0\n", "/var/lib 0\n", "/run 0\n", "/tmp 0\n", "canary hidden\n", "tmp writable\n"} {
					if !strings.Contains(out, want) {
						t.Errorf("want %q in:\n%s", strings.TrimSpace(want), out)
					}
				}
				// Rootless, /root and /etc/shadow are closed to the caller on the
				// host, and stay so.
				for _, closed := range []string{"/root", "shadow"} {
					if !strings.Contains(out, closed+" 0\n") && !(testutil.Rootless() && strings.Contains(out, closed+" -\n")) {
						t.Errorf("%s is visible:\n%s", closed, out)
					}
				}
			})
		}
		t.Run("shown", func(t *testing.T) {
			out := sh(t, []sandbox.Option{sandbox.WithHostRoot(mounts.HostRoot{})}, script)
			if !strings.Contains(out, "canary visible\n") {
				t.Errorf("an empty HostRoot still hides the host's temporary files:\n%s", out)
			}
			if !testutil.Rootless() && !strings.Contains(out, fmt.Sprintf("shadow %d\n", shadow.Size())) {
				t.Errorf("an empty HostRoot still hides /etc/shadow from root:\n%s", out)
			}
		})
	})
}
