package sandbox

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/mountwatch"
	"github.com/paddock-sandbox/paddock/mounts"
)

// ErrStale reports a Template whose plan of the root filesystem no longer fits the
// host: the host's mount table changed since Build and the Template could not plan
// its filesystem again. Build a new Template (and Close this one).
var ErrStale = errors.New("sandbox: the template no longer fits the host's mounts")

// ErrMountsChanging says that the host's mount table changed under every attempt
// of a Start (see Template.Start): the Template still fits the host, and the start
// can be tried again once the host's mounts settle.
var ErrMountsChanging = errors.New("sandbox: the host's mount table changed under each attempt to start")

// staleError is the error of a Start whose new plan of the root filesystem
// failed: it matches ErrStale and wraps the reason.
func staleError(err error) error {
	return fmt.Errorf("sandbox: the host's mount table changed since Build and the root cannot be planned again "+
		"(until it changes again, or build a new Template): %w (%w)", err, ErrStale)
}

// A mountWatch keeps a Template's filesystem plan in step with the host's mount
// table, which the plan reads at Build: a mount made on the host later (under
// /tmp, say) would make the plan's overlay of that directory fail, so each Start
// first asks whether the table changed since the plan was made (package
// mountwatch), and plans the filesystem segment of the child's program again if
// so. A start that fails on a mount of the plan is planned and tried again too
// (see replanAfter): the table's watch can miss a change.
type mountWatch struct {
	mu    sync.Mutex
	table mountwatch.Table
	file  *os.File // the table's /proc/self/mountinfo, or nil; the Template closes it
	// base is the program made at Build, whose ops [from, baseTo) are its
	// filesystem segment; prog is the current one, base with that segment planned
	// again, and to is where the current segment ends in it.
	base, prog   *child.Program
	from, baseTo int
	to           int
	steps        []mounts.Step // the current plan's mount steps; nil: the Template's
	replans      int           // how many times the plan was made again, for tests
	err          error         // why the last new plan failed, until the table changes again
}

// newMountWatch returns a watch of the caller's mount table as it is now, or nil
// where no change could be told.
func newMountWatch() *mountWatch {
	w := &mountWatch{}
	if !w.table.Start() {
		return nil
	}
	w.file = w.table.File()
	return w
}

// watchMounts starts watching the mount table for t's program, whose filesystem
// segment is ops [from, to).
func (t *Template) watchMounts(w *mountWatch, from, to int) {
	if w == nil {
		return
	}
	w.base, w.prog, w.from, w.baseTo, w.to = t.prog, t.prog, from, to, to
	if w.file != nil {
		t.files = append(t.files, w.file)
	}
	t.mounts = w
}

// program returns the child's program for the next start: t.prog, planned again
// first if the host's mount table changed since it was made.
func (t *Template) program() (*child.Program, error) {
	w := t.mounts
	if w == nil {
		return t.prog, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.table.Changed() {
		t.replan()
	}
	if w.err != nil {
		return nil, w.err
	}
	return w.prog, nil
}

// replanAfter reports whether a start of prog that failed with err should be
// tried again with a new plan, and makes it: the start failed in the filesystem
// segment on a mount of the plan rather than on a path inside the root (which a new
// plan would not change), and not with EACCES, which a new plan would not
// change either (see explainAccess). The host's table may look as it did at the plan (a mount
// made and gone again while the child worked: mount IDs cannot show that, and the
// poll can miss the unmount), so the failure alone is the reason; Start bounds the
// attempts.
func (t *Template) replanAfter(err error, prog *child.Program) bool {
	w := t.mounts
	var ce *ChildError
	if w == nil || !errors.As(err, &ce) || ce.Path != "" || ce.Errno == syscall.EACCES {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if prog != w.prog {
		return true // planned again already, by another start
	}
	if ce.Op < w.from || ce.Op >= w.to {
		return false
	}
	return t.replan() == nil
}

// replan compiles the filesystem segment again and splices it into a copy of the
// program made at Build (so that plans do not pile up); starts under way keep the
// program they began with. Where the new plan fails, every start fails with that
// error matching ErrStale until the table changes again and a plan succeeds. The caller holds
// t.mounts.mu.
func (t *Template) replan() error {
	w := t.mounts
	w.table.Mark() // before reading the table: a change while planning shows next time
	seg := &child.Program{}
	steps, err := t.compileFilesystem(seg, t.caller)
	if err != nil {
		w.err = staleError(err)
		return w.err
	}
	w.steps = steps
	w.prog, w.to, w.err = w.base.Splice(w.from, w.baseTo, seg), w.from+len(seg.Ops), nil
	w.replans++
	return nil
}
