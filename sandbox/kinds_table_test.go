package sandbox_test

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/selinux"
)

var update = flag.Bool("update", false, "rewrite the kinds table in README.md and doc.go")

// kindColumn is one column of the kinds table: the Spec a root caller gets and, where
// an unprivileged caller gets another one, that Spec too.
type kindColumn struct {
	name               string
	spec, rootlessSpec *sandbox.Spec
}

func specOf(opts ...sandbox.Option) *sandbox.Spec {
	s := &sandbox.Spec{}
	for _, o := range opts {
		o(s)
	}
	return s
}

// kindColumns are the presets, independent of who runs the test: SuperPrivileged
// picks rootful or rootless by the caller, so both variants are built explicitly.
func kindColumns() []kindColumn {
	return []kindColumn{
		{name: "rootful", spec: specOf(sandbox.Rootful())},
		{name: "rootless", spec: specOf(sandbox.Rootless())},
		{name: "privileged (rootful)", spec: specOf(sandbox.Rootful(), sandbox.Privileged())},
		{name: "privileged (rootless)", spec: specOf(sandbox.Rootless(), sandbox.Privileged())},
		{name: "super-privileged",
			spec:         specOf(sandbox.SuperPrivileged(), sandbox.WithoutUserNS()),
			rootlessSpec: specOf(sandbox.SuperPrivileged(), sandbox.WithUserNS(nil, nil))},
	}
}

// kindRows are the mechanisms, each a function from a Spec to a table cell.
var kindRows = []struct {
	name string
	cell func(*sandbox.Spec) string
}{
	{"namespaces", func(s *sandbox.Spec) string {
		var n, h []string
		for _, k := range namespace.Kinds {
			if s.Namespaces.Mode(k) == namespace.New {
				n = append(n, string(k))
			} else {
				h = append(h, string(k))
			}
		}
		return "new " + strings.Join(n, ", ") + "; host " + strings.Join(h, ", ")
	}},
	{"ID maps", func(s *sandbox.Spec) string {
		switch {
		case s.Namespaces.Mode(namespace.User) != namespace.New:
			return "none: root is root"
		case len(s.Namespaces.UIDMap) == 0:
			return "root is the caller's uid and gid (one ID)"
		}
		return fmt.Sprintf("%d uid and %d gid ranges", len(s.Namespaces.UIDMap), len(s.Namespaces.GIDMap))
	}},
	{"capabilities", func(s *sandbox.Spec) string {
		scope := ""
		if s.Namespaces.Mode(namespace.User) == namespace.New {
			scope = ", over the user namespace only"
		}
		if slices.Equal(s.Caps.Bounding, []string{"ALL"}) {
			return "all of the caller's bounding set" + scope
		}
		sets, err := s.Caps.Sets()
		if err != nil {
			return "invalid: " + err.Error()
		}
		name := fmt.Sprintf("%d", sets.Bounding.Len())
		switch sets.Bounding {
		case caps.DockerDefault:
			name = "Docker's 14"
		case caps.PodmanDefault:
			name = "Podman's 11"
		}
		return name + scope
	}},
	{"seccomp", func(s *sandbox.Spec) string {
		switch {
		case s.Seccomp.Mode == sandbox.SeccompUnconfined, s.Privileged && s.Seccomp.Mode == "":
			return "none"
		case s.Seccomp.Mode == sandbox.SeccompPodman:
			return "Podman's profile (ENOSYS)"
		case s.Seccomp.Mode == sandbox.SeccompCustom:
			return "a custom profile"
		}
		return "Docker's profile (EPERM)"
	}},
	{"masks", func(s *sandbox.Spec) string {
		switch {
		case s.Privileged || len(s.Mounts.Masked) == 0:
			return "none"
		case slices.Equal(s.Mounts.Masked, mounts.DefaultMasked):
			return fmt.Sprintf("Docker's %d paths of /proc and /sys", len(s.Mounts.Masked))
		}
		return fmt.Sprintf("%d paths", len(s.Mounts.Masked))
	}},
	{"read-only kernel filesystems", func(s *sandbox.Spec) string {
		if s.Privileged {
			return "none: /sys and /sys/fs/cgroup writable"
		}
		list := fmt.Sprintf("%d paths", len(s.Mounts.ReadOnly))
		if slices.Equal(s.Mounts.ReadOnly, mounts.DefaultReadOnly) {
			list = fmt.Sprintf("Docker's %d paths of /proc", len(s.Mounts.ReadOnly))
		}
		return list + ", /sys and /sys/fs/cgroup"
	}},
	{"SELinux label (where enabled)", func(s *sandbox.Spec) string {
		switch {
		case s.Label.Disable:
			return "none"
		case s.Privileged:
			return selinux.PrivilegedType + ", " + selinux.PrivilegedLevel
		}
		return selinux.DefaultType + ", a unique MCS pair"
	}},
	{"no_new_privs", func(s *sandbox.Spec) string {
		if s.NoNewPrivileges {
			return "set"
		}
		return "not set"
	}},
	{"cgroup", func(s *sandbox.Spec) string {
		if s.NoCgroup {
			return "the caller's"
		}
		devices := "Docker's device rules"
		if s.Cgroup.AllowAllDevices {
			devices = "all devices"
		}
		if s.Namespaces.Mode(namespace.User) == namespace.New {
			return "one per start where delegated (cgroup v2), else the caller's; " + devices
		}
		return "one per start; " + devices
	}},
	{"processes", func(s *sandbox.Spec) string {
		r := s.Cgroup.Resources
		if r == nil || r.Pids <= 0 {
			return "unbounded"
		}
		fallback := slices.Contains(s.RlimitFallback, sandbox.LimitPids)
		bound := fmt.Sprintf("at most %d", r.Pids)
		switch {
		case s.NoCgroup && fallback:
			return bound + " (RLIMIT_NPROC)"
		case s.Namespaces.Mode(namespace.User) == namespace.New && fallback:
			return bound + " (pids cgroup where delegated, else RLIMIT_NPROC in the user namespace)"
		case s.Namespaces.Mode(namespace.User) == namespace.New:
			return bound + " (pids cgroup where delegated)"
		}
		return bound + " (pids cgroup)"
	}},
}

