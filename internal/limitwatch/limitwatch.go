// Package limitwatch enforces the run-time limits of a sandbox that no kernel
// mechanism ends it for: its wall time and the CPU time of its cgroup, watched
// on timers, and the bytes of output that its copiers pass on. The first limit
// met kills the sandbox, once; the Watch remembers which one did.
package limitwatch

import (
	"sync"
	"sync/atomic"
	"time"
)

// minCPUCheck is the shortest wait between two looks at a sandbox's CPU time.
const minCPUCheck = 10 * time.Millisecond

// A Limit names what a Watch killed a sandbox for.
type Limit int

// The limits a Watch kills for.
const (
	None Limit = iota
	WallTime
	CPUTime
	Output
)

// A Watch is what a started sandbox keeps of its run-time limits: the timers of
// the wall-time and CPU-time limits, the bytes of output counted, and the limit
// it was killed for. The zero value watches nothing.
type Watch struct {
	output atomic.Int64

	mu       sync.Mutex
	stopped  bool
	killedBy Limit
	wall     *time.Timer
	cpu      *time.Timer
}

// Arm starts the timers of a run: after wall (> 0) and, with usage (which reads
// the CPU time of the sandbox's cgroup, false once it is gone), once cpuTime
// (> 0) is used up, it calls kill, unless another limit did first. usage is read
// when the limit could be reached at the earliest with cpus CPUs busy.
func (w *Watch) Arm(wall, cpuTime time.Duration, cpus int, usage func() (time.Duration, bool), kill func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if wall > 0 {
		w.wall = time.AfterFunc(wall, func() {
			if w.Kill(WallTime) {
				kill()
			}
		})
	}
	if cpuTime > 0 && usage != nil {
		w.cpu = time.AfterFunc(cpuTime/time.Duration(cpus), func() { w.checkCPU(cpuTime, cpus, usage, kill) })
	}
}

// checkCPU reads the CPU time: past the limit it kills the sandbox, below it it
// looks again when the limit could be reached at the earliest, with every CPU
// busy.
func (w *Watch) checkCPU(limit time.Duration, cpus int, usage func() (time.Duration, bool), kill func()) {
	used, ok := usage()
	if !ok {
		return
	}
	left := limit - used
	if left <= 0 {
		if w.Kill(CPUTime) {
			kill()
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.cpu.Reset(max(left/time.Duration(cpus), minCPUCheck))
	}
}

// Kill records that limit l ends the sandbox and reports whether the caller
// kills it now: not when another limit did first, or the Watch stopped.
func (w *Watch) Kill(l Limit) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped || w.killedBy != None {
		return false
	}
	w.killedBy = l
	return true
}

// Count adds n bytes to the output counted and returns the total.
func (w *Watch) Count(n int64) int64 { return w.output.Add(n) }

// Stop stops the timers and returns the limit the sandbox was killed for, or
// None.
func (w *Watch) Stop() Limit {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	for _, t := range []*time.Timer{w.wall, w.cpu} {
		if t != nil {
			t.Stop()
		}
	}
	return w.killedBy
}
