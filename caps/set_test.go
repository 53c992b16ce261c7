package caps

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	if DockerDefault != 0xa80425fb {
		t.Errorf("DockerDefault = %#x, want 0xa80425fb", uint64(DockerDefault))
	}
	docker, err := ParseSet([]string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID",
		"SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"})
	if err != nil {
		t.Fatal(err)
	}
	if docker != DockerDefault || DockerDefault.Len() != 14 {
		t.Errorf("DockerDefault = %v (%d), want %v", DockerDefault, DockerDefault.Len(), docker)
	}
	if PodmanDefault.Len() != 11 {
		t.Errorf("PodmanDefault has %d capabilities, want 11: %v", PodmanDefault.Len(), PodmanDefault)
	}
	if want := DockerDefault.Drop(NetRaw, Mknod, AuditWrite); PodmanDefault != want {
		t.Errorf("PodmanDefault = %v, want %v", PodmanDefault, want)
	}
}

func TestSetOps(t *testing.T) {
	s := Of(SysAdmin, Chown)
	if !s.Has(SysAdmin) || !s.Has(Chown) || s.Has(NetRaw) || s.Has(-1) || s.Has(64) {
		t.Errorf("Has on %v", s)
	}
	if got := s.Add(NetRaw, 64, -3); got != Of(Chown, NetRaw, SysAdmin) {
		t.Errorf("Add = %v", got)
	}
	if got := s.Drop(SysAdmin, NetRaw); got != Of(Chown) {
		t.Errorf("Drop = %v", got)
	}
	if got := s.List(); !reflect.DeepEqual(got, []Cap{Chown, SysAdmin}) {
		t.Errorf("List = %v", got)
	}
	if got := s.Names(); !reflect.DeepEqual(got, []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}) {
		t.Errorf("Names = %q", got)
	}
	if got := s.String(); got != "CAP_CHOWN,CAP_SYS_ADMIN" {
		t.Errorf("String = %q", got)
	}
	if got := Set(0).String(); got != "" {
		t.Errorf("empty String = %q", got)
	}
	if got := Set(1 << 63).List(); !reflect.DeepEqual(got, []Cap{63}) {
		t.Errorf("List of bit 63 = %v", got)
	}
}

func TestFull(t *testing.T) {
	f := Full()
	if f.Len() != int(Last())+1 || !f.Has(Last()) || f.Has(Last()+1) {
		t.Errorf("Full() = %#x with Last() = %d", uint64(f), Last())
	}
}

func TestParseSet(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Set
	}{
		{nil, 0},
		{[]string{}, 0},
		{[]string{"ALL"}, Full()},
		{[]string{"all"}, Full()},
		{[]string{"NET_RAW", "ALL"}, Full()},
		{[]string{"cap_kill", "KILL", "Cap_Chown"}, Of(Kill, Chown)},
	} {
		got, err := ParseSet(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSet(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	_, err := ParseSet([]string{"KILL", "CAP_BOGUS"})
	if err == nil || !strings.Contains(err.Error(), `"CAP_BOGUS"`) || !errors.Is(err, ErrUnknown) {
		t.Errorf("ParseSet with an unknown name: %v", err)
	}
}
