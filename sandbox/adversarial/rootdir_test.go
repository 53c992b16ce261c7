package adversarial_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

const envDirCorpus = "PADDOCK_ADVERSARIAL_DIR_CORPUS"

// makeDirCorpus is makeCorpus for root directories (sandbox.WithRootDir), which
// are a single directory each: every case is a copy of the base (the probe hard
// linked) with the hostile shape in it, under cases.
func makeDirCorpus(t *testing.T) string {
	t.Helper()
	dir := makeCorpus(t)
	c := &corpus{dir: dir, base: filepath.Join(dir, "base")}
	for _, sp := range setupPaths {
		for _, sh := range shapes {
			l := c.layer(sp, sh)
			if _, err := os.Lstat(l); err != nil {
				continue
			}
			for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc"} {
				// The shape may stand where a directory of the base goes.
				if err := os.Mkdir(filepath.Join(l, d), 0o755); err != nil && !os.IsExist(err) {
					t.Fatal(err)
				}
			}
			must(t, os.Link(filepath.Join(c.base, "bin/probe"), filepath.Join(l, "bin/probe")))
			if os.Geteuid() == 0 {
				for _, d := range []string{"bin", "bin/probe", "proc", "sys", "dev", "tmp", "etc"} {
					os.Lchown(filepath.Join(l, d), testutil.Nobody, testutil.Nobody)
				}
			}
		}
	}
	return dir
}

// TestHostileRootDirs is TestHostileRoots with each case's directory as the root
// itself instead of an overlay's layer: the setup now writes into the directory
// (the mount points it makes), so only the directory may change; the canary, the
// bind sources, the base and the host's mounts stay as they were.
func TestHostileRootDirs(t *testing.T) {
	testutil.ModesWith(t, envDirCorpus, makeDirCorpus, func(t *testing.T, dir string) {
		c := &corpus{dir: dir, base: filepath.Join(dir, "base"), canary: filepath.Join(dir, "canary"),
			srcDir: filepath.Join(dir, "src"), srcFile: filepath.Join(dir, "src-file")}
		mounts := hostMounts(t, dir)
		outside := func() string {
			var b strings.Builder
			for _, p := range []string{c.base, c.canary, c.srcDir, c.srcFile} {
				b.WriteString(snapshot(t, p))
			}
			return b.String()
		}
		ran, refused := 0, 0
		for _, sp := range setupPaths {
			for _, sh := range shapes {
				l := c.layer(sp, sh)
				if _, err := os.Lstat(l); err != nil {
					continue
				}
				t.Run(sp.name+"/"+sh.name, func(t *testing.T) {
					before := outside()
					err := attack(t, append(sp.opts(c), sandbox.WithRootDir(l), sandbox.WithoutCgroup()))
					if err == nil {
						ran++
					} else {
						refused++
						t.Log(err)
					}
					if after := outside(); after != before {
						t.Errorf("the canary, the base or the bind sources changed:\n%s", diffText(before, after))
					}
					if now := hostMounts(t, dir); now != mounts {
						t.Errorf("a mount appeared on the host in the corpus:\n%s", diffText(mounts, now))
					}
				})
			}
		}
		t.Logf("%d attacks ran inside their root, %d were refused with a typed error", ran, refused)
	})
}
