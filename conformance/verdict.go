package main

import (
	"bufio"
	"strconv"
	"strings"
)

// A verdict is what one validation program's run says about a runtime.
type verdict struct {
	Pass     bool
	Ok       int // ok lines that are not skips
	NotOk    int
	Skip     int
	Exit     int  // the program's exit status (-1 when killed)
	TimedOut bool // killed at the timeout
	Why      string
}

// judge reads a program's TAP output and exit status. A file passes when it
// exits 0 with no "not ok" and at least one "ok" that is not a skip; a file
// whose plan is empty ("1..0", the hook files, which test nothing the TAP way)
// passes when it exits 0 and prints no diagnostic block.
func judge(tap string, exit int, timedOut bool) verdict {
	v := verdict{Exit: exit, TimedOut: timedOut}
	emptyPlan, block := false, false
	sc := bufio.NewScanner(strings.NewReader(tap))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "not ok"):
			v.NotOk++
		case strings.HasPrefix(line, "ok "):
			if strings.Contains(strings.ToUpper(line), "# SKIP") {
				v.Skip++
			} else {
				v.Ok++
			}
		case line == "1..0":
			emptyPlan = true
		case strings.TrimSpace(line) == "---":
			block = true
		}
	}
	switch {
	case timedOut:
		v.Why = "timed out"
	case exit != 0:
		v.Why = "exit status " + strconv.Itoa(exit)
	case v.NotOk > 0:
		v.Why = strconv.Itoa(v.NotOk) + " not ok"
	case emptyPlan && v.Ok == 0 && v.Skip == 0:
		v.Pass = !block
		if block {
			v.Why = "empty plan with an error block"
		}
	case v.Ok == 0 && v.Skip > 0:
		v.Why = "nothing but skips"
	case v.Ok == 0:
		v.Why = "no ok"
	default:
		v.Pass = true
	}
	return v
}
