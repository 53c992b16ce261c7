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

// envArchives hands the directory of podman's archives to the rootless half.
const envArchives = "PADDOCK_TEST_PODMAN_ARCHIVES"

// podmanArchives imports a busybox root into podman (offline: podman import of
// a tarball), saves it as a docker-archive and an oci-archive in a directory
// that every user can read, removes the image from podman's store, and returns
// the directory and the image's name, separated by a newline.
func podmanArchives(t *testing.T) string {
	t.Helper()
	podman := testutil.Require(t, "podman", "podman")
	if os.Geteuid() != 0 {
		t.Skip("podman import writes root's podman store; the test runs it as root")
	}
	dir := testutil.SharedTempDir(t, "paddock-archives-")
	tarball := filepath.Join(t.TempDir(), "root.tar")
	if out, err := exec.Command("tar", "-C", testutil.BusyboxRoot(t), "-cf", tarball, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	name := "localhost/paddock-image-test-" + testutil.RunID() + ":v1"
	podmanRun(t, podman, "import", "--change", "ENV=FROM_PODMAN=yes", "--change", `CMD=["/bin/cat","/etc/hostname"]`, tarball, name)
	defer exec.Command(podman, "rmi", "--force", name).Run()
	for _, f := range []string{"docker-archive", "oci-archive"} {
		file := filepath.Join(dir, f+".tar")
		if out, err := exec.Command(podman, "save", "--format", f, "-o", file, name).CombinedOutput(); err != nil {
			t.Fatalf("podman save --format %s: %v\n%s", f, err, out)
		}
		if err := os.Chmod(file, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir + "\n" + name
}

// TestPodmanArchives runs the docker-archive and the oci-archive that podman
// saves in a sandbox, rootful and rootless, with their command and environment.
func TestPodmanArchives(t *testing.T) {
	testutil.ModesWith(t, envArchives, podmanArchives, func(t *testing.T, value string) {
		dir, name, _ := strings.Cut(value, "\n")
		s := newStore(t)
		for _, ref := range []string{
			"docker-archive:" + filepath.Join(dir, "docker-archive.tar"),
			"docker-archive:" + filepath.Join(dir, "docker-archive.tar") + ":" + name,
			"oci-archive:" + filepath.Join(dir, "oci-archive.tar"),
		} {
			img, err := image.Load(ref, s)
			if err != nil {
				t.Fatalf("%s: %v", ref, err)
			}
			if out := run(t, img, nil); out != "busybox\n" {
				t.Errorf("%s: the image's command printed %q", ref, out)
			}
			if out := run(t, img, []string{"/bin/sh", "-c", "echo $FROM_PODMAN"}); out != "yes\n" {
				t.Errorf("%s: the image's environment: %q", ref, out)
			}
		}
		if s.Unpacked() != 1 {
			t.Errorf("three loads of one image unpacked %d layers, want 1", s.Unpacked())
		}
	})
}

func podmanRun(t *testing.T, podman string, args ...string) {
	t.Helper()
	if out, err := exec.Command(podman, args...).CombinedOutput(); err != nil {
		t.Skipf("podman %s cannot run offline here: %v\n%s", args[0], err, out)
	}
}
