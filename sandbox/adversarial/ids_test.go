package adversarial_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestHostileUserIDs: IDs the kernel's set*id calls cannot take as asked ((uid_t)-1
// means "leave unchanged", so the target would stay root) are refused by Build,
// whatever the user namespace.
func TestHostileUserIDs(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name  string
			opts  []sandbox.Option
			field string
			want  []string
		}{
			{"uid -1", []sandbox.Option{sandbox.WithUser(4294967295, 0)}, "user.uid", []string{"4294967295", "0..2147483647"}},
			{"uid and gid -1", []sandbox.Option{sandbox.WithUser(4294967295, 4294967295)}, "user.uid", []string{"4294967295"}},
			{"gid -1", []sandbox.Option{sandbox.WithUser(0, 4294967295)}, "user.gid", []string{"4294967295"}},
			{"uid 2^31", []sandbox.Option{sandbox.WithUser(2147483648, 0)}, "user.uid", []string{"2147483648"}},
			{"gid 2^31", []sandbox.Option{sandbox.WithUser(0, 2147483648)}, "user.gid", []string{"2147483648"}},
			{"group -1", []sandbox.Option{sandbox.WithUser(0, 0, 0, 4294967295)}, "user.groups[1]", []string{"4294967295"}},
			{"too many groups", []sandbox.Option{sandbox.WithUser(0, 0, make([]uint32, sandbox.MaxGroups+1)...)}, "user.groups", []string{"65537", "65536"}},
		} {
			t.Run(c.name, func(t *testing.T) { sandboxtest.BuildFails(t, c.opts, c.field, c.want...) })
		}
	})
}

// TestHostileIDMaps: maps that reach above namespace.MaxID, or wrap around 2^32, are
// refused by Build, naming the entry.
func TestHostileIDMaps(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		for _, c := range []struct {
			name string
			uid  []namespace.IDMap
			want []string
		}{
			{"host range to 2^32-1", []namespace.IDMap{{ContainerID: 0, HostID: 0, Size: 4294967295}}, []string{"uid map entry 0", "0..4294967294"}},
			{"container ID -1", []namespace.IDMap{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 4294967295, HostID: 1, Size: 1}}, []string{"uid map entry 1", "container ID 4294967295"}},
			{"container range wraps", []namespace.IDMap{{ContainerID: 4294967280, HostID: 100000, Size: 32}}, []string{"container ID 4294967280"}},
			{"host ID 2^31", []namespace.IDMap{{ContainerID: 0, HostID: 2147483648, Size: 1}}, []string{"host ID 2147483648"}},
			{"container range past MaxID", []namespace.IDMap{{ContainerID: 2147483000, HostID: 100000, Size: 1000}}, []string{"2147483000..2147483999"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithUserNS(c.uid, nil)}, "namespaces", c.want...)
			})
		}
	})
}

// TestUnmappedUser: a user, group or supplementary group that the sandbox's new
// user namespace does not map fails Build, naming the ID and the map, instead of
// the start failing in the child with EINVAL.
func TestUnmappedUser(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		// Root's own-ID map is "0 0 1", an unprivileged caller's "0 65534 1".
		own := fmt.Sprintf(`map "0 %d 1": the caller's own`, testutil.Nobody)
		if !testutil.Rootless() {
			own = `map "0 0 1": the caller's own`
		}
		userNS := sandbox.WithUserNS(nil, nil)
		sandboxtest.BuildFails(t, []sandbox.Option{userNS, sandbox.WithUser(1000, 0)}, "user.uid", "1000 is not mapped", "uid "+own)
		sandboxtest.BuildFails(t, []sandbox.Option{userNS, sandbox.WithUser(0, 1000)}, "user.gid", "1000 is not mapped", "gid "+own)
		sandboxtest.BuildFails(t, []sandbox.Option{userNS, sandbox.WithUser(0, 0, 0, 5)}, "user.groups[1]", "5 is not mapped")
		// The child becomes 0 first: a map without 0 cannot work.
		if !testutil.Rootless() {
			noRoot := []namespace.IDMap{{ContainerID: 1, HostID: 100000, Size: 10}}
			sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithUserNS(noRoot, nil)}, "namespaces", `uid map "1 100000 10" does not map 0`)
			maps := []namespace.IDMap{{ContainerID: 0, HostID: 100000, Size: 1000}}
			sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithUserNS(maps, maps), sandbox.WithUser(999, 1000)}, "user.gid", `1000 is not mapped`, `gid map "0 100000 1000"`)
		}
	})
}

