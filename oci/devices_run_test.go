package oci_test

import (
	"os"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestDeviceNodes runs runc's configuration with devices of its own and looks
// at them from inside: as root, a character and a block device the host does
// not have are made with their numbers and permissions, and a FIFO; as uid
// 65534, in the user namespace of runc's rootless configuration, the FIFO.
func TestDeviceNodes(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		devices := []map[string]any{{"path": "/dev/test3", "type": "p", "fileMode": 0o600}}
		want := "fifo 0:0 600 0\n"
		if os.Geteuid() == 0 {
			devices = append(devices,
				map[string]any{"path": "/dev/test1", "type": "c", "major": 10, "minor": 666, "fileMode": 0o660, "uid": 0, "gid": 0},
				map[string]any{"path": "/dev/test2", "type": "b", "major": 8, "minor": 666})
			want += "character special file a:29a 660 0\nblock special file 8:29a 666 0\n"
		}
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			delete(p["capabilities"].(map[string]any), "ambient")
			args := []string{"stat", "-c", "%F %t:%T %a %u"}
			for _, d := range devices {
				args = append(args, d["path"].(string))
			}
			p["args"] = args
			cfg["linux"].(map[string]any)["devices"] = devices
		})
		out := runBundle(t, bundle)
		if string(out) != want {
			t.Errorf("inside the sandbox:\n%s\nwant:\n%s", out, want)
		}
	})
}
