package image_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestPodmanArchives imports a busybox root into podman (offline: podman
// import of a tarball), saves it as a docker-archive and an oci-archive, and
// runs each in a sandbox with its command and environment.
func TestPodmanArchives(t *testing.T) {
	podman := testutil.Require(t, "podman", "podman")
	if os.Geteuid() != 0 {
		t.Skip("podman import needs a store of the caller's; the test's is root's")
	}
	tmp := t.TempDir()
	tarball := filepath.Join(tmp, "root.tar")
	if out, err := exec.Command("tar", "-C", testutil.BusyboxRoot(t), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	name := "localhost/paddock-image-test-" + testutil.RunID() + ":v1"
	podmanRun(t, podman, "import", "--change", "ENV=FROM_PODMAN=yes", "--change", `CMD=["/bin/cat","/etc/hostname"]`, tarball, name)
	t.Cleanup(func() { exec.Command(podman, "rmi", "--force", name).Run() })
	s := newStore(t)
	for _, c := range []struct{ format, ref string }{
		{"docker-archive", "docker-archive:" + filepath.Join(tmp, "d.tar")},
		{"docker-archive", "docker-archive:" + filepath.Join(tmp, "d.tar") + ":" + name},
		{"oci-archive", "oci-archive:" + filepath.Join(tmp, "o.tar")},
	} {
		t.Run(c.ref, func(t *testing.T) {
			file := strings.SplitN(c.ref, ":", 3)[1]
			if _, err := os.Stat(file); err != nil {
				podmanRun(t, podman, "save", "--format", c.format, "-o", file, name)
			}
			img, err := image.Load(c.ref, s)
			if err != nil {
				t.Fatal(err)
			}
			if out := run(t, img, nil); out != "busybox\n" {
				t.Errorf("the image's command printed %q", out)
			}
			if out := run(t, img, []string{"/bin/sh", "-c", "echo $FROM_PODMAN"}); out != "yes\n" {
				t.Errorf("the image's environment: %q", out)
			}
		})
	}
}

func podmanRun(t *testing.T, podman string, args ...string) {
	t.Helper()
	if out, err := exec.Command(podman, args...).CombinedOutput(); err != nil {
		t.Skipf("podman %s cannot run offline here: %v\n%s", args[0], err, out)
	}
}
