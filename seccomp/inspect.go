package seccomp

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Mode is a process's seccomp mode as /proc/PID/status reports it.
type Mode int

// The seccomp modes.
const (
	ModeDisabled Mode = 0
	ModeStrict   Mode = 1
	ModeFilter   Mode = 2
)

// Status is what the kernel reports about a process's seccomp state.
type Status struct {
	Mode Mode
	// Filters is the number of filters attached (Seccomp_filters:, Linux 5.9+;
	// -1 when the kernel does not report it).
	Filters int
}

// Inspect reads the seccomp mode and filter count of pid (0 for the calling
// process) from /proc/PID/status.
func Inspect(pid int) (Status, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Status{}, err
	}
	st := Status{Mode: -1, Filters: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int
		switch string(key) {
		case "Seccomp":
			dst = (*int)(&st.Mode)
		case "Seccomp_filters":
			dst = &st.Filters
		default:
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(val)))
		if err != nil {
			return Status{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		*dst = n
	}
	if st.Mode < 0 {
		return Status{}, fmt.Errorf("%s: no Seccomp line (kernel without CONFIG_SECCOMP)", path)
	}
	return st, nil
}
