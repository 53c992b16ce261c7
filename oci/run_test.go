package oci_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/oci"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// runcBundle writes a bundle whose config.json is what `runc spec` (`runc spec
// --rootless` for an unprivileged caller) writes, around a busybox root, with
// edit applied to the decoded configuration.
func runcBundle(t *testing.T, edit func(cfg map[string]any)) string {
	t.Helper()
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skipf("runc, whose spec command writes the configuration: %v", err)
	}
	bundle := t.TempDir()
	args := []string{"spec", "--bundle", bundle}
	if os.Geteuid() != 0 {
		args = append(args, "--rootless")
	}
	if out, err := exec.Command(runc, args...).CombinedOutput(); err != nil {
		t.Fatalf("runc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	path := filepath.Join(bundle, oci.ConfigName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["root"] = map[string]any{"path": testutil.BusyboxRoot(t), "readonly": true}
	edit(cfg)
	if data, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// TestRuncSpec converts the configuration runc writes, builds it and runs it,
// as root and as uid 65534, and looks from inside: the hostname, the user, a
// mount of the configuration's, a masked path and a default device. Its root is
// writable, as runc's template leaves it for engines: a write inside lands in
// root.path; a read-only root refuses it.
func TestRuncSpec(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, readonly := range []bool{false, true} {
			t.Run(fmt.Sprintf("readonly=%v", readonly), func(t *testing.T) { runRuncSpec(t, readonly) })
		}
	})
}

// runRuncSpec runs the configuration of TestRuncSpec with a root that is
// read-only or not, and checks where a write to /tmp went.
func runRuncSpec(t *testing.T, readonly bool) {
	uid := "0"
	bundle := runcBundle(t, func(cfg map[string]any) {
		cfg["root"].(map[string]any)["readonly"] = readonly
		p := cfg["process"].(map[string]any)
		p["terminal"] = false
		p["args"] = []string{"sh", "-c", `hostname; id -u
grep -c ' /dev/shm .* - tmpfs ' /proc/self/mountinfo
stat -c '%F %t:%T' /proc/timer_list /dev/null
cat /proc/timer_list | wc -c
{ echo oci > /tmp/written; } 2>/dev/null || touch /tmp/written 2>&1 | grep -c 'Read-only file system'`}
		// runc's template raises ambient capabilities that it does not make
		// inheritable, which the kernel refuses (runc only warns).
		delete(p["capabilities"].(map[string]any), "ambient")
		if os.Geteuid() == 0 {
			p["user"], uid = map[string]any{"uid": 1000, "gid": 1000}, "1000"
		}
		cfg["hostname"] = "oci-box"
	})
	cfg, err := oci.ReadConfig(bundle)
	if err != nil {
		t.Fatal(err)
	}
	root := cfg.Root.Path
	// A root filesystem's /tmp is every user's, as an image's is.
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	out := runConfig(t, cfg, bundle)
	want := "oci-box\n" + uid + "\n1\ncharacter special file 1:3\ncharacter special file 1:3\n0\n"
	if readonly {
		want += "1\n"
	}
	if string(out) != want {
		t.Errorf("inside the sandbox:\n%s\nwant:\n%s", out, want)
	}
	written, err := os.ReadFile(filepath.Join(root, "tmp/written"))
	switch {
	case readonly && err == nil:
		t.Errorf("a write inside a read-only root reached %s", root)
	case !readonly && string(written) != "oci\n":
		t.Errorf("the write inside did not land in root.path %s: %q, %v", root, written, err)
	}
}

// runBundle runs the bundle's config.json in a sandbox and returns what it
// printed, failing the test unless it ran and exited 0.
func runBundle(t *testing.T, bundle string) []byte {
	t.Helper()
	cfg, err := oci.ReadConfig(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return runConfig(t, cfg, bundle)
}

// runConfig converts cfg, runs it in a sandbox and returns what it printed,
// failing the test unless it ran and exited 0.
func runConfig(t *testing.T, cfg *specs.Spec, bundle string) []byte {
	t.Helper()
	spec, cmd, err := oci.Convert(cfg, bundle)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	tpl, err := sandbox.NewBuilder(sandbox.WithSpec(spec)).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer tpl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, st, err := tpl.CombinedOutput(ctx, cmd)
	if err != nil || !st.Success() {
		t.Fatalf("run: %v, %v\n%s", err, st, out)
	}
	return out
}
