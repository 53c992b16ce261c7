package image_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/paddock-sandbox/paddock/image/imagetest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// entry is one entry of a test layer.
type entry struct {
	name, body, link string
	typ              byte
	mode             int64
	uid, gid         int
	major, minor     int64
}

func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) entry {
	return entry{name: name, body: body, typ: tar.TypeReg, mode: 0o644}
}
func symlink(name, to string) entry {
	return entry{name: name, link: to, typ: tar.TypeSymlink, mode: 0o777}
}
func hardlink(name, to string) entry {
	return entry{name: name, link: to, typ: tar.TypeLink, mode: 0o644}
}

// layerTar writes entries as an uncompressed tar stream.
func layerTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), ModTime: time.Unix(1700000000, 0), Devmajor: e.major, Devminor: e.minor, Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	// Pad to tar(1)'s record of 10240 bytes, as most writers do: the diff ID
	// covers the padding too.
	buf.Write(make([]byte, (10240-buf.Len()%10240)%10240))
	return buf.Bytes()
}

// layer makes a gzip-compressed layer of entries.
func layer(t testing.TB, entries ...entry) v1.Layer {
	t.Helper()
	data := layerTar(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// busyboxLayer is a base layer: Debian's static busybox with some applets, an
// /etc/passwd and /etc/group with a user "app" (1000:1000, also in group
// "staff", 50), and /etc/os-release.
func busyboxLayer(t testing.TB) v1.Layer {
	t.Helper()
	bb := testutil.Require(t, "busybox", "busybox-static")
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	es := []entry{dir("bin/"), {name: "bin/busybox", body: string(data), typ: tar.TypeReg, mode: 0o755},
		dir("etc/"), dir("proc/"), dir("sys/"), dir("dev/"), dir("tmp/"), dir("home/"),
		{name: "home/app/", typ: tar.TypeDir, mode: 0o750, uid: 1000, gid: 1000},
		file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"),
		file("etc/group", "root:x:0:\nstaff:x:50:app\napp:x:1000:\n"),
		file("etc/os-release", "NAME=base\n")}
	for _, a := range []string{"sh", "cat", "id", "ls", "echo", "test", "true", "stat", "env", "pwd", "readlink"} {
		es = append(es, symlink("bin/"+a, "busybox"))
	}
	return layer(t, es...)
}

// fiveLayers is a busybox image of five layers: a whiteout (/gone), an opaque
// directory (/opt/keep, whose lower files a and b are hidden by c), an
// overwritten /etc/os-release, and more files.
func fiveLayers(t testing.TB) []v1.Layer {
	return []v1.Layer{
		busyboxLayer(t),
		layer(t, file("gone", "x"), dir("opt/"), dir("opt/keep/"), file("opt/keep/a", "a"), file("opt/keep/b", "b")),
		layer(t, file(".wh.gone", ""), dir("opt/keep/"), file("opt/keep/.wh..wh..opq", ""), file("opt/keep/c", "c")),
		layer(t, file("etc/os-release", "NAME=Paddock test image\nID=paddock\n")),
		layer(t, dir("srv/"), file("srv/data", "data\n"), hardlink("srv/again", "srv/data")),
	}
}

// testImage writes the five-layer image to a new layout and returns its "oci:"
// reference.
func testImage(t testing.TB, cfg v1.Config) string {
	t.Helper()
	dir := t.TempDir() + "/layout"
	imagetest.WriteLayout(t, dir, "test", cfg, fiveLayers(t)...)
	return "oci:" + dir + ":test"
}
