package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// readmeBlock returns the first fenced block of the given language in the
// repository's README.md that contains marker.
func readmeBlock(t *testing.T, lang, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(string(b), "```"+lang+"\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.Contains(block, marker) {
			return block
		}
	}
	t.Fatalf("README.md has no %s block with %q", lang, marker)
	return ""
}

// TestReadmeEngineConfigs reads the configurations that README.md gives the
// engines as the engines read them: Podman's containers.conf names the
// runtime "paddock" at the binary's path, and Podman decodes every key (it
// only logs a key it does not know, as it did for runtime_supports_nocgroups);
// containerd's CRI runtime handler lands in its configuration with its shim
// and BinaryName.
func TestReadmeEngineConfigs(t *testing.T) {
	const path = "/usr/local/bin/paddock-runtime"
	t.Run("podman", func(t *testing.T) {
		testutil.Require(t, "podman", "podman")
		bin := build(t)
		dir, err := os.MkdirTemp("", "pm") // short: Podman's run root
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		conf := filepath.Join(dir, "containers.conf")
		text := strings.ReplaceAll(readmeBlock(t, "toml", "[engine.runtimes]"), path, bin)
		text += "\n[network]\nnetwork_config_dir = \"" + filepath.Join(dir, "networks") + "\"\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			removeMade(t, "/run/containers", "networks")
		}
		cmd := exec.Command("podman", "--log-level", "debug", "--root", filepath.Join(dir, "s"), "--runroot", filepath.Join(dir, "r"),
			"--tmpdir", filepath.Join(dir, "t"), "--events-backend", "none", "info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}")
		cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf, "HOME="+dir, "XDG_RUNTIME_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "paddock "+bin+"\n") || strings.Contains(string(out), "Failed to decode") {
			t.Errorf("podman info with README.md's containers.conf: %v\n%s", err, out)
		}
	})
	t.Run("containerd", func(t *testing.T) {
		testutil.Require(t, "containerd", "containerd")
		conf := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(conf, []byte(readmeBlock(t, "toml", "runtimes.paddock]")), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("containerd", "--config", conf, "config", "dump").CombinedOutput()
		if err != nil {
			t.Fatalf("containerd config dump: %v\n%s", err, out)
		}
		_, table, _ := strings.Cut(string(out), `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.paddock]`)
		table, _, _ = strings.Cut(table, "\n\n      [")
		for _, want := range []string{`runtime_type = "io.containerd.runc.v2"`, `BinaryName = "` + path + `"`} {
			if !strings.Contains(table, want) {
				t.Errorf("containerd's configuration of the paddock handler lacks %s:\n%s", want, table)
			}
		}
	})
}
