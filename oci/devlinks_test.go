package oci_test

import (
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/oci"
)

// TestDevLinks: a /dev of the configuration's own gets runc's links, /dev/ptmx
// only with a devpts on /dev/pts; a bind of the host's /dev, or none, gets none.
func TestDevLinks(t *testing.T) {
	std := []mounts.Symlink{
		{Path: "/dev/fd", Value: "/proc/self/fd"}, {Path: "/dev/stdin", Value: "/proc/self/fd/0"},
		{Path: "/dev/stdout", Value: "/proc/self/fd/1"}, {Path: "/dev/stderr", Value: "/proc/self/fd/2"},
	}
	var core []mounts.Symlink
	if _, err := os.Stat("/proc/kcore"); err == nil {
		core = []mounts.Symlink{{Path: "/dev/core", Value: "/proc/kcore"}}
	}
	dev := specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}}
	pts := specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "newinstance"}}
	for _, tc := range []struct {
		name   string
		mounts []specs.Mount
		want   []mounts.Symlink
	}{
		{"none", nil, nil},
		{"tmpfs", []specs.Mount{dev}, append(append([]mounts.Symlink(nil), std...), core...)},
		{"tmpfs and devpts", []specs.Mount{dev, pts}, append(append(append([]mounts.Symlink(nil), std...), mounts.Symlink{Path: "/dev/ptmx", Value: "pts/ptmx"}), core...)},
		{"bind", []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, bundle := base(t)
			cfg.Mounts = tc.mounts
			s, _, err := oci.Convert(cfg, bundle)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Mounts.Symlinks, tc.want) {
				t.Errorf("symlinks %v, want %v", s.Mounts.Symlinks, tc.want)
			}
		})
	}
}
