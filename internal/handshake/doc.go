// Package handshake is the parent's half of a sandbox start, below the typed
// errors that package sandbox makes of it: the pipes and socket pairs the parent
// shares with the child, the /proc files (ID maps, setgroups) it writes while a
// fork-mode child waits, the byte that releases the child, the descriptors the
// child sends back, the child's reports, and whether it executed its target.
//
// The child reports on a close-on-exec error pipe. A child.Report names the op
// that failed; EOF with nothing written means the child executed the target or
// died before it could say why, and only the child's own flags tell which:
// execve clears PF_FORKNOEXEC before it closes the descriptors (NeverExecuted).
//
// Everything here runs on the start path, which allocates almost nothing: paths
// are built in buffers on the stack, and the descriptors are plain ints.
package handshake
