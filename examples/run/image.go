package main

import (
	"errors"
	"flag"

	"github.com/paddock-sandbox/paddock/image"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// imageFlags are run's flags for images.
type imageFlags struct {
	ref, store string
	// opt runs the sandbox on the loaded image; nil without --image.
	opt sandbox.Option
	img *image.Image
}

// addImageFlags registers --image and --image-store.
func addImageFlags(fs *flag.FlagSet, f *imageFlags) {
	fs.StringVar(&f.ref, "image", "", "run an image: oci:DIR[:TAG|@DIGEST], oci-archive:FILE or docker-archive:FILE (its layers are unpacked once into the image store)")
	fs.StringVar(&f.store, "image-store", "", "the image store (default /var/lib/paddock for root, $XDG_DATA_HOME/paddock or ~/.local/share/paddock for others)")
}

// loadImage loads --image into the store and makes the option that runs on it:
// its layers, environment (with the --env entries over it), working directory
// and user, which --workdir and --user override. It returns the command line,
// as podman run makes it: the image's entrypoint followed by args, or by the
// image's command when args is empty.
func loadImage(o *options, args []string) ([]string, error) {
	f := &o.images
	if f.ref == "" {
		return args, nil
	}
	if o.rootfs != "" {
		return nil, errors.New("--image and --rootfs exclude each other")
	}
	s, err := image.OpenStore(f.store)
	if err != nil {
		return nil, err
	}
	if f.img, err = image.Load(f.ref, s); err != nil {
		return nil, err
	}
	env, withImage := []string(o.env), sandbox.WithImage(f.img)
	f.opt = func(s *sandbox.Spec) {
		withImage(s)
		s.Env = image.MergeEnv(s.Env, env) // so that --env wins over the image's, as in podman
	}
	return f.img.Config.Args(args), nil
}
