package selinux

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func requireSELinux(t *testing.T) {
	t.Helper()
	if !Enabled() {
		t.Skip("SELinux is disabled on this host (no selinuxfs)")
	}
}

func requireSELinuxOff(t *testing.T) {
	t.Helper()
	if Enabled() {
		t.Skip("SELinux is enabled on this host; this test covers a host without it")
	}
}

// TestResolveThisHost runs the exported path against the host as it is.
func TestResolveThisHost(t *testing.T) {
	requireSELinuxOff(t)
	a := NewAllocator(0)
	for _, s := range []Spec{{}, {Disable: true}} {
		for _, priv := range []bool{false, true} {
			l, release, err := s.Resolve(priv, a)
			if err != nil || l != (Labels{}) || release == nil {
				t.Errorf("%+v.Resolve(%v) = %+v, %v; want no labels", s, priv, l, err)
			}
			release()
		}
	}
	if a.InUse() != 0 {
		t.Errorf("a disabled host allocated %d pairs", a.InUse())
	}
	for _, s := range []Spec{{Type: "spc_t"}, {Level: "s0:c1,c2"}, {User: "system_u"}, {Role: "system_r"}} {
		_, release, err := s.Resolve(false, a)
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("%+v.Resolve = %v, want ErrNotSupported", s, err)
		}
		release()
		if err := s.Check(); !errors.Is(err, ErrNotSupported) {
			t.Errorf("%+v.Check = %v, want ErrNotSupported", s, err)
		}
	}
	// Bad input is reported as such before the host is considered.
	if _, _, err := (Spec{Type: "bad type"}).Resolve(false, a); !errors.Is(err, ErrInvalid) {
		t.Errorf("Resolve of an invalid spec = %v, want ErrInvalid", err)
	}
	if got := MountOption("system_u:object_r:container_file_t:s0:c1,c2"); got != "" {
		t.Errorf("MountOption on a host without SELinux = %q, want empty", got)
	}
}

// TestResolveLabels checks the labels an SELinux host would get.
func TestResolveLabels(t *testing.T) {
	a := NewAllocator(0)
	l, release, err := Spec{}.resolve(true, false, a)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := ParseLabel(l.Process)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := ParseLabel(l.Mount)
	if err != nil {
		t.Fatal(err)
	}
	if pl.User != "system_u" || pl.Role != "system_r" || pl.Type != "container_t" {
		t.Errorf("process label %q", l.Process)
	}
	if fl.User != "system_u" || fl.Role != "object_r" || fl.Type != "container_file_t" {
		t.Errorf("mount label %q", l.Mount)
	}
	if pl.Level != fl.Level {
		t.Errorf("process level %q and mount level %q differ", pl.Level, fl.Level)
	}
	c, err := ParseCategories(pl.Level)
	if err != nil {
		t.Fatalf("level %q: %v", pl.Level, err)
	}
	if err := a.Reserve(c); !errors.Is(err, ErrInUse) {
		t.Errorf("allocated pair %v is not reserved: %v", c, err)
	}
	release()
	release()
	if a.InUse() != 0 {
		t.Errorf("InUse after release = %d", a.InUse())
	}

	// Two sandboxes never share a pair.
	l1, r1, _ := Spec{}.resolve(true, false, a)
	l2, r2, _ := Spec{}.resolve(true, false, a)
	if l1.Process == l2.Process {
		t.Errorf("two sandboxes got the same label %q", l1.Process)
	}
	r1()
	r2()

	cases := []struct {
		s          Spec
		priv       bool
		proc, file string
	}{
		{Spec{}, true, "system_u:system_r:spc_t:s0", "system_u:object_r:container_file_t:s0"},
		{Spec{Type: "container_init_t"}, true, "system_u:system_r:container_init_t:s0", "system_u:object_r:container_file_t:s0"},
		{Spec{Level: "s0:c5,c6"}, false, "system_u:system_r:container_t:s0:c5,c6", "system_u:object_r:container_file_t:s0:c5,c6"},
		{Spec{Level: "s0:c5,c6", Type: "x_t", User: "u_u", Role: "r_r", FileType: "f_t"}, false, "u_u:r_r:x_t:s0:c5,c6", "system_u:object_r:f_t:s0:c5,c6"},
		{Spec{Disable: true}, false, "", ""},
		{Spec{Disable: true}, true, "", ""},
	}
	for _, c := range cases {
		l, release, err := c.s.resolve(true, c.priv, a)
		if err != nil {
			t.Errorf("%+v.resolve(priv=%v): %v", c.s, c.priv, err)
			continue
		}
		release()
		if l.Process != c.proc || l.Mount != c.file {
			t.Errorf("%+v.resolve(priv=%v) = %+v, want {%s %s}", c.s, c.priv, l, c.proc, c.file)
		}
	}
	if a.InUse() != 0 {
		t.Errorf("explicit levels or privileged sandboxes reserved %d pairs", a.InUse())
	}

	full := NewAllocator(2)
	if _, _, err := (Spec{}).resolve(true, false, full); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (Spec{}).resolve(true, false, full); !errors.Is(err, ErrInUse) {
		t.Errorf("resolve with a full allocator = %v, want ErrInUse", err)
	}
}

func TestMountOption(t *testing.T) {
	if got, want := mountOption("system_u:object_r:container_file_t:s0:c1,c2", true), `context="system_u:object_r:container_file_t:s0:c1,c2"`; got != want {
		t.Errorf("mountOption = %s, want %s", got, want)
	}
	if got := mountOption("", true); got != "" {
		t.Errorf("mountOption of no label = %q", got)
	}
}

func TestInspectThisHost(t *testing.T) {
	requireSELinuxOff(t)
	for _, pid := range []int{0, os.Getpid(), 1} {
		l, err := Inspect(pid)
		if l != "" || err != nil {
			t.Errorf("Inspect(%d) = %q, %v; want \"\", nil without SELinux", pid, l, err)
		}
	}
}

func TestInspectSELinux(t *testing.T) {
	requireSELinux(t)
	l, err := Inspect(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseLabel(l); err != nil {
		t.Errorf("own label %q: %v", l, err)
	}
	if mo := MountOption(l); !strings.HasPrefix(mo, "context=") {
		t.Errorf("MountOption = %q", mo)
	}
}
