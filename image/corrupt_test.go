package image_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/image/imagetest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestCorruptLayer loads images whose layer blob is truncated, or holds
// another layer's content: the load fails with a *LayerError naming the layer,
// and the store keeps no entry of it.
func TestCorruptLayer(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		s := newStore(t)
		other := layer(t, file("other", "other"))
		for _, c := range []struct {
			name   string
			damage func(t *testing.T, blob string)
		}{
			{"truncated", func(t *testing.T, blob string) {
				st, err := os.Stat(blob)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(blob, st.Size()/2); err != nil {
					t.Fatal(err)
				}
			}},
			{"other content", func(t *testing.T, blob string) {
				rc, err := other.Compressed()
				if err != nil {
					t.Fatal(err)
				}
				defer rc.Close()
				data, err := io.ReadAll(rc)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(blob, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "layout")
				big := layer(t, file("big", strings.Repeat("0123456789abcdef", 1<<14)))
				imagetest.WriteLayout(t, dir, "x", v1.Config{}, big)
				d, err := big.Digest()
				if err != nil {
					t.Fatal(err)
				}
				diffID, err := big.DiffID()
				if err != nil {
					t.Fatal(err)
				}
				c.damage(t, filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
				_, err = image.Load("oci:"+dir+":x", s)
				var le *image.LayerError
				if !errors.Is(err, image.ErrCorrupt) || !errors.As(err, &le) || le.DiffID != diffID.String() {
					t.Fatalf("err = %v, want a *LayerError of %s matching ErrCorrupt", err, diffID)
				}
				checkEmptyStore(t, s)
			})
		}
	})
}

// TestCorruptConfig loads an image whose configuration does not match the
// digest its manifest gives.
func TestCorruptConfig(t *testing.T) {
	s := newStore(t)
	dir := filepath.Join(t.TempDir(), "layout")
	img := imagetest.WriteLayout(t, dir, "x", v1.Config{Cmd: []string{"true"}}, layer(t, file("f", "x")))
	cd, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "blobs", cd.Algorithm, cd.Hex)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Replace(data, []byte(`"true"`), []byte(`"evil"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := image.Load("oci:"+dir+":x", s); !errors.Is(err, image.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	checkEmptyStore(t, s)
}
