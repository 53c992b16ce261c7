package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// requireFuse skips where the fuse driver cannot run: fuse-overlayfs or nsenter
// missing, or /dev/fuse missing or closed to the caller.
func requireFuse(t *testing.T) {
	t.Helper()
	if err := overlay.FuseAvailable(); errors.Is(err, overlay.ErrNotSupported) {
		t.Skipf("fuse-overlayfs driver: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// fuseChildren returns the pids of the fuse-overlayfs processes this process started.
func fuseChildren(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		st := string(b)
		if strings.HasPrefix(st, "Name:\tfuse-overlayfs\n") && strings.Contains(st, "\nPPid:\t"+self+"\n") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// writable returns a temporary directory of the caller's with a file in it.
func writable(t *testing.T) string {
	dir, err := os.MkdirTemp("", "paddock-fuse-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "host"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openFuseForNobody lets the rootless half run where /dev/fuse is closed to other
// users (mode 0600 here; Debian's default is 0666): as root, it opens the device's
// mode for the duration of the test and puts back the mode it read.
func openFuseForNobody(t *testing.T) {
	t.Helper()
	if os.Getenv(testutil.EnvMode) != "" || os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat("/dev/fuse")
	if err != nil || st.Mode().Perm()&0o006 == 0o006 {
		return
	}
	mode := st.Mode().Perm()
	if err := os.Chmod("/dev/fuse", mode|0o006); err != nil {
		t.Logf("cannot open /dev/fuse to other users: %v", err)
		return
	}
	t.Cleanup(func() {
		if err := os.Chmod("/dev/fuse", mode); err != nil {
			t.Errorf("restoring the mode of /dev/fuse to %v: %v", mode, err)
		}
	})
}

func TestFuseRoot(t *testing.T) {
	openFuseForNobody(t)
	testutil.Modes(t, func(t *testing.T) {
		requireFuse(t)
		dir := writable(t)
		top := fmt.Sprintf("/paddock-fuse-%d", os.Getpid())
		usr := fmt.Sprintf("/usr/paddock-fuse-%d", os.Getpid())
		defer os.Remove(top) // only if the test fails: it must not reach the host
		defer os.Remove(usr)
		script := fmt.Sprintf(`
grep ' / / ' /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1
cat %[1]s/host
head -1 /etc/passwd
echo new > %[1]s/new && echo written
for p in %[2]s %[3]s; do if echo x > $p 2>/dev/null; then echo "$p ok"; else echo "$p refused"; fi; done
`, dir, top, usr)
		var out string
		leavesNothing(t, func(t *testing.T) {
			// The host's whole "/", /tmp included, is the lower layer here.
			out = sh(t, []sandbox.Option{sandbox.WithOverlayDriver(overlay.Fuse), sandbox.WithHostRoot(mounts.HostRoot{})}, script)
			if pids := fuseChildren(t); len(pids) != 0 {
				t.Errorf("fuse-overlayfs %v still runs after Wait", pids)
			}
		})
		passwd, _ := os.ReadFile("/etc/passwd")
		first, _, _ := strings.Cut(string(passwd), "\n")
		// Rootless too: in a user namespace fuse-overlayfs squashes every owner to
		// the namespace's root (the host's root is not mapped there).
		want := "fuse.fuse-overlayfs\nfrom the host\n" + first + "\nwritten\n" + top + " ok\n" + usr + " ok\n"
		if out != want {
			t.Errorf("inside:\n%s\nwant:\n%s", out, want)
		}
		for _, p := range []string{filepath.Join(dir, "new"), top, usr} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s reached the host: the upper layer is ephemeral", p)
			}
		}
	})
}

func TestFusePersistentUpper(t *testing.T) {
	openFuseForNobody(t)
	testutil.Modes(t, func(t *testing.T) {
		requireFuse(t)
		upper, work := upperDirs(t)
		dir := writable(t)
		top := fmt.Sprintf("/paddock-fuse-%d", os.Getpid())
		usr := fmt.Sprintf("/usr/paddock-fuse-%d", os.Getpid())
		defer os.Remove(top)
		defer os.Remove(usr)
		opts := []sandbox.Option{sandbox.WithOverlayDriver(overlay.Fuse), sandbox.WithOverlayUpper(upper, work), sandbox.WithHostRoot(mounts.HostRoot{})}
		script := fmt.Sprintf("echo new > %s/new && rm %s/host && echo top > %s && echo usr > %s", dir, dir, top, usr)
		written := []string{filepath.Join(dir, "new"), top, usr}
		leavesNothing(t, func(t *testing.T) { sh(t, opts, script) })
		for _, p := range written {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s reached the host", p)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "host")); err != nil {
			t.Errorf("the host's file was deleted: %v", err)
		}
		ch, err := overlay.Diff(upper, "/")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range written {
			if !slices.Contains(ch.Added, p) {
				t.Errorf("Diff: %s not in Added %q", p, ch.Added)
			}
		}
		if !slices.Contains(ch.Deleted, filepath.Join(dir, "host")) {
			t.Errorf("Diff: %s/host not in Deleted %q", dir, ch.Deleted)
		}
		// A second sandbox on the same upper sees the first one's changes.
		out := sh(t, opts, fmt.Sprintf("cat %s/new; ls %s", dir, dir))
		if out != "new\nnew\n" {
			t.Errorf("second run: %q", out)
		}
	})
}

func TestFuseDaemonLifetime(t *testing.T) {
	openFuseForNobody(t)
	testutil.Modes(t, func(t *testing.T) {
		requireFuse(t)
		tpl, err := sandbox.NewBuilder(sandbox.WithOverlayDriver(overlay.Fuse)).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		leavesNothing(t, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sh", "-c", "read x; echo $x"}, Stdin: r, Stdout: &out})
			r.Close()
			if err != nil {
				w.Close()
				t.Fatal(err)
			}
			if pids := fuseChildren(t); len(pids) != 1 {
				t.Errorf("fuse-overlayfs processes while the sandbox runs: %v, want one", pids)
			}
			w.WriteString("bye\n")
			w.Close()
			st, err := p.Wait()
			if err != nil || !st.Success() || out.String() != "bye\n" {
				t.Fatalf("Wait: %v %v %q", st, err, out.String())
			}
			if pids := fuseChildren(t); len(pids) != 0 {
				t.Errorf("fuse-overlayfs %v still runs after Wait", pids)
			}
		})
	})
}

func TestFuseVforkRefused(t *testing.T) {
	requireFuse(t)
	_, err := sandbox.NewBuilder(sandbox.WithOverlayDriver(overlay.Fuse), sandbox.WithSpawnMode(sandbox.SpawnVfork)).Build()
	var se *sandbox.SpecError
	if !errors.As(err, &se) || se.Field != "spawn" || !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Fatalf("want a *SpecError for spawn, got %T: %v", err, err)
	}
}

// BenchmarkOverlayDriver compares a whole Run of /bin/true with the root assembled
// by kernel overlayfs and by fuse-overlayfs (nsenter, unshare and the daemon's
// start and stop are in the fuse figure).
func BenchmarkOverlayDriver(b *testing.B) {
	for _, d := range []overlay.Driver{overlay.Kernel, overlay.Fuse} {
		b.Run(string(d), func(b *testing.B) {
			if d == overlay.Fuse {
				if err := overlay.FuseAvailable(); err != nil {
					b.Skipf("fuse-overlayfs driver: %v", err)
				}
			}
			tpl, err := sandbox.NewBuilder(sandbox.WithOverlayDriver(d)).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer tpl.Close()
			cmd := sandbox.Command{Args: []string{"/bin/true"}}
			b.ResetTimer()
			for b.Loop() {
				if _, err := tpl.Run(context.Background(), cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
