package cgroup

import (
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestDetect compares Detect with the mount table: the filesystem types mounted
// last at /sys/fs/cgroup and /sys/fs/cgroup/unified name the layout, as root and
// as uid 65534 (statfs needs no privilege).
func TestDetect(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		mounts, err := mountinfo.GetMounts(nil)
		if err != nil {
			t.Fatal(err)
		}
		fstype := map[string]string{}
		for _, m := range mounts {
			if m.Mountpoint == "/sys/fs/cgroup" || m.Mountpoint == "/sys/fs/cgroup/unified" {
				fstype[m.Mountpoint] = m.FSType
			}
		}
		want := Unavailable
		switch fstype["/sys/fs/cgroup"] {
		case "cgroup2":
			want = V2
		case "tmpfs", "cgroup":
			want = V1
			if fstype["/sys/fs/cgroup/unified"] == "cgroup2" {
				want = Hybrid
			}
		}
		if got := Detect(); got != want {
			t.Errorf("Detect() = %v, want %v for the mounts %v", got, want, fstype)
		}
		if got := detectMode(); got != Detect() {
			t.Errorf("detectMode() = %v, cached Detect() = %v", got, Detect())
		}
	})
}
