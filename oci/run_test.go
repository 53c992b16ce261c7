package oci_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// mount of the configuration's, a masked path and a default device.
func TestRuncSpec(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		uid := "0"
		bundle := runcBundle(t, func(cfg map[string]any) {
			p := cfg["process"].(map[string]any)
			p["terminal"] = false
			p["args"] = []string{"sh", "-c", `hostname; id -u
grep -c ' /dev/shm .* - tmpfs ' /proc/self/mountinfo
stat -c '%F %t:%T' /proc/timer_list /dev/null
cat /proc/timer_list | wc -c`}
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
		want := "oci-box\n" + uid + "\n1\ncharacter special file 1:3\ncharacter special file 1:3\n0\n"
		if string(out) != want {
			t.Errorf("inside the sandbox:\n%s\nwant:\n%s", out, want)
		}
	})
}
