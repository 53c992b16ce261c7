package image_test

import (
	"errors"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/image/imagetest"
)

func TestParseRef(t *testing.T) {
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		in   string
		want image.Ref
	}{
		{"oci:/a/b", image.Ref{Transport: "oci", Path: "/a/b"}},
		{"oci:/a/b:v1", image.Ref{Transport: "oci", Path: "/a/b", Tag: "v1"}},
		{"oci:/a/b@" + digest, image.Ref{Transport: "oci", Path: "/a/b", Digest: digest}},
		{"oci-archive:/x.tar", image.Ref{Transport: "oci-archive", Path: "/x.tar"}},
		{"docker-archive:/x.tar:localhost/app:1", image.Ref{Transport: "docker-archive", Path: "/x.tar", Tag: "localhost/app:1"}},
	} {
		got, err := image.ParseRef(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRef(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/a/b", "docker://busybox", "oci:", "oci:/a:", "oci:/a@sha256:12", "docker-archive:/x.tar@" + digest} {
		if _, err := image.ParseRef(bad); !errors.Is(err, image.ErrInvalid) {
			t.Errorf("ParseRef(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

// TestLayoutSelection picks images of a layout that holds two by tag and by
// digest, and refuses an ambiguous or missing one.
func TestLayoutSelection(t *testing.T) {
	s := newStore(t)
	dir := filepath.Join(t.TempDir(), "layout")
	imagetest.WriteLayout(t, dir, "one", v1.Config{Cmd: []string{"one"}}, layer(t, file("one", "1")))
	two := imagetest.WriteLayout(t, dir, "two", v1.Config{Cmd: []string{"two"}}, layer(t, file("two", "2")))
	d, err := two.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"oci:" + dir + ":one": "one", "oci:" + dir + ":two": "two", "oci:" + dir + "@" + d.String(): "two"} {
		img, err := image.Load(ref, s)
		if err != nil || img.Config.Args(nil)[0] != want {
			t.Errorf("%s: %v, %+v", ref, err, img)
		}
	}
	for _, ref := range []string{"oci:" + dir, "oci:" + dir + ":three", "oci:" + filepath.Join(dir, "missing")} {
		if _, err := image.Load(ref, s); !errors.Is(err, image.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", ref, err)
		}
	}
}