// kindCells returns the table as rows of cells, the header first.
func kindCells() [][]string {
	cols := kindColumns()
	header := []string{"mechanism"}
	for _, c := range cols {
		header = append(header, c.name)
	}
	rows := [][]string{header}
	for _, r := range kindRows {
		row := []string{r.name}
		for _, c := range cols {
			cell := r.cell(c.spec)
			if c.rootlessSpec != nil {
				if other := r.cell(c.rootlessSpec); other != cell {
					cell += " (a rootless caller: " + other + ")"
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	return rows
}

// markdownKindsTable renders the table for README.md.
func markdownKindsTable() string {
	var b strings.Builder
	for i, row := range kindCells() {
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		if i == 0 {
			b.WriteString(strings.Repeat("|---", len(row)) + "|\n")
		}
	}
	return b.String()
}

// docKindsTable renders the table for doc.go as a preformatted block, one
// paragraph per mechanism.
func docKindsTable() string {
	cells := kindCells()
	header := cells[0]
	width := 0
	for _, h := range header[1:] {
		width = max(width, len(h))
	}
	var b strings.Builder
	for i, row := range cells[1:] {
		if i > 0 {
			b.WriteString("//\n")
		}
		b.WriteString("//\t" + row[0] + "\n")
		for j, cell := range row[1:] {
			fmt.Fprintf(&b, "//\t  %-*s  %s\n", width, header[j+1], cell)
		}
	}
	return b.String()
}

// TestKindsTable fails if README.md or doc.go do not hold the table of the four kinds
// as the presets generate it; go test -run TestKindsTable -update rewrites them.
func TestKindsTable(t *testing.T) {
	checkGenerated(t, "../README.md", "<!-- kinds-table -->\n", "<!-- /kinds-table -->\n", markdownKindsTable())
	checkGenerated(t, "doc.go", "// kinds-table\n", "// /kinds-table\n", "//\n"+docKindsTable()+"//\n")
}
