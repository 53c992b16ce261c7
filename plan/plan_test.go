package plan

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/seccomp"
)

// TestPlanJSON: a Plan reads back from its JSON as it was, capability sets as
// names, the filter's profile and the mount steps included.
func TestPlanJSON(t *testing.T) {
	p := &Plan{
		Kind:   "rootless",
		Caller: Caller{UID: 1000, GID: 1000, PID: 42},
		Spawn:  Spawn{Mode: Fork, ParentDeathSignal: 9, Reason: "the parent writes the ID maps"},
		Namespaces: []Namespace{
			{Kind: namespace.User, Mode: namespace.New, By: ByClone},
			{Kind: namespace.Net, Mode: namespace.Join, Path: "/proc/1/ns/net", By: BySetns, Callers: true},
		},
		IDs:          IDs{UIDMap: []namespace.IDMap{{ContainerID: 0, HostID: 1000, Size: 1}}, Writer: MapsOwnIDs},
		Capabilities: Capabilities{Sets: caps.Sets{Bounding: caps.Of(caps.Chown)}},
		NoNewPrivs:   NoNewPrivs{Inherited: true},
		Seccomp:      Seccomp{Mode: "default", Loaded: true, Profile: &seccomp.Profile{DefaultAction: seccomp.ActErrno}},
		Filesystem: Filesystem{Root: "overlay", Steps: []mounts.Step{{Action: mounts.ActMount, Path: "/proc", FSType: "proc"}},
			Masked: []string{}, ReadOnly: []string{}, OnHost: OnHost{Masked: []string{}, ReadOnly: []string{}}},
		Rlimits: []Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096, Set: true}},
	}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"CAP_CHOWN"`) {
		t.Errorf("the capability sets are not written as names:\n%s", b)
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		t.Errorf("read back:\n%+v\nwant\n%+v", back, *p)
	}
	if !back.New(namespace.User) || back.New(namespace.Net) || back.New(namespace.PID) {
		t.Error("New: want the new user namespace only (the joined net namespace is the caller's)")
	}
	if !back.NoNewPrivs.On() {
		t.Error("an inherited no_new_privs is not on")
	}
}
