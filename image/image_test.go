package image_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/image/imagetest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// newStore opens a store in a new temporary directory.
func newStore(t testing.TB) *image.Store {
	t.Helper()
	s, err := image.OpenStore(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeStore(t, s.Root()) })
	return s
}

// removeStore removes a store, whose directories may deny their owner access.
func removeStore(t testing.TB, root string) {
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(root)
}

// run runs args in a sandbox on img and returns its output.
func run(t testing.TB, img *image.Image, args []string, opts ...sandbox.Option) string {
	t.Helper()
	tpl, err := sandbox.NewBuilder(append([]sandbox.Option{sandbox.WithImage(img)}, opts...)...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	var out bytes.Buffer
	res, err := tpl.Run(context.Background(), sandbox.Command{Args: img.Config.Args(args), Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode() != 0 {
		t.Fatalf("exit %d:\n%s", res.ExitCode(), out.String())
	}
	return out.String()
}

// TestRunImage runs a five-layer image and looks from inside: the highest layer
// wins, a whiteout hides a lower file, an opaque directory hides its lower
// entries, the image's command, environment and working directory apply; a
// second load from the same store unpacks nothing.
func TestRunImage(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		ref := testImage(t, v1.Config{Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"cat /etc/os-release"},
			Env: []string{"PATH=/bin", "IMAGE_VAR=from-image"}, WorkingDir: "/srv"})
		s := newStore(t)
		img, err := image.Load(ref, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(img.Layers) != 5 || s.Unpacked() != 5 {
			t.Fatalf("layers %d, unpacked %d; want 5 and 5", len(img.Layers), s.Unpacked())
		}
		if out := run(t, img, nil); !strings.Contains(out, "Paddock test image") {
			t.Errorf("the image's command printed %q", out)
		}
		out := run(t, img, []string{`echo "[$(ls /opt/keep | tr '\n' ' ')]"; test -e /gone && echo GONE-SHOWS; pwd; echo $IMAGE_VAR; cat again; id -u`})
		for _, want := range []string{"[c ]", "/srv\n", "from-image\n", "data\n", "0\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "GONE-SHOWS") {
			t.Errorf("a whited-out file shows:\n%s", out)
		}
		checkOverlayForms(t, img.Layers[2])

		again, err := image.OpenStore(s.Root())
		if err != nil {
			t.Fatal(err)
		}
		img2, err := image.Load(ref, again)
		if err != nil {
			t.Fatal(err)
		}
		if again.Unpacked() != 0 || !slices.Equal(img2.Layers, img.Layers) {
			t.Errorf("a second load unpacked %d layers (want 0), layers %v vs %v", again.Unpacked(), img2.Layers, img.Layers)
		}
	})
}

// checkOverlayForms checks that a layer's whiteout is a 0:0 character device
// and its opaque directory carries the attribute that the caller's overlays read.
func checkOverlayForms(t *testing.T, layer string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(layer, "gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout: %v, mode %o, rdev %d", err, st.Mode, st.Rdev)
	}
	names := []string{"user.overlay.opaque"}
	if os.Geteuid() == 0 {
		names = append(names, "trusted.overlay.opaque")
	}
	for _, n := range names {
		buf := make([]byte, 8)
		if k, err := unix.Lgetxattr(filepath.Join(layer, "opt/keep"), n, buf); err != nil || string(buf[:k]) != "y" {
			t.Errorf("opaque directory: %s = %q, %v", n, buf[:k], err)
		}
	}
	if _, err := os.Lstat(filepath.Join(layer, "opt/keep/.wh..wh..opq")); err == nil {
		t.Error("the opaque marker was unpacked as a file")
	}
}

// TestImageUser resolves the image's user in its own /etc/passwd and
// /etc/group, and runs as it where the sandbox maps it.
func TestImageUser(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		s := newStore(t)
		for _, c := range []struct {
			user          string
			uid, gid      uint32
			groups        []uint32
			wantErr       error
			idOutContains string
		}{
			{user: "app", uid: 1000, gid: 1000, groups: []uint32{50}, idOutContains: "uid=1000(app) gid=1000(app) groups=50(staff)"},
			{user: "app:staff", uid: 1000, gid: 50, groups: nil, idOutContains: "uid=1000(app) gid=50(staff)"},
			{user: "1234", uid: 1234, gid: 0},
			{user: "root:1000", uid: 0, gid: 1000},
			{user: "nobody", wantErr: image.ErrNotFound},
			{user: "app:wheel", wantErr: image.ErrNotFound},
		} {
			t.Run(c.user, func(t *testing.T) {
				img, err := image.Load(testImage(t, v1.Config{User: c.user, Env: []string{"PATH=/bin"}}), s)
				if c.wantErr != nil {
					if !errors.Is(err, c.wantErr) {
						t.Fatalf("err = %v, want %v", err, c.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := img.Config
				if got.UID != c.uid || got.GID != c.gid || !slices.Equal(got.Groups, c.groups) {
					t.Fatalf("resolved %d:%d %v, want %d:%d %v", got.UID, got.GID, got.Groups, c.uid, c.gid, c.groups)
				}
				if c.idOutContains == "" {
					return
				}
				if os.Geteuid() != 0 {
					t.Skip("a rootless sandbox maps only the caller's own uid: uid 1000 has no place in it")
				}
				if out := run(t, img, []string{"id"}); !strings.Contains(out, c.idOutContains) {
					t.Errorf("id: %q, want %q", out, c.idOutContains)
				}
			})
		}
	})
}

// TestConcurrentLoads loads one image from eight goroutines, each with a Store
// of its own on one directory: each layer is unpacked once, and all get the
// same directories.
func TestConcurrentLoads(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		ref := testImage(t, v1.Config{})
		root := newStore(t).Root()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var unpacked int64
		var layers [][]string
		for range 8 {
			wg.Go(func() {
				s, err := image.OpenStore(root)
				if err != nil {
					t.Error(err)
					return
				}
				img, err := image.Load(ref, s)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				unpacked += s.Unpacked()
				layers = append(layers, img.Layers)
				mu.Unlock()
			})
		}
		wg.Wait()
		if unpacked != 5 {
			t.Errorf("the loads unpacked %d layers, want 5", unpacked)
		}
		for _, l := range layers {
			if !slices.Equal(l, layers[0]) {
				t.Errorf("layers differ: %v vs %v", l, layers[0])
			}
		}
		if tmp, _ := os.ReadDir(filepath.Join(root, "tmp")); len(tmp) != 0 {
			t.Errorf("tmp holds %d entries", len(tmp))
		}
	})
}

