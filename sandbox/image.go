package sandbox

import "github.com/paddock-sandbox/paddock/image"

// WithImage runs the sandbox on an image loaded with image.Load: its layers,
// unpacked in the image store, are the overlay's lower layers (as WithLayers
// makes them), its environment is merged over the preset's (an entry of the
// image replaces the preset's of the same key), and its working directory and
// user (where the image names one), resolved in the image's own /etc/passwd
// and /etc/group, become the Spec's. Options after it override each. The command line is the caller's:
// img.Config.Args(args) makes it as podman run does, the image's entrypoint
// followed by args or by the image's command.
//
// Loading an image reads archives and writes the store, and fails in its own
// ways (see package image); an Option cannot, so the image is loaded first:
//
//	store, err := image.OpenStore("")
//	img, err := image.Load("oci:/srv/images/alpine:3.20", store)
//	tpl, err := sandbox.NewBuilder(sandbox.WithImage(img)).Build()
//	res, err := tpl.Run(ctx, sandbox.Command{Args: img.Config.Args(nil)})
func WithImage(img *image.Image) Option {
	lower := img.Lower()
	c := img.Config
	return func(s *Spec) {
		s.Rootfs.Lower, s.RootDir, s.NoRootfs = append([]string(nil), lower...), "", false
		s.Env = image.MergeEnv(s.Env, c.Env)
		if c.WorkingDir != "" {
			s.Workdir = c.WorkingDir
		}
		if c.User != "" {
			s.User = &User{UID: c.UID, GID: c.GID, Groups: append([]uint32(nil), c.Groups...)}
		}
	}
}
