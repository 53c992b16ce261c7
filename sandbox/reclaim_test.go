package sandbox_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// envKilledCaller makes the test binary act as a caller that is killed: it builds
// a Template, starts a sandbox, prints its owner ID and waits.
const envKilledCaller = "PADDOCK_TEST_KILLED_CALLER"

func init() {
	if os.Getenv(envKilledCaller) != "1" {
		return
	}
	tpl, err := sandbox.NewBuilder().Build()
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	if _, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}}); err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	id, _ := owner.Held()
	os.Stdout.WriteString(id + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// leftBy lists what carries owner id on the host: staging directories, cgroup
// directories in every hierarchy, and its lock file.
func leftBy(t *testing.T, id string) []string {
	t.Helper()
	var left []string
	m, _ := filepath.Glob(filepath.Join(os.TempDir(), "paddock-root-"+id+"-*"))
	left = append(left, m...)
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.Contains(d.Name(), id) {
			left = append(left, p)
			return filepath.SkipDir
		}
		return nil
	})
	if dir, err := owner.Dir(); err == nil {
		if _, err := os.Stat(filepath.Join(dir, id+".lock")); err == nil {
			left = append(left, filepath.Join(dir, id+".lock"))
		}
	}
	return left
}

// TestReclaimKilledCaller kills a caller (SIGKILL: no cleanup of its own runs) while
// its sandbox runs, and checks that what it left (its staging directory, its
// sandbox's cgroups where it had some, its lock file) is reclaimed by the next
// process's Reclaim, and nothing of it before it died.
func TestReclaimKilledCaller(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envKilledCaller+"=1")
		line := strings.TrimSpace(testutil.StartLine(t, cmd))
		if !owner.ValidID(line) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the caller said %q", line)
		}
		// While it lives, a pass leaves everything of it.
		if err := sandbox.Reclaim(); err != nil {
			t.Fatal(err)
		}
		alive := leftBy(t, line)
		if len(alive) < 2 {
			t.Errorf("the live caller has %v; want its staging directory and lock file at least", alive)
		}
		cmd.Process.Kill()
		cmd.Wait()
		if left := leftBy(t, line); len(left) != len(alive) {
			t.Fatalf("after SIGKILL: %v, before %v", left, alive)
		}
		// Its sandbox dies with it (parent-death signal); its cgroups empty soon.
		reclaimUntil(t, func() []string { return leftBy(t, line) })
	})
}

// reclaimUntil runs Reclaim passes until left, what a killed caller left
// behind, is empty, for up to 10 s: what a dead caller's sandboxes hold goes
// only once they have died too. It then removes the lock directory that the
// killed caller made in the test's TMPDIR (a rootless caller's), which
// Reclaim emptied; root's, in /run, is shared with every other caller.
func reclaimUntil(t *testing.T, left func() []string) {
	t.Helper()
	t.Cleanup(func() {
		if dir, err := owner.Dir(); err == nil && testutil.Rootless() {
			os.Remove(dir)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := sandbox.Reclaim(); err != nil {
			t.Fatal(err)
		}
		l := left()
		if len(l) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left after Reclaim: %v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReclaimSparesTheLiving runs Reclaim passes without pause while sandboxes are
// built and started from two goroutines: no pass may remove the cgroup or the
// staging directory of a live sandbox, including a cgroup v1 directory between
// its mkdir and the child joining it, when it is still empty.
func TestReclaimSparesTheLiving(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		var stop atomic.Bool
		var passes atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				sandbox.Reclaim()
				passes.Add(1)
			}
		}()
		var wg sync.WaitGroup
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 15; i++ {
					tpl, err := sandbox.NewBuilder().Build()
					if err != nil {
						t.Error(err)
						return
					}
					st, err := tpl.Run(context.Background(), sandbox.Command{Args: []string{"/bin/true"}})
					tpl.Close()
					if err != nil || !st.Success() {
						t.Errorf("a start beside Reclaim: %v %v", st, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		stop.Store(true)
		<-done
		t.Logf("%d Reclaim passes beside 30 starts", passes.Load())
	})
}
