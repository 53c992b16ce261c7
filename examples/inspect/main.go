// Command inspect prints what a process is isolated by: its namespaces, ID maps,
// capabilities, seccomp, no_new_privs, masked and read-only paths, SELinux label,
// Landlock support and cgroups, and which kind of sandbox that amounts to.
//
//	go run ./examples/inspect [--json] [PID]
//
// Without a PID it reports on itself, so it can run inside any container.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/paddock-sandbox/paddock/sandbox"
)

func main() {
	asJSON := flag.Bool("json", false, "print the report as JSON")
	preset := flag.String("preset", "", "describe the preset `NAME` before it starts (not available yet)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [--json] [PID]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if *preset != "" {
		// A Spec that has not started will be described by Spec.Describe.
		fmt.Fprintf(os.Stderr, "inspect: --preset %s: not available yet\n", *preset)
		os.Exit(2)
	}
	var (
		r   *sandbox.Report
		err error
	)
	switch flag.NArg() {
	case 0:
		r, err = sandbox.InspectSelf()
	case 1:
		pid, perr := strconv.Atoi(flag.Arg(0))
		if perr != nil || pid <= 0 {
			fmt.Fprintf(os.Stderr, "inspect: %q is not a pid\n", flag.Arg(0))
			os.Exit(2)
		}
		r, err = sandbox.Inspect(pid)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "inspect: %v\n", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "inspect: %v\n", err)
		os.Exit(1)
	}
}
