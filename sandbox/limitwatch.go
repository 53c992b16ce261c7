package sandbox

import (
	"io"
	"syscall"
	"time"

	"github.com/paddock-sandbox/paddock/internal/limitwatch"
)

// killedFor names the sandbox's Limit of each limit a limitwatch.Watch kills for.
var killedFor = [...]Limit{limitwatch.WallTime: LimitWallTime, limitwatch.CPUTime: LimitCPUTime, limitwatch.Output: LimitOutput}

// armLimits starts the watches of the Template's Limits (package limitwatch);
// Start calls it once the target runs.
func (p *Process) armLimits() {
	l := &p.tmpl.spec.Limits
	var usage func() (time.Duration, bool)
	if l.CPUTime > 0 && p.cgroup != nil {
		if _, err := p.cgroup.CPUUsage(); err == nil {
			usage = p.cgroupCPU
		}
	}
	if l.WallTime > 0 || usage != nil {
		p.limits.Arm(l.WallTime, l.CPUTime, onlineCPUs(), usage, func() { p.KillAll() })
	}
}

// cgroupCPU reads the CPU time of the sandbox's cgroup, false once Wait took it.
func (p *Process) cgroupCPU() (time.Duration, bool) {
	p.mu.Lock()
	cg := p.cgroup
	p.mu.Unlock()
	if cg == nil {
		return 0, false
	}
	used, err := cg.CPUUsage()
	return time.Duration(used), err == nil
}

// finishLimits stops the watches and fills the ExitStatus fields that say which
// limit, if any, ended the sandbox. Wait calls it once st holds the exit status
// and the cgroup's figures.
func (p *Process) finishLimits(st *ExitStatus) {
	killedBy := killedFor[p.limits.Stop()]
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
	case st.Code == 128+int(syscall.SIGXCPU) && p.tmpl.spec.CPURlimit() > 0:
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
	if soft := s.CPURlimit(); soft > 0 {
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
	used := l.p.limits.Count(n)
	if used <= limit {
		return l.w.Write(b)
	}
	if keep := limit - (used - n); keep > 0 {
		if m, err := l.w.Write(b[:keep]); err != nil {
			return m, err
		}
	}
	if l.p.limits.Kill(limitwatch.Output) {
		l.p.KillAll()
	}
	return len(b), nil
}
