package sandbox

import (
	"context"
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

// TestTemplateReplansOnChange: a Template plans its filesystem again once per
// change of the host's mount table (a mount under /tmp, its unmount), not for
// starting sandboxes, which change only their own namespaces; nothing is left
// behind.
func TestTemplateReplansOnChange(t *testing.T) {
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
