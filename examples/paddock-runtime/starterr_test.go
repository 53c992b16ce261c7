package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartExecError: create of a container whose program cannot be executed
// fails with exit 1 and runc's message, naming the program and the errno, as
// runc finds it at create, and leaves nothing; run says the same. A program
// that goes between create and start fails start so, and leaves the
// container stopped, for delete. As root and as uid 65534.
func TestStartExecError(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		for _, c := range []struct{ prog, want string }{
			{"/bin/nope", `exec: "/bin/nope": no such file or directory`},
			{"nope", `exec: "nope": executable file not found in $PATH`},
			{"/etc", `exec: "/etc": permission denied`},
		} {
			b := r.bundle(t, []string{c.prog}, t.TempDir(), nil)
			if o, code := r.run(t, "create", "--bundle", b, "box"); code != 1 || !strings.Contains(o, c.want) {
				t.Errorf("create of %s: exit %d: %q; want %q", c.prog, code, o, c.want)
			}
			r.gone(t, "box")
			if o, code := r.run(t, "run", "--bundle", b, "box"); code != 1 || !strings.Contains(o, c.want) {
				t.Errorf("run of %s: exit %d: %q; want %q", c.prog, code, o, c.want)
			}
			r.gone(t, "box")
		}
		out := t.TempDir()
		prog := filepath.Join(out, "prog")
		if err := os.WriteFile(prog, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		b := r.bundle(t, []string{"/out/prog"}, out, nil)
		r.must(t, "create", "--bundle", b, "box")
		os.Remove(prog)
		const want = `exec: "/out/prog": no such file or directory`
		if o, code := r.run(t, "start", "box"); code != 1 || !strings.Contains(o, want) {
			t.Errorf("start of a program gone since create: exit %d: %q; want %q", code, o, want)
		}
		r.waitStatus(t, "box", "stopped")
		r.must(t, "delete", "box")
		r.gone(t, "box")
	})
}
