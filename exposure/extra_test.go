package exposure

import (
	"github.com/paddock-sandbox/paddock/landlock"
)

func landlockRules(paths ...string) []landlock.Rule {
	var rs []landlock.Rule
	for _, p := range paths {
		rs = append(rs, landlock.Rule{Path: p, Access: landlock.Read | landlock.Write | landlock.Execute})
	}
	return rs
}

// anyKernel forgets the running kernel's release and settings of m, so that its
// layers are compared, not this kernel's fixes and sysctls.
func anyKernel(m *Mechanisms) { m.Kernel, m.KernelDistribution, m.Host = "", "", nil }
