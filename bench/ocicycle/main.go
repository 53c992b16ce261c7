package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	floor := flag.Bool("floor", false, "run /bin/true in place of each runtime command")
	md := flag.String("md", "", "write the Markdown section into this file")
	rootful := flag.String("rootful", "", "sidebyside JSON of the rootful cycle rows (with -md)")
	rootless := flag.String("rootless", "", "sidebyside JSON of the rootless cycle rows (with -md)")
	flag.BoolVar(&steps, "steps", false, "print each step's wall time on standard error")
	flag.Parse()
	var err error
	switch {
	case *md != "":
		err = writeMarkdown(*md, *rootful, *rootless)
	case *floor:
		for range 3 {
			if err = run("/bin/true"); err != nil {
				break
			}
		}
	case flag.NArg() == 4:
		err = cycle(flag.Arg(0), flag.Arg(1), flag.Arg(2), flag.Arg(3))
	default:
		err = fmt.Errorf("usage: ocicycle [-steps] RUNTIME STATE BUNDLE ID | -floor | -md FILE -rootful R.json [-rootless L.json]")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ocicycle:", err)
		os.Exit(1)
	}
}

// steps is -steps: each step's wall time goes to standard error.
var steps bool

// step runs argv, timed with -steps under the name of the step.
func step(name string, argv ...string) error {
	t0 := time.Now()
	err := run(argv...)
	if steps {
		fmt.Fprintf(os.Stderr, "%s %.3f\n", name, float64(time.Since(t0).Microseconds())/1000)
	}
	return err
}

// cycle creates, starts, waits for and deletes the container id.
func cycle(rt, state, bundle, id string) error {
	pidFile := filepath.Join(state, id+".pid")
	defer os.Remove(pidFile)
	if err := step("create", rt, "--root", state, "create", "--bundle", bundle, "--pid-file", pidFile, id); err != nil {
		return err
	}
	fd, err := pidfdOf(pidFile)
	if err != nil {
		run(rt, "--root", state, "delete", "--force", id)
		return err
	}
	defer unix.Close(fd)
	if err := step("start", rt, "--root", state, "start", id); err != nil {
		run(rt, "--root", state, "delete", "--force", id)
		return err
	}
	t0 := time.Now()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != unix.EINTR {
			break
		}
	}
	if steps {
		fmt.Fprintf(os.Stderr, "wait %.3f\n", float64(time.Since(t0).Microseconds())/1000)
	}
	return step("delete", rt, "--root", state, "delete", id)
}

// pidfdOf opens a pidfd of the pid written in pidFile.
func pidfdOf(pidFile string) (int, error) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return -1, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return -1, fmt.Errorf("%s: %w", pidFile, err)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	return fd, nil
}

// run runs argv with this program's standard streams.
func run(argv ...string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}
