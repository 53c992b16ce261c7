package sandbox

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// TestPoolAllocs counts the parent's allocations of a pooled Start+Wait, the
// refill left out (the pool is not refilled while it counts), beside an
// unpooled one of the same Template: a pooled one makes no more.
func TestPoolAllocs(t *testing.T) {
	testutil.Modes(t, testPoolAllocs)
}

func testPoolAllocs(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"nocgroup", []Option{WithoutCgroup()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := NewBuilder(c.opts...).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			const runs = 5
			if err := tpl.Pool(context.Background(), runs+1); err != nil {
				t.Fatal(err)
			}
			for tpl.Warm() != runs+1 {
				time.Sleep(time.Millisecond)
			}
			pl := tpl.pool.Load()
			pl.mu.Lock()
			pl.n = 0 // no refill while counting
			pl.mu.Unlock()
			ctx := context.Background()
			cmd := Command{Args: []string{"/bin/true"}}
			run := func() {
				p, err := tpl.Start(ctx, cmd)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Wait(); err != nil {
					t.Fatal(err)
				}
			}
			pooled := testing.AllocsPerRun(runs, run)
			if tpl.Warm() != 0 {
				t.Fatalf("%d warm left: not every start was pooled", tpl.Warm())
			}
			unpooled := testing.AllocsPerRun(runs, run)
			t.Logf("allocations per Start+Wait: pooled %.0f, unpooled %.0f", pooled, unpooled)
			if pooled > unpooled {
				t.Errorf("a pooled start allocates more than an unpooled one")
			}
		})
	}
}

// loadIndex returns the index of tpl's seccomp load in its program, or -1.
func loadIndex(tpl *Template) int {
	for i, op := range tpl.prog.Ops {
		if op.Kind == child.KindSeccomp {
			return i
		}
	}
	return -1
}

// TestPoolConfinesEarly checks where Build places no_new_privs and the filter's
// load: before the pool point for the default profile, which allows every
// later call, after it for one that refuses prlimit64 or holds a call for a
// listener.
func TestPoolConfinesEarly(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		noRlimit := seccomp.Default(caps.DockerDefault.Names())
		noRlimit.Syscalls = append([]seccomp.Rule{{Names: []string{"prlimit64"}, Action: seccomp.ActErrno}}, noRlimit.Syscalls...)
		notify := seccomp.Default(caps.DockerDefault.Names())
		notify.Syscalls = append([]seccomp.Rule{{Names: []string{"mkdir"}, Action: seccomp.ActNotify}}, notify.Syscalls...)
		for _, c := range []struct {
			name  string
			opts  []Option
			early bool
		}{
			{"default", nil, true},
			{"without no_new_privs", []Option{WithNoNewPrivileges(false)}, true},
			{"workdir", []Option{WithWorkdir("/usr")}, false},
			{"refuses prlimit64", []Option{WithSeccompProfile(noRlimit)}, false},
			{"listener", []Option{WithSeccompProfile(notify)}, false},
		} {
			tpl, err := NewBuilder(c.opts...).Build()
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			at := loadIndex(tpl)
			if at < 0 || (at < tpl.poolAt) != c.early {
				t.Errorf("%s: load at op %d, pool point at %d; want before it: %v", c.name, at, tpl.poolAt, c.early)
			}
			if c.early && tpl.spec.NoNewPrivileges && tpl.prog.Ops[at-1].Args[0] != unix.PR_SET_NO_NEW_PRIVS {
				t.Errorf("%s: no_new_privs is not right before the load", c.name)
			}
			tpl.Close()
		}
	})
}
