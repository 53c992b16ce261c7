package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/inspect"
	"github.com/paddock-sandbox/paddock/sandbox"
)

func main() {
	asJSON := flag.Bool("json", false, "print the report as JSON")
	preset := flag.String("preset", "", "describe a sandbox of preset `NAME` before it starts: "+strings.Join(presetNames, ", "))
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [--json] [PID | --preset NAME]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	var (
		r   *inspect.Report
		err error
	)
	switch {
	case *preset != "":
		opts, ok := presets[*preset]
		if !ok || flag.NArg() != 0 {
			fmt.Fprintf(os.Stderr, "inspect: --preset takes one of %s and no PID\n", strings.Join(presetNames, ", "))
			os.Exit(2)
		}
		r, err = sandbox.NewBuilder(opts...).Spec().Describe()
	case flag.NArg() == 0:
		r, err = inspect.Self()
	case flag.NArg() == 1:
		pid, perr := strconv.Atoi(flag.Arg(0))
		if perr != nil || pid <= 0 {
			fmt.Fprintf(os.Stderr, "inspect: %q is not a pid\n", flag.Arg(0))
			os.Exit(2)
		}
		r, err = inspect.Process(pid)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(os.Stdout)
	}
	if err != nil {
		fail(err)
	}
}

// fail prints err, named after the command once (package inspect's errors name
// it already), and exits with status 1.
func fail(err error) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "inspect: ") {
		msg = "inspect: " + msg
	}
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}

// presets are the Specs --preset describes, by name.
var presets = map[string][]sandbox.Option{
	"rootful":             {sandbox.Rootful()},
	"rootless":            {sandbox.Rootless()},
	"privileged":          {sandbox.Rootful(), sandbox.Privileged()},
	"rootless-privileged": {sandbox.Rootless(), sandbox.Privileged()},
	"super-privileged":    {sandbox.SuperPrivileged()},
}

var presetNames = []string{"rootful", "rootless", "privileged", "rootless-privileged", "super-privileged"}
