package image_test

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// BenchmarkStartImage measures Start+Wait of /bin/true in a sandbox on the
// five-layer test image (five overlay lower layers, with a whiteout and an
// opaque directory) against the same sandbox on a single directory (the image's
// busybox layer alone), in one run: the image's cost is the ratio of the two.
func BenchmarkStartImage(b *testing.B) {
	s := newStore(b)
	img, err := image.Load(testImage(b, v1.Config{Env: []string{"PATH=/bin"}}), s)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opt  sandbox.Option
	}{
		{"dir", sandbox.WithRootfs(img.Layers[0])},
		{"layers=5", sandbox.WithImage(img)},
	} {
		b.Run(c.name, func(b *testing.B) {
			tpl, err := sandbox.NewBuilder(c.opt, sandbox.WithoutCgroup()).Build()
			if err != nil {
				b.Fatal(err)
			}
			defer tpl.Close()
			cmd := sandbox.Command{Args: []string{"/bin/true"}}
			for b.Loop() {
				st, err := tpl.Run(context.Background(), cmd)
				if err != nil || !st.Success() {
					b.Fatal(st, err)
				}
			}
		})
	}
}

// BenchmarkLoad measures a load of the five-layer test image into a store
// that holds it already (the index, manifest and configuration are read and
// checked, the user resolved, nothing unpacked), and into an empty store.
func BenchmarkLoad(b *testing.B) {
	ref := testImage(b, v1.Config{User: "app"})
	b.Run("cached", func(b *testing.B) {
		s := newStore(b)
		if _, err := image.Load(ref, s); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := image.Load(ref, s); err != nil {
				b.Fatal(err)
			}
		}
		if s.Unpacked() != 5 {
			b.Fatalf("unpacked %d layers, want 5", s.Unpacked())
		}
	})
	b.Run("empty", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s := newStore(b)
			b.StartTimer()
			if _, err := image.Load(ref, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
