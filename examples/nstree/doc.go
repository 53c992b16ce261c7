// Command nstree prints the namespace tree of processes: user namespaces nested
// under their parents with the uid of their owner, and every other namespace under
// the user namespace that owns it, with the pids in each.
//
//	go run ./examples/nstree [PID...]
//
// Without arguments it shows every process in /proc. Processes whose namespace
// files the caller may not read are listed at the end as skipped.
package main
