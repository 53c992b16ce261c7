package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeLayout writes an image of one layer, holding /hello, as an OCI layout
// under dir.
func writeLayout(t *testing.T, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("hi\n"))
	tw.Close()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	return string(p)
}

// TestLoadListRmPrune loads an image twice (the second load unpacks nothing),
// lists it, removes it, and prunes its layer.
func TestLoadListRmPrune(t *testing.T) {
	dir := t.TempDir()
	layoutDir := writeLayout(t, dir)
	store := filepath.Join(dir, "store")
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+rwx", store).Run() })
	call := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(append([]string{"--store", store}, args...), &out, &errOut); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	if out := call("load", "oci:"+layoutDir); !strings.Contains(out, "(1 layers)") || !strings.Contains(out, "unpacked 1 layers") {
		t.Errorf("load: %q", out)
	}
	if out := call("load", "oci:"+layoutDir); !strings.Contains(out, "unpacked 0 layers") {
		t.Errorf("second load: %q", out)
	}
	if out := call("list"); !strings.Contains(out, "oci:"+layoutDir) || strings.Contains(out, "unused") {
		t.Errorf("list: %q", out)
	}
	call("rm", "oci:"+layoutDir)
	if out := call("list"); !strings.Contains(out, "unused") {
		t.Errorf("list after rm: %q", out)
	}
	if out := call("prune"); strings.Count(out, "removed sha256:") != 1 {
		t.Errorf("prune: %q", out)
	}
	if ents, _ := os.ReadDir(filepath.Join(store, "layers")); len(ents) != 0 {
		t.Errorf("layers left: %v", ents)
	}
}
