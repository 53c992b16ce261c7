package cgroup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A FreezerState is the state of a cgroup's freezer: whether its processes run.
type FreezerState string

// The freezer states, as v1's freezer.state names them. On v2, Freezing is a
// cgroup.freeze of 1 that cgroup.events does not report as "frozen 1" yet.
const (
	Thawed   FreezerState = "THAWED"
	Freezing FreezerState = "FREEZING"
	Frozen   FreezerState = "FROZEN"
)

// Freeze stops every process of the cgroup: they stay where they are, in no
// state a signal (other than, on v2, SIGKILL) can leave, until Thaw. It uses the
// v1 freezer controller where the cgroup has it (freezer.state), otherwise the
// v2 directory's cgroup.freeze. The kernel freezes tasks one by one; Freeze
// waits until it reports the whole cgroup frozen, or until ctx ends, and then
// thaws it again and returns ctx's error. Without a freezer it fails with an
// error matching ErrNotSupported.
func (c *Cgroup) Freeze(ctx context.Context) error {
	if err := c.setFrozen(true); err != nil {
		return err
	}
	delay := 100 * time.Microsecond
	for {
		st, err := c.FreezerState()
		if err != nil || st == Frozen {
			return err
		}
		// v1: a write of FROZEN starts another pass over tasks that were busy
		// (in a vfork, in an uninterruptible sleep) in the last one.
		if err := c.setFrozen(true); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			c.setFrozen(false)
			return fmt.Errorf("cgroup: freeze %s: still %s: %w", c.Name(), st, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Millisecond)
	}
}

// Thaw lets the processes of a frozen cgroup run again, and waits until the
// kernel reports the cgroup thawed or ctx ends. A cgroup that is not frozen is
// no error.
func (c *Cgroup) Thaw(ctx context.Context) error {
	if err := c.setFrozen(false); err != nil {
		return err
	}
	for {
		st, err := c.FreezerState()
		if err != nil || st == Thawed {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cgroup: thaw %s: still %s: %w", c.Name(), st, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// FreezerState reads the state of the cgroup's freezer: freezer.state on v1;
// cgroup.freeze and the "frozen" line of cgroup.events on v2. Without a
// freezer it fails with an error matching ErrNotSupported.
func (c *Cgroup) FreezerState() (FreezerState, error) {
	v1, v2, err := c.freezer()
	if err != nil {
		return "", err
	}
	if v1 != "" {
		p := filepath.Join(v1, "freezer.state")
		b, err := readFile(p)
		if err != nil {
			return "", fileError("read", p, "", unwrapPath(err))
		}
		return FreezerState(strings.TrimSpace(string(b))), nil
	}
	want, err := readUint(filepath.Join(v2, "cgroup.freeze"))
	if err != nil {
		return "", err
	}
	frozen, err := readKey(filepath.Join(v2, "cgroup.events"), "frozen")
	switch {
	case err != nil:
		return "", err
	case frozen == 1:
		return Frozen, nil
	case want == 1:
		return Freezing, nil
	}
	return Thawed, nil
}

// setFrozen writes the request to freeze or thaw.
func (c *Cgroup) setFrozen(on bool) error {
	v1, v2, err := c.freezer()
	if err != nil {
		return err
	}
	if v1 != "" {
		st := Thawed
		if on {
			st = Frozen
		}
		return writeFile(filepath.Join(v1, "freezer.state"), string(st))
	}
	val := "0"
	if on {
		val = "1"
	}
	return writeFile(filepath.Join(v2, "cgroup.freeze"), val)
}

// freezer returns the directory whose freezer Freeze uses: the v1 freezer's,
// or else the v2 one where it has cgroup.freeze (Linux 5.2).
func (c *Cgroup) freezer() (v1, v2 string, err error) {
	switch {
	case c == nil:
		return "", "", unsupported("freezer", "the sandbox has no cgroup")
	case c.v1["freezer"] != "":
		return c.v1["freezer"], "", nil
	case c.v2dir != "":
		if _, err := os.Stat(filepath.Join(c.v2dir, "cgroup.freeze")); err == nil {
			return "", c.v2dir, nil
		}
		return "", "", unsupported("freezer", c.v2dir+" has no cgroup.freeze (Linux 5.2) and the cgroup is in no v1 freezer hierarchy")
	}
	return "", "", unsupported("freezer", "the cgroup is in no freezer hierarchy and has no v2 directory")
}
