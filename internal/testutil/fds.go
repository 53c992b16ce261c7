package testutil

import (
	"os"
	"sort"
	"testing"
	"time"
)

// FDs returns this process's open descriptors and what each leads to.
func FDs() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	fds := map[string]string{}
	for _, e := range ents {
		fds[e.Name()], _ = os.Readlink("/proc/self/fd/" + e.Name())
	}
	return fds
}

// NoNewFDs fails t if descriptors that FDs did not list in before stay open. It
// gives the library's background work (the reclaim pass that Build starts now
// and then) a second to close what it opened, which a plain count before and
// after a start would take for a leak, or hide one with.
func NoNewFDs(t *testing.T, before map[string]string) {
	t.Helper()
	var extra []string
	for end := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
		extra = extra[:0]
		for fd, target := range FDs() {
			// An unreadable link is the directory that FDs read.
			if target != "" && before[fd] != target {
				extra = append(extra, fd+" -> "+target)
			}
		}
		if len(extra) == 0 || time.Now().After(end) {
			break
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		t.Errorf("descriptors left open: %v", extra)
	}
}
