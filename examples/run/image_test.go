package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/paddock-sandbox/paddock/image/imagetest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// busyboxLayout writes a two-layer busybox image as an OCI layout in a new
// directory: the busybox root, then an /etc/os-release; its command prints
// IMAGE_VAR.
func busyboxLayout(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	root := testutil.BusyboxRoot(t)
	extra := filepath.Join(tmp, "extra")
	if err := os.MkdirAll(filepath.Join(extra, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(extra, "etc/os-release"), []byte("NAME=\"Paddock image\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var layers []v1.Layer
	for i, dir := range []string{root, extra} {
		tarball := filepath.Join(tmp, "layer"+string(rune('0'+i))+".tar")
		if out, err := exec.Command("tar", "-C", dir, "--owner=0", "--group=0", "-cf", tarball, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %v\n%s", err, out)
		}
		layers = append(layers, layerFile(t, tarball))
	}
	dir := filepath.Join(tmp, "layout")
	imagetest.WriteLayout(t, dir, "latest", v1.Config{Env: []string{"PATH=/bin", "IMAGE_VAR=image"}, Cmd: []string{"/bin/sh", "-c", "echo $IMAGE_VAR"}, WorkingDir: "/etc"}, layers...)
	return dir
}

func layerFile(t *testing.T, path string) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestImage runs an OCI layout with --image: the image's command, environment
// (which --env overrides) and working directory apply, and a command line
// replaces the image's command.
func TestImage(t *testing.T) {
	modes(t, func(t *testing.T, bin string) {
		dir := busyboxLayout(t)
		store := filepath.Join(t.TempDir(), "store")
		t.Cleanup(func() { exec.Command("chmod", "-R", "u+rwx", store).Run() })
		base := []string{"--image", "oci:" + dir, "--image-store", store}
		for _, c := range []struct {
			args []string
			want string
		}{
			{nil, "image\n"},
			{[]string{"-e", "IMAGE_VAR=mine"}, "mine\n"},
			{[]string{"--", "/bin/sh", "-c", "cat /etc/os-release; id -u; pwd"}, "NAME=\"Paddock image\"\n0\n/etc\n"},
		} {
			out, code := testutil.RunCLI(t, bin, append(append([]string{}, base...), c.args...)...)
			if code != 0 || out != c.want {
				t.Errorf("%q: exit %d, output %q; want %q", c.args, code, out, c.want)
			}
		}
		out, code := testutil.RunCLI(t, bin, "--image", "oci:"+dir+":nosuchtag", "--image-store", store, "--", "/bin/true")
		if code != 125 || !strings.Contains(out, "not found") {
			t.Errorf("a missing tag: exit %d, %q", code, out)
		}
	})
}
