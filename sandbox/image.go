package sandbox

import "strings"

// An Image is an unpacked container image as WithImage runs it. Package
// image's *image.Image is one: image.Load reads an OCI layout, an OCI archive
// or a docker-archive, unpacks its layers into a shared store and resolves its
// configuration. (This package does not import package image, so that a
// program without images does not link the image libraries nor run their
// initialisation at every start.)
type Image interface {
	// Lower returns the directories of the unpacked layers, highest first.
	Lower() []string
	// Env returns the image's environment, KEY=VALUE.
	Env() []string
	// Workdir returns the image's working directory, or "".
	Workdir() string
	// User returns the image's user resolved to IDs inside the sandbox, and
	// whether the image names one.
	User() (uid, gid uint32, groups []uint32, ok bool)
}

// WithImage runs the sandbox on an unpacked image: its layers are the overlay's
// lower layers (as WithLayers makes them), its environment is merged over the
// preset's (an entry of the image replaces the preset's of the same key), and
// its working directory and user (where the image names them) become the
// Spec's. Options after it override each. The command line is the caller's:
// with package image, img.Config.Args(args) makes it as podman run does, the
// image's entrypoint followed by args or by the image's command.
//
// Loading an image reads archives and writes the store, and fails in its own
// ways; an Option cannot, so the image is loaded first:
//
//	store, err := image.OpenStore("")
//	img, err := image.Load("oci:/srv/images/alpine:3.20", store)
//	tpl, err := sandbox.NewBuilder(sandbox.WithImage(img)).Build()
//	res, err := tpl.Run(ctx, sandbox.Command{Args: img.Config.Args(nil)})
func WithImage(img Image) Option {
	lower, env, dir := img.Lower(), img.Env(), img.Workdir()
	uid, gid, groups, hasUser := img.User()
	return func(s *Spec) {
		s.Rootfs.Lower, s.RootDir, s.NoRootfs = append([]string(nil), lower...), "", false
		s.Env = mergeEnv(s.Env, env)
		if dir != "" {
			s.Workdir = dir
		}
		if hasUser {
			s.User = &User{UID: uid, GID: gid, Groups: append([]uint32(nil), groups...)}
		}
	}
}

// mergeEnv returns base with the entries of over added, an entry of over
// replacing the one of base with the same key.
func mergeEnv(base, over []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		i := 0
		for i < len(out) && !strings.HasPrefix(out[i], k+"=") && out[i] != k {
			i++
		}
		if i < len(out) {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}
