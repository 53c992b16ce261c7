package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// replans returns how many times tpl planned its filesystem again.
func replans(tpl *Template) int {
	tpl.mounts.mu.Lock()
	defer tpl.mounts.mu.Unlock()
	return tpl.mounts.replans
}

// TestTemplateFollowsHostMounts: a long-lived Template on the host's "/" in a user
// namespace, where the root is split per top-level directory, keeps starting
// sandboxes after the host mounts something under /tmp and unmounts it again: the
// overlay of /tmp planned at Build would fail on the locked mount beneath it
// ("mount overlay on …/root/tmp: invalid argument"). Starting sandboxes alone is
// no change of the host's table, and nothing is left behind.
func TestTemplateFollowsHostMounts(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		tpl, err := NewBuilder(Rootless()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		if tpl.mounts == nil {
			t.Fatal("the Template does not watch the host's mount table")
		}
		fds := testutil.FDs()
		run := func(what string) {
			t.Helper()
			out, _, err := tpl.Output(context.Background(), Command{Args: []string{"/bin/sh", "-c", "echo ok"}})
			if err != nil || strings.TrimSpace(string(out)) != "ok" {
				t.Fatalf("%s: %q, %v", what, out, err)
			}
		}
		for range 3 {
			run("before any change")
		}
		if n := replans(tpl); n != 0 {
			t.Fatalf("%d new plans without a change of the host's mounts", n)
		}
		dir := t.TempDir()
		m.Mount(t, dir)
		run("after a mount under /tmp")
		m.Unmount(t, dir)
		run("after its unmount")
		if n := replans(tpl); n != 2 {
			t.Errorf("%d new plans for two changes, want 2", n)
		}
		testutil.NoNewFDs(t, fds)
	})
}

// TestTemplateStale: where the host changed so that the filesystem cannot be
// planned again (a bind's source is gone), Start says so with a StaleError that
// names the cause, before anything is cloned.
func TestTemplateStale(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		src := filepath.Join(t.TempDir(), "src")
		if err := os.Mkdir(src, 0o755); err != nil {
			t.Fatal(err)
		}
		tpl, err := NewBuilder(Rootless(), WithBind(src, "/srv/data", true)).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		if err := os.Remove(src); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		m.Mount(t, dir)
		defer m.Unmount(t, dir)
		_, err = tpl.Run(context.Background(), Command{Args: []string{"true"}})
		var se *StaleError
		if !errors.As(err, &se) || !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), src) {
			t.Fatalf("Start after the bind source's removal: %v, want a StaleError naming %s", err, src)
		}
		t.Log(err)
	})
}

// TestTemplateMountRace: starts that run while the host mounts and unmounts under
// /tmp all succeed: a start that a change defeated halfway is planned and tried
// again.
func TestTemplateMountRace(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		tpl, err := NewBuilder(Rootless()).Build()
		if err != nil {
			t.Fatal(err)
		}
		defer tpl.Close()
		dir := t.TempDir()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				m.Mount(t, dir)
				time.Sleep(2 * time.Millisecond)
				m.Unmount(t, dir)
				time.Sleep(2 * time.Millisecond)
			}
		}()
		deadline := time.Now().Add(2 * time.Second)
		starts := 0
		for time.Now().Before(deadline) {
			st, err := tpl.Run(context.Background(), Command{Args: []string{"true"}})
			if err != nil || st.ExitCode() != 0 {
				close(stop)
				wg.Wait()
				t.Fatalf("start %d while the host's mounts change: %v, %v", starts, st, err)
			}
			starts++
		}
		close(stop)
		wg.Wait()
		t.Logf("%d starts, %d new plans", starts, replans(tpl))
	})
}
