package sandbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestTemplateFollowsHostMounts checks that a long-lived Template on the default
// root keeps working while the host's mount table changes under it: a mount made
// below /tmp after Build (in a private mount namespace of the test, so the host
// is untouched) leaves the next start working, and so does its unmount. Rootless
// on the host's "/", the root is one overlay per top-level directory, planned
// against the mount table (a directory with a mount below it cannot be a layer
// there): the plan must follow the table. It runs as root, rootful and with a
// user namespace, and as uid 65534; each variant also with a read-only root,
// whose remounts follow the same plan.
func TestTemplateFollowsHostMounts(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		type variant struct {
			name string
			opts []sandbox.Option
		}
		variants := []variant{{"default", nil}, {"read-only", []sandbox.Option{sandbox.WithReadonlyRootfs()}}}
		if !testutil.Rootless() {
			variants = append(variants, variant{"user namespace", []sandbox.Option{sandbox.Rootless()}},
				variant{"user namespace, read-only", []sandbox.Option{sandbox.Rootless(), sandbox.WithReadonlyRootfs()}})
		}
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				tpl, err := sandbox.NewBuilder(v.opts...).Build()
				if err != nil {
					t.Fatal(err)
				}
				defer tpl.Close()
				dir := t.TempDir()
				if !strings.HasPrefix(dir, "/tmp/") {
					t.Fatalf("the temporary directory %s is not below /tmp", dir)
				}
				if err := os.Chmod(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				script := "cat /etc/hostname >/dev/null && ls /usr/bin/env && ls -A /tmp"
				check := func(when string) {
					t.Helper()
					out, st := runTemplate(t, tpl, "/bin/sh", "-c", script)
					if !st.Success() || out != "/usr/bin/env\n" {
						t.Fatalf("%s: %v\n%s", when, st, out)
					}
				}
				check("before the mount")
				mounted := 0
				t.Cleanup(func() {
					for ; mounted > 0; mounted-- {
						m.Unmount(t, dir)
					}
				})
				m.Mount(t, dir)
				mounted++
				check("after a mount below /tmp")
				m.Mount(t, dir)
				mounted++
				check("after a second mount there")
				for ; mounted > 0; mounted-- {
					m.Unmount(t, dir)
				}
				check("after the unmounts")
			})
		}
		var opts []sandbox.Option
		if !testutil.Rootless() {
			opts = []sandbox.Option{sandbox.Rootless()}
		}
		t.Run("split root follows", func(t *testing.T) { splitRootFollows(t, m, opts) })
		t.Run("stale", func(t *testing.T) { staleUntilRemounted(t, m, opts) })
	})
}

// staleUntilRemounted checks the Template that cannot follow the mount table: its
// bind's source lies on a mount that goes away, so the plan cannot be made again.
// Start says so with an error matching ErrStale that names the source, at every start until the
// table changes again; once the mount is back, starts work again, without a new
// Build.
func staleUntilRemounted(t *testing.T, m *testutil.Mounter, opts []sandbox.Option) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	mount := func(content string) {
		t.Helper()
		m.Mount(t, dir)
		if err := os.WriteFile(data, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mount("first\n")
	mounted := true
	defer func() {
		if mounted {
			m.Unmount(t, dir)
		}
	}()
	tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithBind(data, "/data", true))...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	if out, st := runTemplate(t, tpl, "/bin/cat", "/data"); !st.Success() || out != "first\n" {
		t.Fatalf("before the unmount: %v, %q", st, out)
	}
	m.Unmount(t, dir)
	mounted = false
	for _, when := range []string{"after the unmount", "asked again"} {
		_, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/cat", "/data"}})
		if !errors.Is(err, sandbox.ErrStale) || !strings.Contains(err.Error(), data) {
			t.Fatalf("%s: Run = %v, want an error matching ErrStale that names %s", when, err, data)
		}
		t.Logf("%s: %v", when, err)
	}
	mount("second\n")
	mounted = true
	if out, st := runTemplate(t, tpl, "/bin/cat", "/data"); !st.Success() || out != "second\n" {
		t.Fatalf("once the mount is back: %v, %q", st, out)
	}
}

// splitRootFollows checks that a top-level directory of a split root follows the
// host's mounts: a directory with a mount below it is left empty in the sandbox
// (it cannot be a layer), and once that mount is gone it is the host's again. The
// test's private mount namespace gets a tmpfs on /opt with a file in it first.
func splitRootFollows(t *testing.T, m *testutil.Mounter, opts []sandbox.Option) {
	if _, err := os.Stat("/opt"); err != nil {
		t.Skipf("no /opt on this host to mount on: %v", err)
	}
	m.Mount(t, "/opt")
	defer m.Unmount(t, "/opt")
	if err := os.WriteFile("/opt/paddock-marker", []byte("here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("/opt/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	list := func(when, want string) {
		t.Helper()
		out, st := runTemplate(t, tpl, "/bin/sh", "-c", "ls -A /opt | tr '\\n' ' '")
		if !st.Success() || out != want {
			t.Errorf("%s: /opt holds %q (%v), want %q", when, out, st, want)
		}
	}
	list("with /opt a layer", "paddock-marker sub ")
	m.Mount(t, "/opt/sub")
	list("with a mount below /opt", "")
	m.Unmount(t, "/opt/sub")
	list("once that mount is gone", "paddock-marker sub ")
}
