package oci

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// callerUmask returns the calling process's umask, from /proc/self/status (reading
// it with umask(2) would change it for a moment, for every thread).
func callerUmask() (uint32, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32)
			return uint32(n), err
		}
	}
	return 0, fmt.Errorf("no Umask line in /proc/self/status")
}

// callerOOMScoreAdj returns the calling process's OOM score adjustment.
func callerOOMScoreAdj() (int, error) {
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(bytes.TrimSpace(data)))
}

// apparmorEnabled reports whether the AppArmor module is loaded and enabled.
func apparmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(data, []byte("Y"))
}

// callerPersonality returns the calling process's execution domain and flags.
func callerPersonality() (uintptr, error) {
	p, _, errno := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return p, nil
}
