package emit

import (
	"fmt"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// OOMScoreAdj writes the Plan's OOM score adjustment, if any, to the child's
// /proc/self/oom_score_adj: its first step, taken with the caller's credentials
// and through the caller's /proc, before any namespace changes what it sees.
func OOMScoreAdj(p *child.Program, pr *plan.Process) {
	if pr.OOMScoreAdj != nil {
		WriteFile(p, "oom_score_adj", "/proc/self/oom_score_adj", fmt.Sprint(*pr.OOMScoreAdj))
	}
}

// Process sets the Plan's umask and personality, after the setup that creates
// files and before the privileges are dropped; value turns an execution domain
// into its personality(2) value.
func Process(p *child.Program, pr *plan.Process, value func(string) uintptr) {
	if pr.Umask != nil {
		p.Syscall("umask", fmt.Sprintf("set the umask to %#o", *pr.Umask), 0, unix.SYS_UMASK, uintptr(*pr.Umask))
	}
	if pr.Personality != "" {
		p.Syscall("personality", "set the personality to "+pr.Personality, 0, unix.SYS_PERSONALITY, value(pr.Personality))
	}
}
