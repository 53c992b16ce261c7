package image_test

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/image/imagetest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"golang.org/x/sys/unix"
)

// TestHostileLayers loads layers that try to write outside their directory:
// each is refused with a *LayerError that names the entry, nothing lands
// outside, and the store keeps no entry of the layer.
func TestHostileLayers(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		outside := t.TempDir()
		s := newStore(t)
		for _, c := range []struct {
			name    string
			entries []entry
			entry   string
		}{
			{"dotdot", []entry{file("a/../../escaped", "x")}, "a/../../escaped"},
			{"beneath a symlink", []entry{symlink("evil", outside), file("evil/escaped", "x")}, "evil/escaped"},
			{"beneath a relative symlink", []entry{symlink("up", "../../../../../../.."+outside), file("up/escaped", "x")}, "up/escaped"},
			{"file where a directory should be", []entry{file("f", "x"), file("f/escaped", "x")}, "f/escaped"},
			{"hard link out", []entry{hardlink("h", "../../../etc/passwd")}, "h"},
			{"hard link through a symlink", []entry{symlink("evil", outside), hardlink("h", "evil/x")}, "h"},
			{"file over a directory", []entry{dir("d/"), file("d", "x")}, "d"},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "layout")
				imagetest.WriteLayout(t, dir, "bad", v1.Config{}, layer(t, c.entries...))
				_, err := image.Load("oci:"+dir+":bad", s)
				var le *image.LayerError
				if !errors.Is(err, image.ErrCorrupt) || !errors.As(err, &le) || le.Entry != c.entry || le.DiffID == "" {
					t.Fatalf("err = %v, want a *LayerError on %q matching ErrCorrupt", err, c.entry)
				}
				if ents, _ := os.ReadDir(outside); len(ents) != 0 {
					t.Errorf("the layer wrote outside: %v", ents)
				}
				checkEmptyStore(t, s)
			})
		}
	})
}

// checkEmptyStore checks that a store holds no layer and no unpack under way.
func checkEmptyStore(t *testing.T, s *image.Store) {
	t.Helper()
	for _, d := range []string{"layers", "tmp"} {
		if ents, _ := os.ReadDir(filepath.Join(s.Root(), d)); len(ents) != 0 {
			t.Errorf("the store's %s holds %v", d, ents)
		}
	}
}

// TestOddLayers loads layers that are odd but harmless: an absolute path lands
// inside the layer, a symbolic link pointing out is stored as it is (the
// sandbox resolves it in its own root), a device node is made by root and
// skipped for another user, an unknown owner is kept by root only.
func TestOddLayers(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		s := newStore(t)
		dir := filepath.Join(t.TempDir(), "layout")
		imagetest.WriteLayout(t, dir, "odd", v1.Config{}, layer(t,
			file("/abs", "x"), symlink("out", "/etc/shadow"), symlink("rel", "../../../etc"),
			entry{name: "null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
			entry{name: "fifo", typ: tar.TypeFifo, mode: 0o600},
			entry{name: "owned", body: "x", typ: tar.TypeReg, mode: 0o4755, uid: 4321, gid: 4322},
			entry{name: "closed/", typ: tar.TypeDir, mode: 0o000}, file("closed/inside", "x"),
		))
		img, err := image.Load("oci:"+dir+":odd", s)
		if err != nil {
			t.Fatal(err)
		}
		l := img.Layers[0]
		if data, err := os.ReadFile(filepath.Join(l, "abs")); err != nil || string(data) != "x" {
			t.Errorf("/abs: %q, %v", data, err)
		}
		for name, want := range map[string]string{"out": "/etc/shadow", "rel": "../../../etc"} {
			if got, err := os.Readlink(filepath.Join(l, name)); err != nil || got != want {
				t.Errorf("%s -> %q, %v; want %q", name, got, err, want)
			}
		}
		var st unix.Stat_t
		nullErr := unix.Lstat(filepath.Join(l, "null"), &st)
		rootful := os.Geteuid() == 0
		if rootful && (nullErr != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3)) {
			t.Errorf("root's device node: %v, mode %o", nullErr, st.Mode)
		}
		if !rootful && nullErr == nil {
			t.Error("an unprivileged store holds a device node")
		}
		if err := unix.Lstat(filepath.Join(l, "fifo"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			t.Errorf("fifo: %v, mode %o", err, st.Mode)
		}
		if err := unix.Lstat(filepath.Join(l, "owned"), &st); err != nil {
			t.Fatal(err)
		}
		wantUID, wantGID := uint32(os.Geteuid()), uint32(os.Getegid())
		if rootful {
			wantUID, wantGID = 4321, 4322
		}
		if st.Uid != wantUID || st.Gid != wantGID || st.Mode&0o7777 != 0o4755 {
			t.Errorf("owned: %d:%d mode %o, want %d:%d 4755", st.Uid, st.Gid, st.Mode&0o7777, wantUID, wantGID)
		}
		if err := unix.Lstat(filepath.Join(l, "closed"), &st); err != nil || st.Mode&0o7777 != 0 {
			t.Errorf("closed: %v, mode %o", err, st.Mode&0o7777)
		}
		if !strings.HasPrefix(l, s.Root()) {
			t.Errorf("layer %s outside the store", l)
		}
	})
}