// TestHostileIDsFromJSON: the same IDs reach Build from a Spec read as JSON; those
// that do not fit uint32 fail already in ParseSpec.
func TestHostileIDsFromJSON(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		base, err := sandbox.NewBuilder().Spec().JSON()
		if err != nil {
			t.Fatal(err)
		}
		edit := func(t *testing.T, field, value string) []byte {
			t.Helper()
			text := strings.Replace(string(base), `"namespaces": {`, `"`+field+`": `+value+`, "namespaces": {`, 1)
			if text == string(base) {
				t.Fatal("the Spec's JSON has no namespaces field")
			}
			return []byte(text)
		}
		for _, c := range []struct {
			name, user, field, want string
		}{
			{"uid -1", `{"uid": 4294967295, "gid": 0}`, "user.uid", "4294967295"},
			{"gid 2^31", `{"uid": 0, "gid": 2147483648}`, "user.gid", "2147483648"},
			{"group -1", `{"uid": 0, "gid": 0, "groups": [4294967295]}`, "user.groups[0]", "4294967295"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s, err := sandbox.ParseSpec(edit(t, "user", c.user))
				if err != nil {
					t.Fatalf("ParseSpec: %v", err)
				}
				if err := s.Validate(); err == nil {
					t.Fatal("Validate accepted the Spec")
				}
				sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithSpec(s)}, c.field, c.want)
			})
		}
		// JSON numbers that are not uint32 never become IDs.
		for _, v := range []string{`{"uid": -1, "gid": 0}`, `{"uid": 4294967296, "gid": 0}`, `{"uid": 1e3, "gid": 0}`, `{"uid": 0, "gid": 0, "groups": [-1]}`} {
			_, err := sandbox.ParseSpec(edit(t, "user", v))
			sandboxtest.SpecErrorFor(t, err, "json")
		}
		// An overflowing ID map in the JSON.
		s, err := sandbox.ParseSpec(base)
		if err != nil {
			t.Fatal(err)
		}
		s.Namespaces.Set(namespace.User, namespace.Config{Mode: namespace.New})
		data, err := s.JSON()
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(data), `"kinds": {`, `"uidMap": [{"containerID": 4294967295, "hostID": 0, "size": 1}], "kinds": {`, 1)
		if s, err = sandbox.ParseSpec([]byte(text)); err != nil {
			t.Fatalf("ParseSpec: %v", err)
		}
		sandboxtest.BuildFails(t, []sandbox.Option{sandbox.WithSpec(s)}, "namespaces", "container ID 4294967295")
	})
}

// envRun passes the path of the built examples/run to the rootless half.
const envRun = "PADDOCK_ADVERSARIAL_RUN"

// cli runs f with the command-line front end built for uid 65534, as root and
// again as uid 65534.
func cli(t *testing.T, f func(t *testing.T, bin string)) {
	testutil.ModesWith(t, envRun, func(t *testing.T) string {
		return testutil.BuildForNobody(t, "github.com/paddock-sandbox/paddock/examples/run", "run")
	}, f)
}

// TestHostileUser: -u refuses every ID outside 0..2147483647, and malformed values,
// as root and rootless: 4294967295 is (uid_t)-1, which setresuid takes as "leave
// unchanged", so the command used to run as root with every capability.
func TestHostileUser(t *testing.T) {
	cli(t, func(t *testing.T, bin string) {
		for _, u := range []string{"4294967295", "4294967295:4294967295", "0:4294967295", "-1", "2147483648",
			"1000:2147483648", "99999999999999999999", "-99999999999999999999"} {
			testutil.CLIRefused(t, bin, []string{"--user", u}, `-u "`+u+`"`, "outside 0..2147483647")
		}
		for _, u := range []string{"", "1:", ":1", ":", "0:-", "+1", "abc", "1 ", "0x10", "1:2:3", "٣"} {
			testutil.CLIRefused(t, bin, []string{"-u", u}, `-u "`+u+`"`, "not a number in 0..2147483647")
		}
	})
}

// TestHostileNumbers: sizes and numbers that overflow, are negative or empty stop run
// with 125 instead of wrapping to another value.
func TestHostileNumbers(t *testing.T) {
	cli(t, func(t *testing.T, bin string) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"--memory", "99999999999g"}, "too large"},
			{[]string{"--memory", "17179869185g"}, "too large"},
			{[]string{"--memory", "9223372036854775808"}, "too large"},
			{[]string{"--memory", "-1"}, "not a size"},
			{[]string{"--memory", ""}, "not a size"},
			{[]string{"--memory", "g"}, "not a size"},
			{[]string{"--pids-limit", "99999999999999999999"}, "out of range"},
			{[]string{"--pids-limit", ""}, "--pids-limit"},
			{[]string{"--cpus", "1e999"}, "out of range"},
			{[]string{"--cpus", ""}, "--cpus"},
			{[]string{"--tmpfs", "/mnt:mode=77777777777"}, "mode"},
			{[]string{"--tmpfs", "/mnt:size=17179869185g"}, "more than 9223372036854775807 bytes"},
			{[]string{"--tmpfs", "/mnt:size=0100m"}, "octal"},
			{[]string{"--security-opt", "seccomp=/dev/zero"}, "not a regular file"},
		} {
			testutil.CLIRefused(t, bin, c.args, c.want)
		}
	})
}
