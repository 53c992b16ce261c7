package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevLinks: a container whose configuration mounts its own /dev (runc's
// template: a tmpfs, a devpts on /dev/pts, no default mounts) has runc's /dev
// links, and no /dev/console without a terminal; as root and as uid 65534.
func TestDevLinks(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		out := t.TempDir()
		script := "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; " +
			"ls /dev/fd/ | head -1; test -e /dev/console || echo no console; echo via-stdout >> /dev/stdout"
		b := r.bundle(t, []string{"sh", "-c", "{ " + script + "; } >> /out/links"}, out, nil)
		r.must(t, "run", "--bundle", b, "box")
		got, err := os.ReadFile(filepath.Join(out, "links"))
		if err != nil {
			t.Fatal(err)
		}
		want := "/proc/self/fd\n/proc/self/fd/0\n/proc/self/fd/1\n/proc/self/fd/2\npts/ptmx\n0\nno console\nvia-stdout\n"
		if _, err := os.Stat("/proc/kcore"); err == nil {
			t.Log("the host has /proc/kcore: /dev/core is made too")
		}
		if string(got) != want {
			t.Errorf("inside:\n%s\nwant:\n%s", got, want)
		}
		if strings.Contains(string(got), "No such file") {
			t.Error("a link is missing")
		}
		r.gone(t, "box")
	})
}
