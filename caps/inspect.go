package caps

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Inspect returns the capability sets of the live process pid, or of the calling process
// when pid is 0, read from the CapInh, CapPrm, CapEff, CapBnd and CapAmb lines of
// /proc/PID/status. Capabilities are per thread; these are the sets of the thread group
// leader.
func Inspect(pid int) (Sets, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Sets{}, err
	}
	return parseStatus(path, b)
}

// parseStatus reads the Cap* lines of a /proc/PID/status file.
func parseStatus(path string, b []byte) (Sets, error) {
	var s Sets
	fields := map[string]*Set{
		"CapInh": &s.Inheritable,
		"CapPrm": &s.Permitted,
		"CapEff": &s.Effective,
		"CapBnd": &s.Bounding,
		"CapAmb": &s.Ambient,
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		dst, ok := fields[string(key)]
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(string(bytes.TrimSpace(val)), 16, 64)
		if err != nil {
			return Sets{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		*dst = Set(v)
		seen++
	}
	if seen != len(fields) {
		return Sets{}, fmt.Errorf("%s: %d of the 5 capability lines found", path, seen)
	}
	return s, nil
}
