package main

import (
	"strings"
	"testing"
)

// TestStartExecError: start of a container whose program cannot be executed
// fails with exit 1 and runc's message, naming the program and the errno, and
// leaves the container stopped, for delete; run says the same and removes it.
// As root and as uid 65534.
func TestStartExecError(t *testing.T) {
	modes(t, func(t *testing.T, r *rt) {
		for _, c := range []struct{ prog, want string }{
			{"/bin/nope", `exec: "/bin/nope": no such file or directory`},
			{"nope", `exec: "nope": executable file not found in $PATH`},
			{"/etc", `exec: "/etc": permission denied`},
		} {
			b := r.bundle(t, []string{c.prog}, t.TempDir(), nil)
			r.must(t, "create", "--bundle", b, "box")
			if o, code := r.run(t, "start", "box"); code != 1 || !strings.Contains(o, c.want) {
				t.Errorf("start of %s: exit %d: %q; want %q", c.prog, code, o, c.want)
			}
			r.waitStatus(t, "box", "stopped")
			r.must(t, "delete", "box")
			r.gone(t, "box")
			if o, code := r.run(t, "run", "--bundle", b, "box"); code != 1 || !strings.Contains(o, c.want) {
				t.Errorf("run of %s: exit %d: %q; want %q", c.prog, code, o, c.want)
			}
			r.gone(t, "box")
		}
	})
}
