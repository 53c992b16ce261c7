package owner_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the tests leave anything behind on the host.
func TestMain(m *testing.M) {
	if os.Getenv("PADDOCK_OWNER_HOLD") == "1" {
		o, err := owner.Self()
		if err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		if os.Getenv("PADDOCK_OWNER_CGROUPS") == "1" {
			owner.NoteCgroups()
		}
		os.Stdout.WriteString(o.ID + "\n")
		select {}
	}
	testutil.Main(m)
}

// TestLiveness: an owner that lives is never dead, one that was killed is, once,
// and releasing it removes its lock file; this process's own owner is never dead.
func TestLiveness(t *testing.T) {
	o, err := owner.Self()
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Release()
	if owner.IfDead(o.ID) != nil {
		t.Fatal("this process's own owner counts as dead")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "PADDOCK_OWNER_HOLD=1")
	id := strings.TrimSpace(testutil.StartLine(t, cmd))
	if !owner.ValidID(id) || id == o.ID {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the other process's owner is %q", id)
	}
	if d := owner.IfDead(id); d != nil {
		d.Keep()
		t.Error("a live owner counts as dead")
	}
	cmd.Process.Kill()
	cmd.Wait()
	d := owner.IfDead(id)
	if d == nil {
		t.Fatal("a killed owner does not count as dead")
	}
	if owner.IfDead(id) != nil {
		t.Error("a dead owner being reclaimed counts as dead twice")
	}
	d.Release()
	dir, _ := owner.Dir()
	if _, err := os.Stat(filepath.Join(dir, id+".lock")); err == nil {
		t.Error("the dead owner's lock file is still there")
	}
	if owner.IfDead(id) != nil {
		t.Error("an owner whose lock file is gone counts as dead")
	}
}

// TestReclaimOtherTempDir: an owner with another temporary directory leaves a
// staging directory there; a Reclaim in this process, whose TMPDIR differs,
// removes it before the owner's lock file, and leaves others' entries alone.
func TestReclaimOtherTempDir(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "PADDOCK_OWNER_HOLD=1", "TMPDIR="+other)
	id := strings.TrimSpace(testutil.StartLine(t, cmd))
	cmd.Process.Kill()
	cmd.Wait()
	if !owner.ValidID(id) {
		t.Fatalf("the other process's owner is %q", id)
	}
	staging := filepath.Join(other, owner.StagingPrefix+id+"-1")
	foreign := filepath.Join(other, owner.StagingPrefix+"0123456789abcdef-1")
	for _, d := range []string{staging, foreign} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := owner.Reclaim(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staging); err == nil {
		t.Errorf("the dead owner's staging directory %s is still there", staging)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("another owner's entry went: %v", err)
	}
	dir, _ := owner.Dir()
	if _, err := os.Stat(filepath.Join(dir, id+".lock")); err == nil {
		t.Error("the dead owner's lock file is still there")
	}
}

// TestReclaimKeepsCgroupOwner: a pass that lists no cgroups removes a dead
// owner's lock file only where the owner never made a cgroup; the lock of one
// that did stays for a pass that lists them.
func TestReclaimKeepsCgroupOwner(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := owner.Dir()
	if err != nil {
		t.Fatal(err)
	}
	for _, made := range []bool{true, false} {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "PADDOCK_OWNER_HOLD=1")
		if made {
			cmd.Env = append(cmd.Env, "PADDOCK_OWNER_CGROUPS=1")
		}
		id := strings.TrimSpace(testutil.StartLine(t, cmd))
		cmd.Process.Kill()
		cmd.Wait()
		if !owner.ValidID(id) {
			t.Fatalf("the other process's owner is %q", id)
		}
		if err := owner.Reclaim(nil); err != nil {
			t.Fatal(err)
		}
		lock := filepath.Join(dir, id+".lock")
		_, err := os.Stat(lock)
		if made != (err == nil) {
			t.Errorf("owner that made cgroups: %v; its lock file after a pass without cgroups: %v", made, err)
		}
		if d := owner.IfDead(id); d != nil {
			d.Release()
		}
	}
}