// TestPrune removes one of two images that share their base layer: Prune then
// removes only the layers that the other does not use.
func TestPrune(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		s := newStore(t)
		dir := filepath.Join(t.TempDir(), "layout")
		base := busyboxLayer(t)
		imagetest.WriteLayout(t, dir, "one", v1.Config{}, base, layer(t, file("one", "1")))
		imagetest.WriteLayout(t, dir, "two", v1.Config{}, base, layer(t, file("two", "2")), layer(t, file("three", "3")))
		one, err := image.Load("oci:"+dir+":one", s)
		if err != nil {
			t.Fatal(err)
		}
		two, err := image.Load("oci:"+dir+":two", s)
		if err != nil {
			t.Fatal(err)
		}
		if s.Unpacked() != 4 {
			t.Errorf("unpacked %d layers, want 4 (the base once)", s.Unpacked())
		}
		if removed, err := s.Prune(); err != nil || len(removed) != 0 {
			t.Fatalf("prune with both images: removed %v, %v", removed, err)
		}
		if err := s.Remove("oci:" + dir + ":two"); err != nil {
			t.Fatal(err)
		}
		removed, err := s.Prune()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(removed)
		want := slices.Sorted(slices.Values(two.DiffIDs[1:]))
		if !slices.Equal(removed, want) {
			t.Errorf("prune removed %v, want %v", removed, want)
		}
		left, _ := s.Layers()
		if !slices.Equal(left, slices.Sorted(slices.Values(one.DiffIDs))) {
			t.Errorf("layers left %v, want %v", left, one.DiffIDs)
		}
		if imgs, _ := s.Images(); len(imgs) != 1 || imgs[0].ID != one.ID {
			t.Errorf("images left: %+v", imgs)
		}
	})
}

// TestRunImageAutoRange runs an image in a root caller's sandboxes whose root
// is another host ID: an automatic block of subordinate IDs, and a map of the
// caller's own with idmapped layers. The parent attaches the layers, so that
// root's private store is reached, and its files are the sandbox root's.
func TestRunImageAutoRange(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("an automatic ID range is a root caller's")
	}
	s := newStore(t)
	img, err := image.Load(testImage(t, v1.Config{Env: []string{"PATH=/bin"}, User: "app"}), s)
	if err != nil {
		t.Fatal(err)
	}
	m := []namespace.IDMap{{ContainerID: 0, HostID: 1_500_000_000, Size: 65536}}
	for name, opts := range map[string][]sandbox.Option{
		"automatic range":   {sandbox.Rootless()},
		"own map, idmapped": {sandbox.WithUserNS(m, m), sandbox.WithIDMappedLayers()},
	} {
		out := run(t, img, []string{"/bin/sh", "-c", "id; stat -c %u:%g /home/app /bin/busybox; ls /opt/keep"}, opts...)
		for _, want := range []string{"uid=1000(app) gid=1000(app)", "1000:1000\n0:0\n", "c\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", name, want, out)
			}
		}
	}
}

// TestRunImageFuse runs the five-layer image on fuse-overlayfs, Podman's
// fallback where the kernel's overlay does not work in a user namespace: it
// reads the same whiteouts and opaque attributes.
func TestRunImageFuse(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if err := overlay.FuseAvailable(); errors.Is(err, overlay.ErrNotSupported) {
			t.Skipf("fuse-overlayfs: %v", err)
		} else if err != nil {
			t.Fatal(err)
		}
		img, err := image.Load(testImage(t, v1.Config{Env: []string{"PATH=/bin"}}), newStore(t))
		if err != nil {
			t.Fatal(err)
		}
		out := run(t, img, []string{"/bin/sh", "-c", `echo "[$(ls /opt/keep | tr '\n' ' ')]"; test -e /gone && echo GONE-SHOWS; cat /etc/os-release; grep -c fuse /proc/self/mountinfo`}, sandbox.WithOverlayDriver(overlay.Fuse))
		if !strings.Contains(out, "[c ]") || strings.Contains(out, "GONE-SHOWS") || !strings.Contains(out, "Paddock test image") {
			t.Errorf("output:\n%s", out)
		}
	})
}
