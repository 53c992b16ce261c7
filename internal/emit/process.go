package emit

import (
	"fmt"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// ProcessValues turns the Plan's process attributes into what the system
// calls take.
type ProcessValues struct {
	// Personality is the personality(2) value of an execution domain.
	Personality func(domain string) uintptr
	// SchedAttr is the struct sched_attr of a Scheduler, as bytes.
	SchedAttr func(*plan.Scheduler) []byte
	// IOPriority is the ioprio_set(2) value of an IOPriority.
	IOPriority func(*plan.IOPriority) uintptr
	// AffinityMask is the cpu_set_t of a CPU list.
	AffinityMask func(list string) []byte
}

// Early writes the Plan's OOM score adjustment, if any, to the child's
// /proc/self/oom_score_adj and sets its initial CPU affinity: its first steps,
// taken with the caller's credentials and through the caller's /proc, before
// any namespace changes what it sees.
func Early(p *child.Program, pr *plan.Process, v ProcessValues) {
	if pr.OOMScoreAdj != nil {
		WriteFile(p, "oom_score_adj", "/proc/self/oom_score_adj", fmt.Sprint(*pr.OOMScoreAdj))
	}
	if a := pr.CPUAffinity; a != nil && a.Initial != "" {
		affinity(p, a.Initial, v.AffinityMask(a.Initial))
	}
}

// Process sets the Plan's umask, personality, I/O priority, scheduler and
// final CPU affinity, after the setup that creates files and before the
// privileges are dropped.
func Process(p *child.Program, pr *plan.Process, v ProcessValues) {
	if pr.Umask != nil {
		p.Syscall("umask", fmt.Sprintf("set the umask to %#o", *pr.Umask), 0, unix.SYS_UMASK, uintptr(*pr.Umask))
	}
	if pr.Personality != "" {
		p.Syscall("personality", "set the personality to "+pr.Personality, 0, unix.SYS_PERSONALITY, v.Personality(pr.Personality))
	}
	if io := pr.IOPriority; io != nil {
		p.Syscall("ioPriority", fmt.Sprintf("set the I/O priority to %s %d", io.Class, io.Priority), 0,
			unix.SYS_IOPRIO_SET, 1 /* IOPRIO_WHO_PROCESS */, 0, v.IOPriority(io))
	}
	if sc := pr.Scheduler; sc != nil {
		attr, _ := p.Bytes(v.SchedAttr(sc))
		p.Syscall("scheduler", fmt.Sprintf("set the scheduler to %s (nice %d, priority %d)", sc.Policy, sc.Nice, sc.Priority), 0,
			unix.SYS_SCHED_SETATTR, 0, attr, 0)
	}
	if a := pr.CPUAffinity; a != nil && a.Final != "" {
		affinity(p, a.Final, v.AffinityMask(a.Final))
	}
}

// affinity sets the child's CPU affinity to the CPUs of list, whose mask is
// mask.
func affinity(p *child.Program, list string, mask []byte) {
	ptr, n := p.Bytes(mask)
	p.Syscall("cpuAffinity", "set the CPU affinity to "+list, 0, unix.SYS_SCHED_SETAFFINITY, 0, n, ptr)
}
