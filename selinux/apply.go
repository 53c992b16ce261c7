package selinux

import "strconv"

// ExecAttrPath is where a thread sets the label its next execve gives it; the child
// writes Labels.Process there just before execve.
const ExecAttrPath = "/proc/thread-self/attr/exec"

// MountOption returns the mount data option that labels every file of a tmpfs or overlay
// mount with label: context="LABEL", to be joined to other options with a comma. It
// returns "" when SELinux is disabled or label is empty.
func MountOption(label string) string { return mountOption(label, Enabled()) }

func mountOption(label string, enabled bool) string {
	if !enabled || label == "" {
		return ""
	}
	// The level holds commas ("s0:c1,c2"), which would split the mount data: quote it.
	return "context=" + strconv.Quote(label)
}
