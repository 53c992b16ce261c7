package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// envSoak sets how long TestSoak runs (a Go duration); without it the test skips.
// .ci/run runs it for ten minutes.
const envSoak = "PADDOCK_SOAK"

// soakCounts are what a soak saw, by outcome.
type soakCounts struct {
	ok, killed, ctxEnded, changing, mounts, failures atomic.Int64
}

// TestSoak runs long-lived Templates (rootful with a cgroup, and on the host's "/"
// in a user namespace, whose root is split per top-level directory) under
// concurrent starts, while it mounts and unmounts under /tmp, kills sandboxes at
// random and ends others by their context, in a private mount namespace. Every
// start must end as the test made it end; afterwards no descriptor, goroutine,
// mount, cgroup or staging directory may be left. It runs only when PADDOCK_SOAK
// says for how long (.ci/run: ten minutes).
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv(envSoak))
	if err != nil || d <= 0 {
		t.Skipf("the soak runs only when %s gives its duration (.ci/run sets 10m)", envSoak)
	}
	testutil.InPrivateMounts(t, func(t *testing.T, m *testutil.Mounter) { soak(t, m, d) })
}

func soak(t *testing.T, m *testutil.Mounter, d time.Duration) {
	fds, goroutines, mounts := testutil.FDs(), runtime.NumGoroutine(), mountCount(t)
	parent := "/paddock-soak-" + testutil.RunID()
	tpls := []*Template{
		soakTemplate(t, Rootful(), WithCgroupParent(parent)),
		soakTemplate(t, Rootless()),
	}
	var c soakCounts
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); soakMounts(t, m, stop, &c) }()
	for w := range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := soakStart(tpls[r.IntN(len(tpls))], r, &c)
				switch {
				case errors.Is(err, ErrMountsChanging):
					c.changing.Add(1) // a typed refusal that says why: allowed, and counted
					t.Logf("worker %d: %v", w, err)
				case err != nil:
					c.failures.Add(1)
					t.Errorf("worker %d: %v", w, err)
				}
			}
		}()
	}
	begin := time.Now()
	tick := time.NewTicker(time.Minute)
	for end := time.After(d); ; {
		select {
		case <-tick.C:
			t.Logf("%v: %s", time.Since(begin).Round(time.Second), c.summary(tpls))
			continue
		case <-end:
		}
		break
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	t.Logf("soak of %v: %s", time.Since(begin).Round(time.Second), c.summary(tpls))
	for _, tpl := range tpls {
		tpl.Close()
	}
	soakLeftovers(t, fds, goroutines, mounts)
}

func soakTemplate(t *testing.T, opts ...Option) *Template {
	tpl, err := NewBuilder(opts...).Build()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tpl.Close() })
	return tpl
}

func (c *soakCounts) summary(tpls []*Template) string {
	plans := 0
	for _, tpl := range tpls {
		plans += replans(tpl)
	}
	n := c.ok.Load() + c.killed.Load() + c.ctxEnded.Load() + c.changing.Load() + c.failures.Load()
	return fmt.Sprintf("%d starts: %d ran to the end, %d killed by the test, %d ended by their context, "+
		"%d refused as the mount table changed under every attempt, %d failed; %d host mount changes, %d new plans",
		n, c.ok.Load(), c.killed.Load(), c.ctxEnded.Load(), c.changing.Load(), c.failures.Load(), c.mounts.Load(), plans)
}

// soakMounts mounts a tmpfs under /tmp, and unmounts it, every few milliseconds
// until stop.
func soakMounts(t *testing.T, m *testutil.Mounter, stop <-chan struct{}, c *soakCounts) {
	dirs := []string{t.TempDir(), t.TempDir()}
	for i := 0; ; i++ {
		dir := dirs[i%len(dirs)]
		m.Mount(t, dir)
		c.mounts.Add(1)
		select {
		case <-stop:
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
		m.Unmount(t, dir)
		c.mounts.Add(1)
		select {
		case <-stop:
			return
		case <-time.After(time.Duration(5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

// soakStart starts one sandbox and ends it one of three ways: it runs to the end
// (and must have echoed its input), the test kills it, or its context ends. It
// returns what no such end explains.
func soakStart(tpl *Template, r *rand.Rand, c *soakCounts) error {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	how := r.IntN(8)
	if how == 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(1+r.IntN(10))*time.Millisecond)
	}
	defer cancel()
	word := fmt.Sprintf("w%d", r.Int())
	var out bytes.Buffer
	cmd := Command{Args: []string{"/bin/sh", "-c", `read x; echo "$x"; [ "$1" = 0 ] || sleep 0.05`, "sh", fmt.Sprint(how % 2)},
		Stdin: strings.NewReader(word + "\n"), Stdout: &out}
	p, err := tpl.Start(ctx, cmd)
	if err != nil {
		if how == 0 && errors.Is(err, context.DeadlineExceeded) {
			c.ctxEnded.Add(1)
			return nil
		}
		return fmt.Errorf("start: %w", err)
	}
	kill := how == 1 || how == 2
	if kill {
		time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
		p.Signal(syscall.SIGKILL)
	}
	st, err := p.Wait()
	switch {
	case how == 0 && errors.Is(err, context.DeadlineExceeded):
		c.ctxEnded.Add(1)
	case err != nil:
		return fmt.Errorf("wait: %w", err)
	case kill && st.Signal == syscall.SIGKILL:
		c.killed.Add(1)
	case st.Code != 0 || strings.TrimSpace(out.String()) != word:
		return fmt.Errorf("ended with %v, wrote %q for %q", st, out.String(), word)
	default:
		c.ok.Add(1)
	}
	return nil
}

// soakLeftovers fails t where the soak left something behind.
func soakLeftovers(t *testing.T, fds map[string]string, goroutines, mounts int) {
	testutil.NoNewFDs(t, fds)
	for end := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), goroutines, buf[:runtime.Stack(buf, true)])
			break
		}
	}
	if n := mountCount(t); n != mounts {
		t.Errorf("%d mounts, %d before", n, mounts)
	}
	staging, _ := filepath.Glob(filepath.Join(os.TempDir(), stagingPrefix+"*"))
	if len(staging) > 0 {
		t.Errorf("staging directories left: %v", staging)
	}
	for _, c := range testutil.CgroupsWithRunID() {
		t.Errorf("cgroup left: %s", c)
	}
}

func mountCount(t *testing.T) int {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(mi, []byte{'\n'})
}
