package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/paddock-sandbox/paddock/namespace"
)

func main() {
	asJSON := flag.Bool("json", false, "print the tree as JSON")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [--json] [PID...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	var pids []int
	for _, a := range flag.Args() {
		pid, err := strconv.Atoi(a)
		if err != nil || pid < 0 {
			fmt.Fprintf(os.Stderr, "nstree: %q is not a pid\n", a)
			os.Exit(2)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		var err error
		if pids, err = namespace.ListPIDs(); err != nil {
			fmt.Fprintf(os.Stderr, "nstree: %v\n", err)
			os.Exit(1)
		}
		sort.Ints(pids)
	}
	t, err := namespace.NewTree(pids)
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstree: %v\n", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(t)
	} else {
		err = t.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstree: %v\n", err)
		os.Exit(1)
	}
}
