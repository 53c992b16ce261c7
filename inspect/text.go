package inspect

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/namespace"
)

// WriteText writes r as a table for people, in the manner of amicontained: the kind
// and its reasons, then one line per namespace and per mechanism.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	r.kindRows(row)
	r.namespaceRows(row)
	row("UID map", "%s", idMapText(r.UIDMap))
	row("GID map", "%s (setgroups %s)", idMapText(r.GIDMap), r.Setgroups)
	row("UID/GID", "%d/%d", r.UID, r.GID)
	r.Capabilities.rows(row)
	r.Seccomp.rows(row)
	row("NoNewPrivs", "%v", r.NoNewPrivs)
	r.Mounts.rows(row)
	r.SELinux.rows(row)
	r.Landlock.rows(row)
	r.Cgroup.rows(row)
	row("Rlimits", "%s", rlimitsText(r.Rlimits))
	return tw.Flush()
}

// A textRow writes one row of WriteText's table: a heading (empty under the row
// that has it) and a value formatted as by fmt.Sprintf.
type textRow func(k, format string, args ...any)

// kindRows writes the kind and the reasons for it.
func (r *Report) kindRows(row textRow) {
	row("PID", "%d (compared with %s)", r.PID, r.Reference)
	kind := r.Kind
	if r.Rootless && r.Kind != KindRootless {
		kind += " (rootless)"
	}
	row("Kind", "%s", kind)
	for _, s := range r.Reasons {
		row("", "- %s", s)
	}
}

// namespaceRows writes one row per namespace.
func (r *Report) namespaceRows(row textRow) {
	for i, n := range r.Namespaces {
		k := ""
		if i == 0 {
			k = "Namespaces"
		}
		row(k, "%s", n.text())
	}
}

// text describes n on one line: kind, state, inode, and how it differs.
func (n NamespaceReport) text() string {
	desc := fmt.Sprintf("%-7s%-8s%s:[%d]", n.Kind, n.State, n.Kind, n.Inode)
	if n.RefInode != 0 && n.RefInode != n.Inode {
		desc += fmt.Sprintf(" (reference %d)", n.RefInode)
	}
	if n.Initial {
		desc += " initial"
	}
	if n.ForChildren != 0 {
		desc += fmt.Sprintf(" children:[%d]", n.ForChildren)
	}
	if n.Err != "" {
		desc += " " + n.Err
	}
	return desc
}

// rows writes the capability sets and what was dropped.
func (c CapabilityReport) rows(row textRow) {
	if c.Err != "" {
		row("Capabilities", "unknown: %s", c.Err)
		return
	}
	row("Capabilities", "effective %s", capText(c.Effective))
	row("", "bounding %s", capText(c.Bounding))
	row("", "permitted %s, inheritable %s, ambient %s", capText(c.Permitted), capText(c.Inheritable), capText(c.Ambient))
	if len(c.Dropped) > 8 {
		row("", "dropped %d (from %s)", len(c.Dropped), c.Baseline)
	} else {
		row("", "dropped %s (from %s)", capText(c.Dropped), c.Baseline)
	}
}

// rows writes the seccomp mode and the i386 gate.
func (s SeccompReport) rows(row textRow) {
	if s.Err != "" {
		row("Seccomp", "unknown: %s", s.Err)
	} else if s.Mode == "filter" {
		row("Seccomp", "filter (%s)", plural(s.Filters, "filter"))
	} else {
		row("Seccomp", "%s", s.Mode)
	}
	if s.I386 != "" {
		row("", "i386 gate %s", s.I386)
	}
}

// rows writes the masked and read-only paths and the host's visible mounts.
func (m MountReport) rows(row textRow) {
	if m.Err != "" {
		row("Masked paths", "unknown: %s", m.Err)
		return
	}
	row("Masked paths", "%s", listText(m.Masked))
	if len(m.Unmasked) > 0 {
		row("", "not masked: %s", listText(m.Unmasked))
	}
	row("Read-only paths", "%s", listText(m.ReadOnly))
	if len(m.Writable) > 0 {
		row("", "writable: %s", listText(m.Writable))
	}
	if m.HostVisible < 0 {
		row("Host mounts", "unknown: the host's mount table is out of sight")
	} else {
		row("Host mounts", "%d visible; host / at %s", m.HostVisible, listText(m.HostRoot))
	}
}

// rows writes the SELinux label, or why there is none.
func (s SELinuxReport) rows(row textRow) {
	switch {
	case s.Err != "":
		row("SELinux", "unknown: %s", s.Err)
	case !s.Enabled:
		row("SELinux", "disabled on this host")
	default:
		row("SELinux", "%s", s.Label)
	}
}

// rows writes the Landlock ABI and whether a ruleset is enforced.
func (l LandlockReport) rows(row textRow) {
	if l.ABI > 0 {
		row("Landlock", "ABI %d; enforced: %s (%s)", l.ABI, l.Enforced, l.Note)
	} else {
		row("Landlock", "not supported by this kernel")
	}
}

// rows writes the cgroup paths, sorted by hierarchy, and the limits.
func (c CgroupReport) rows(row textRow) {
	if c.Err != "" {
		row("Cgroups", "unknown: %s", c.Err)
		return
	}
	keys := make([]string, 0, len(c.Paths))
	for k := range c.Paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		h := ""
		if i == 0 {
			h = "Cgroups"
		}
		row(h, "%s: %s", k, c.Paths[k])
	}
	row("Limits", "memory %s, pids %s, cpu %s", limitText(c.Memory), limitText(c.Pids), cpuText(c.CPUQuota, c.CPUPeriod))
}

func idMapText(m []namespace.IDMap) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, len(m))
	for i, e := range m {
		parts[i] = fmt.Sprintf("%d→%d (%d)", e.ContainerID, e.HostID, e.Size)
	}
	return strings.Join(parts, ", ")
}

func capText(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	set, err := caps.ParseSet(names)
	if err != nil {
		return strings.Join(names, " ")
	}
	all := caps.Full()
	if set&all == all {
		return fmt.Sprintf("all %d", all.Len())
	}
	if set.Len() > all.Len()*3/4 {
		return fmt.Sprintf("all %d but %s", all.Len(), shortCaps((all &^ set).Names()))
	}
	return shortCaps(names)
}

func shortCaps(names []string) string {
	short := make([]string, len(names))
	for i, n := range names {
		short[i] = strings.ToLower(strings.TrimPrefix(n, "CAP_"))
	}
	return strings.Join(short, " ")
}

func listText(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, " ")
}

func limitText(v int64) string {
	switch {
	case v < 0:
		return "unlimited"
	case v == 0:
		return "unknown"
	}
	return strconv.FormatInt(v, 10)
}

func cpuText(quota int64, period uint64) string {
	if quota <= 0 {
		return limitText(quota)
	}
	return fmt.Sprintf("%dµs per %dµs", quota, period)
}

// plural writes n and noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return strconv.Itoa(n) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
