package sandbox_test

import (
	"slices"
	"testing"

	"github.com/paddock-sandbox/paddock/sandbox"
)

// plainImage is an unpacked image given as data.
type plainImage struct {
	lower, env []string
	dir        string
	uid, gid   uint32
	groups     []uint32
	hasUser    bool
}

func (p plainImage) Lower() []string { return p.lower }
func (p plainImage) Env() []string   { return p.env }
func (p plainImage) Workdir() string { return p.dir }
func (p plainImage) User() (uint32, uint32, []uint32, bool) {
	return p.uid, p.gid, p.groups, p.hasUser
}

// TestWithImageSpec checks what WithImage writes in a Spec: the layers, the
// environment merged over the preset's, the working directory and the user,
// which later options override.
func TestWithImageSpec(t *testing.T) {
	img := plainImage{lower: []string{"/l/top", "/l/base"}, env: []string{"PATH=/image/bin", "A=1"}, dir: "/srv", uid: 1000, gid: 50, groups: []uint32{7}, hasUser: true}
	s := sandbox.NewBuilder(sandbox.Rootful(), sandbox.WithImage(img)).Spec()
	if !slices.Equal(s.Rootfs.Lower, img.lower) || s.Workdir != "/srv" || s.User == nil || s.User.UID != 1000 || s.User.GID != 50 || !slices.Equal(s.User.Groups, []uint32{7}) {
		t.Errorf("spec: lower %v, workdir %q, user %+v", s.Rootfs.Lower, s.Workdir, s.User)
	}
	if !slices.Equal(s.Env, []string{"PATH=/image/bin", "A=1"}) {
		t.Errorf("env %q: the image's PATH must replace the preset's", s.Env)
	}
	s = sandbox.NewBuilder(sandbox.WithImage(img), sandbox.WithWorkdir("/mine"), sandbox.WithUser(0, 0), sandbox.Rootful()).Spec()
	if s.Workdir != "/mine" || s.User.UID != 0 {
		t.Errorf("later options did not override: workdir %q, user %+v", s.Workdir, s.User)
	}
	img.hasUser = false
	if s = sandbox.NewBuilder(sandbox.Rootful(), sandbox.WithImage(img)).Spec(); s.User != nil {
		t.Errorf("an image without a user set one: %+v", s.User)
	}
}
