package network

import (
	"errors"
	"testing"
)

func TestParsePort(t *testing.T) {
	good := map[string]Port{
		"8080:80":             {HostPort: 8080, Port: 80},
		"8080:80/udp":         {HostPort: 8080, Port: 80, Protocol: "udp"},
		"0.0.0.0:1:65535/tcp": {HostIP: "0.0.0.0", HostPort: 1, Port: 65535, Protocol: "tcp"},
	}
	for v, want := range good {
		got, err := ParsePort(v)
		if err != nil || got != want {
			t.Errorf("ParsePort(%q) = %+v, %v; want %+v", v, got, err, want)
		}
	}
	for _, v := range []string{"", "80", "a:80", "80:b", "0:80", "80:0", "65536:80", "80:80/sctp", "::1:80:80", "host:80:80", "1:2:3:4"} {
		if _, err := ParsePort(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePort(%q): want ErrInvalid, got %v", v, err)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Spec{
		{Ports: []Port{{HostPort: 1, Port: 1}}},
		{HostLoopback: true},
		{Mode: "vde"},
		{Mode: Slirp4netns, Ports: []Port{{HostPort: 1, Port: 1}, {HostPort: 1, Port: 2}}},
	}
	for _, s := range bad {
		if err := s.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: want ErrInvalid, got %v", s, err)
		}
	}
	ok := Spec{Mode: Slirp4netns, Ports: []Port{{HostPort: 1, Port: 1}, {HostPort: 1, Port: 1, Protocol: "udp"}, {HostIP: "0.0.0.0", HostPort: 1, Port: 1}}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}
