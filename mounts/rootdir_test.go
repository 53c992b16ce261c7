package mounts

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPlanRootDir: a root directory is one recursive bind on the new root, out of
// the root (both are host paths); what cannot be a root is refused.
func TestPlanRootDir(t *testing.T) {
	dir, staging := t.TempDir(), t.TempDir()
	steps, err := PlanRootDir(dir+"/", staging)
	if err != nil {
		t.Fatal(err)
	}
	want := Step{Action: ActBind, Stage: rootStage, Path: staging, Source: dir, Flags: unix.MS_BIND | unix.MS_REC, FlagText: "rw,bind,rec"}
	if len(steps) != 1 || steps[0].What == "" {
		t.Fatalf("steps %+v", steps)
	}
	st := steps[0]
	st.What = ""
	if st != want {
		t.Errorf("step %+v, want %+v", st, want)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "rel", "/", filepath.Join(dir, "nowhere"), file, dir + "/\x00"} {
		if _, err := PlanRootDir(bad, staging); !errors.Is(err, ErrInvalid) {
			t.Errorf("root directory %q: %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := PlanRootDir(dir, "rel"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a relative new root: %v, want ErrInvalid", err)
	}
}
