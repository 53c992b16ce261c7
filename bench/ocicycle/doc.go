// Command ocicycle runs an OCI runtime's whole cycle on one bundle, as a
// container engine drives it, so that bench/sidebyside can time it as one
// command; and writes the section of BENCHMARKS.md with those figures.
//
//	ocicycle [-steps] RUNTIME STATE BUNDLE ID
//	ocicycle -floor
//	ocicycle -md BENCHMARKS.md -rootful R.json [-rootless L.json] [-runs N]
//
// The first form runs `RUNTIME --root STATE create --bundle BUNDLE --pid-file F
// ID`, opens a pidfd of the container's process, runs `RUNTIME --root STATE
// start ID`, waits on the pidfd until that process has exited (it is not this
// program's child: the runtime's create gave it up), and runs `RUNTIME --root
// STATE delete ID`. Its standard streams go to each runtime command. -floor
// runs /bin/true three times in place of the three runtime commands and waits
// for nothing: the cost of this program and of three spawns, which every row
// pays alike. -steps prints each step's wall time, in milliseconds, on standard
// error.
//
// The third form reads the JSON of bench/sidebyside for the rows "true",
// "cycle-floor", "paddock-runtime", "crun" and "runc", and replaces (or
// appends) the section under its heading in the Markdown file.
package main
