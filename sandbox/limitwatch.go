package sandbox

import (
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// minCPUCheck is the shortest wait between two looks at a sandbox's CPU time.
const minCPUCheck = 10 * time.Millisecond

// limitWatch is what a Process keeps of its Template's Limits while it runs: the
// timers of the wall-time and CPU-time limits, the bytes of output counted, and
// the limit that Paddock killed the sandbox for.
type limitWatch struct {
	output atomic.Int64

	mu       sync.Mutex
	stopped  bool
	killedBy Limit
	wall     *time.Timer
	cpu      *time.Timer
}

// armLimits starts the watches of the Template's Limits; Start calls it once the
// target runs.
func (p *Process) armLimits() {
	l := &p.tmpl.spec.Limits
	w := &p.limits
	w.mu.Lock()
	defer w.mu.Unlock()
	if l.WallTime > 0 {
		w.wall = time.AfterFunc(l.WallTime, func() { p.limitKill(LimitWallTime) })
	}
	if l.CPUTime > 0 && p.cgroup != nil {
		if _, err := p.cgroup.CPUUsage(); err == nil {
			w.cpu = time.AfterFunc(l.CPUTime/time.Duration(onlineCPUs()), p.checkCPU)
		}
	}
}

// checkCPU reads the CPU time of the sandbox's cgroup: past the limit it kills the
// sandbox, below it it looks again when the limit could be reached at the
// earliest, with every CPU busy.
func (p *Process) checkCPU() {
	p.mu.Lock()
	cg := p.cgroup
	p.mu.Unlock()
	if cg == nil {
		return // Wait took it
	}
	used, err := cg.CPUUsage()
	if err != nil {
		return
	}
	limit := p.tmpl.spec.Limits.CPUTime
	left := limit - time.Duration(used)
	if left <= 0 {
		p.limitKill(LimitCPUTime)
		return
	}
	w := &p.limits
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.cpu.Reset(max(left/time.Duration(onlineCPUs()), minCPUCheck))
	}
}

// limitKill records that limit l ends the sandbox and kills it, unless another
// limit did first.
func (p *Process) limitKill(l Limit) {
	w := &p.limits
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	if w.killedBy != "" {
		w.mu.Unlock()
		return // killed already
	}
	w.killedBy = l
	w.mu.Unlock()
	p.KillAll()
}

// finishLimits stops the watches and fills the ExitStatus fields that say which
// limit, if any, ended the sandbox. Wait calls it once st holds the exit status
// and the cgroup's figures.
func (p *Process) finishLimits(st *ExitStatus) {
	w := &p.limits
	w.mu.Lock()
	w.stopped = true
	for _, t := range []*time.Timer{w.wall, w.cpu} {
		if t != nil {
			t.Stop()
		}
	}
	killedBy := w.killedBy
	w.mu.Unlock()
	if st.Cgroup != nil {
		st.PidsLimitHit = st.Cgroup.PidsLimited > 0
	}
	st.Limit = p.endedBy(st, killedBy)
}

// endedBy says which limit ended the sandbox: the one Paddock killed it for, if
// SIGKILL ended it; the CPU time where the kernel's RLIMIT_CPU did (SIGXCPU, or
// 128+SIGXCPU from an init or a shell that reports its child's death), or where a
// run that failed had used its CPU time (SIGKILL at the hard limit); else, for a
// run that failed, the memory limit after an OOM kill or the pids limit after a
// refused fork.
func (p *Process) endedBy(st *ExitStatus, killedBy Limit) Limit {
	sig := st.Signal
	if sig == 0 && p.tmpl.spec.Init && st.Code > 128 && st.Code < 128+65 {
		sig = syscall.Signal(st.Code - 128) // the init exits with 128+N
	}
	switch {
	case killedBy != "" && sig == syscall.SIGKILL:
		return killedBy
	case sig == syscall.SIGXCPU:
		return LimitCPUTime
	case st.Code == 128+int(syscall.SIGXCPU) && p.tmpl.spec.cpuRlimit() > 0:
		// The kernel checks RLIMIT_CPU against a sample of the process's time
		// that the rusage of its parent can read a few milliseconds short.
		return LimitCPUTime
	case st.Success():
		return ""
	case p.usedCPUTime(st):
		return LimitCPUTime
	case st.OOMKilled:
		return LimitMemory
	case st.PidsLimitHit:
		return LimitPids
	}
	return ""
}

// usedCPUTime reports whether the sandbox used up its CPU time: its RLIMIT_CPU in
// one process (the rusage of the process and the children it waited for), or
// Limits.CPUTime in its cgroup.
func (p *Process) usedCPUTime(st *ExitStatus) bool {
	s := p.tmpl.spec
	if soft := s.cpuRlimit(); soft > 0 {
		ru := &st.Rusage
		if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= soft {
			return true
		}
	}
	return s.Limits.CPUTime > 0 && st.Cgroup != nil && time.Duration(st.Cgroup.CPUUsage) >= s.Limits.CPUTime
}

// A limitedWriter passes on the first Limits.Output bytes that the copiers of a
// sandbox's stdout and stderr write, together; past them it discards what comes
// and kills the sandbox.
type limitedWriter struct {
	w io.Writer
	p *Process
}

// Write implements io.Writer. Discarded bytes count as written, so that the copier
// drains the pipe until the sandbox is gone.
func (l *limitedWriter) Write(b []byte) (int, error) {
	limit := l.p.tmpl.spec.Limits.Output
	n := int64(len(b))
	used := l.p.limits.output.Add(n)
	if used <= limit {
		return l.w.Write(b)
	}
	if keep := limit - (used - n); keep > 0 {
		if m, err := l.w.Write(b[:keep]); err != nil {
			return m, err
		}
	}
	l.p.limitKill(LimitOutput)
	return len(b), nil
}

// cpuRlimit is the soft RLIMIT_CPU the sandbox's processes get: Spec.Rlimits's, or
// the one of Limits.CPUTime (see LimitPlan.Rlimits); 0 for none.
func (s *Spec) cpuRlimit() time.Duration {
	for _, r := range s.Rlimits {
		if n, _ := rlimitResource(r.Type); n == unix.RLIMIT_CPU {
			if r.Soft >= uint64(1<<63-1)/uint64(time.Second) {
				return 0 // unlimited, or near enough
			}
			return time.Duration(r.Soft) * time.Second
		}
	}
	if d := s.Limits.CPUTime; d > 0 {
		return (d + time.Second - 1) / time.Second * time.Second
	}
	return 0
}
