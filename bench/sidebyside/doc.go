// Command sidebyside times whole-process spawns of several sandboxing commands
// side by side on the same machine, in the same run, and writes the figures as JSON.
//
//	sidebyside [-n 200] [-warmup 20] [-max-fail 0.05] [-o out.json] [-uid N] \
//	    -cmd 'true=/bin/true' -cmd 'crun=crun --root S run --bundle B id-{id}' ...
//
// Each -cmd is NAME=ARGV, ARGV split on blanks; "{id}" in an argument becomes a
// number unique to the run (container names of crun and runc). The commands are
// run round-robin (A B C D A B C D ...) so that a slow phase of a shared machine
// weighs on all of them alike; each run is timed from fork to the end of wait,
// with stdin, stdout and stderr on /dev/null. A run that fails is counted
// (failures in the JSON, its error on stderr) and left out of the figures; the
// harness exits 2 only when a command fails more than -max-fail (5%) of its
// warm-up or measured runs, so that a peer that fails now and then does not end
// the whole comparison.
//
// crun 1.8.1 refuses to start while the cgroup v2 mount of a hybrid host lists a
// controller, so, started as root, the harness re-executes itself in a new mount
// namespace (/ made rprivate) where /sys/fs/cgroup/unified is detached, and every
// command, not only crun, runs there. With -uid it then drops to that user with
// setpriv(1) inside the namespace, for the rootless comparison.
package main
