package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/owner"
	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// A netVariant is a sandbox that a network test builds: its helper and
// other options.
type netVariant struct {
	name string
	mode network.Mode
	opts []sandbox.Option
}

// netVariants are the sandboxes a network test builds: the caller's default
// with slirp4netns, for root also one with a user namespace (Rootless), and
// for others one with pasta, where each helper is installed (pasta also needs
// a default route on the host, which it copies).
func netVariants(t *testing.T) []netVariant {
	t.Helper()
	var v []netVariant
	if haveHelper(t, "slirp4netns", "slirp4netns") {
		v = append(v, netVariant{"slirp4netns", network.Slirp4netns, nil})
		if !testutil.Rootless() {
			v = append(v, netVariant{"slirp4netns, user namespace", network.Slirp4netns, []sandbox.Option{sandbox.Rootless()}})
		}
	}
	if testutil.Rootless() && haveHelper(t, "pasta", "passt") && hostDefaultRoute(t) {
		v = append(v, netVariant{"pasta", network.Pasta, nil})
	}
	if len(v) == 0 {
		t.Skip("no network helper can run here (see the log)")
	}
	return v
}

// haveHelper reports whether the program name is installed, and logs it
// where it is not.
func haveHelper(t *testing.T, name, pkg string) bool {
	if _, err := exec.LookPath(name); err != nil {
		t.Logf("%s is not installed (Debian package %s): its variants are skipped", name, pkg)
		return false
	}
	return true
}

// hostDefaultRoute reports whether the host has a default route, and logs
// it where it has none.
func hostDefaultRoute(t *testing.T) bool {
	b, _ := os.ReadFile("/proc/net/route")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "00000000" {
			return true
		}
	}
	t.Log("the host has no default route, which pasta copies: its variants are skipped")
	return false
}

// shareTun, as uid 65534 in the test's private mount namespace, gives the
// helpers a /dev/net/tun they may open (this host's is root's alone).
func shareTun(t *testing.T, m *testutil.Mounter) {
	t.Helper()
	if testutil.Rootless() {
		m.ShareTun(t)
	}
}

// freePort returns a TCP port of the host's loopback that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNetworkPublishedPort checks that a server in the sandbox is reached
// from the host's loopback through a published port, and that the helper
// and its API socket are gone once the sandbox is waited for.
func TestNetworkPublishedPort(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		shareTun(t, m)
		root := testutil.BusyboxRoot(t)
		for _, v := range netVariants(t) {
			t.Run(v.name, func(t *testing.T) {
				hostPort := freePort(t)
				tpl, err := sandbox.NewBuilder(append(v.opts, sandbox.WithRootfs(root), sandbox.WithNetwork(sandbox.NetUserMode{
					Helper: v.mode, Ports: []network.Port{{HostPort: hostPort, Port: 8080}},
				}))...).Build()
				if err != nil {
					t.Fatal(err)
				}
				defer tpl.Close()
				servePublished(t, tpl, hostPort, "hello from the sandbox")
				noNetLeftovers(t)
			})
		}
	})
}

// servePublished has a sandbox of tpl serve msg on its port 8080 and reads it
// on the host's loopback through hostPort.
func servePublished(t *testing.T, tpl *sandbox.Template, hostPort int, msg string) {
	t.Helper()
	var out bytes.Buffer
	p, err := tpl.Start(context.Background(), sandbox.Command{
		Args: []string{"/bin/sh", "-c", "echo " + msg + " | nc -l -p 8080"}, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	got, derr := dialUntil(net.JoinHostPort("127.0.0.1", strconv.Itoa(hostPort)), msg+"\n")
	p.Kill()
	p.Wait()
	if derr != nil || got != msg+"\n" {
		t.Fatalf("through the published port: %v (read %q; sandbox said %q)", derr, got, out.String())
	}
}

// dialUntil connects to addr until it reads want, for up to 10 s: slirp4netns
// accepts on the host before the sandbox's server listens, and then closes.
func dialUntil(addr, want string) (string, error) {
	var got []byte
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var c net.Conn
		if c, err = net.DialTimeout("tcp", addr, time.Second); err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		got, err = io.ReadAll(c)
		c.Close()
		if string(got) == want {
			return string(got), nil
		}
	}
	return string(got), err
}

// noNetLeftovers fails t if a network helper's API directory is left.
func noNetLeftovers(t *testing.T) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(os.TempDir(), "paddock-net-*"))
	if len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	testutil.NoChildren(t)
}

// reachGateway is a script that connects to port on the sandbox's gateway,
// after printing the resolv.conf. nc's input stays open (a FIFO the
// shell holds) and the server closes first: the old pasta of Debian 12
// loses the server's reply and close once the client has shut its side
// down, which nc does at the end of its input.
func reachGateway(port string) string {
	return "cat /etc/resolv.conf; mkfifo /tmp/in; exec 3<>/tmp/in; " +
		"nc -w 3 $(ip route | awk '/^default/ {print $3}') " + port + " </tmp/in"
}

// runWithin runs args in a sandbox of tpl, killed after limit if it has not
// ended, and returns its output and how it ended.
func runWithin(t *testing.T, tpl *sandbox.Template, limit time.Duration, args ...string) (string, *sandbox.ExitStatus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var out bytes.Buffer
	st, err := tpl.Run(ctx, sandbox.Command{Args: args, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("Run %q: %v\n%s", args, err, out.String())
	}
	return out.String(), st
}

// TestNetworkReachesHost checks that the sandbox reaches a server on the
// host's loopback through the gateway where HostLoopback allows it, and not
// otherwise, and that its resolv.conf names the DNS forwarder.
func TestNetworkReachesHost(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		shareTun(t, m)
		root := testutil.BusyboxRoot(t)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("hello from the host\n"))
				c.Close()
			}
		}()
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		for _, v := range netVariants(t) {
			t.Run(v.name, func(t *testing.T) {
				dns := network.SlirpDNS
				loopbacks := []bool{true, false}
				if v.mode == network.Pasta {
					// Without the mapping, pasta's gateway is the host's: a
					// connection to it would leave the machine.
					dns, loopbacks = network.PastaDNS, []bool{true}
				}
				for _, loopback := range loopbacks {
					tpl, err := sandbox.NewBuilder(append(v.opts, sandbox.WithRootfs(root),
						sandbox.WithNetwork(sandbox.NetUserMode{Helper: v.mode, HostLoopback: loopback}))...).Build()
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { tpl.Close() })
					out, st := runWithin(t, tpl, 30*time.Second, "/bin/sh", "-c", reachGateway(port))

					reached := strings.Contains(out, "hello from the host\n")
					if !strings.HasPrefix(out, "nameserver "+dns+"\n") {
						t.Errorf("resolv.conf: %q", out)
					}
					if reached != loopback || st.Success() != loopback {
						t.Errorf("host loopback %v: reached %v (%v): %q", loopback, reached, st, out)
					}
					noNetLeftovers(t)
				}
			})
		}
	})
}

// TestNetworkRefused checks that bad network values, and what a network
// cannot have, fail Build with a typed error before anything is cloned.
func TestNetworkRefused(t *testing.T) {
	port := func(p network.Port) sandbox.Option {
		return sandbox.WithNetwork(sandbox.NetUserMode{Ports: []network.Port{p}})
	}
	cases := []struct {
		name string
		opts []sandbox.Option
	}{
		{"host port 0", []sandbox.Option{port(network.Port{HostPort: 0, Port: 80})}},
		{"port 65536", []sandbox.Option{port(network.Port{HostPort: 8080, Port: 65536})}},
		{"protocol", []sandbox.Option{port(network.Port{HostPort: 8080, Port: 80, Protocol: "sctp"})}},
		{"host address", []sandbox.Option{port(network.Port{HostIP: "localhost", HostPort: 8080, Port: 80})}},
		{"IPv6 host address", []sandbox.Option{port(network.Port{HostIP: "::1", HostPort: 8080, Port: 80})}},
		{"twice", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{Ports: []network.Port{{HostPort: 8080, Port: 80}, {HostIP: "127.0.0.1", HostPort: 8080, Port: 81}}})}},
		{"mode", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{Helper: "vde"})}},
		{"host network", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{}), sandbox.WithHostNamespaces(namespace.Net)}},
		{"vfork", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{}), sandbox.WithSpawnMode(sandbox.SpawnVfork)}},
		{"bridge name", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Bridge: "br;flush ruleset"})}},
		{"bridge name length", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Bridge: "abcdefghijklmnop"})}},
		{"subnet host bits", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Subnet: "10.89.0.1/24"})}},
		{"subnet IPv6", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Subnet: "fd00::/64"})}},
		{"subnet too small", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Subnet: "10.89.0.0/30"})}},
		{"bridge port", []sandbox.Option{sandbox.WithNetwork(sandbox.NetBridge{Ports: []network.Port{{HostPort: 70000, Port: 80}}})}},
	}
	if os.Geteuid() == 0 {
		// A caller other than root is refused a shared namespace with
		// ErrNotSupported before the network is looked at.
		cases = append(cases, struct {
			name string
			opts []sandbox.Option
		}{"shared", []sandbox.Option{sandbox.WithNetwork(sandbox.NetUserMode{}), sandbox.WithSharedNetNS()}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, err := sandbox.NewBuilder(c.opts...).Build()
			if err == nil {
				tpl.Close()
				t.Fatal("built")
			}
			if !errors.Is(err, sandbox.ErrInvalidSpec) {
				t.Fatalf("want ErrInvalidSpec, got %v", err)
			}
			t.Log(err)
		})
	}
	// A detached sandbox, like any other part of a Spec that the parent
	// would have to keep serving, is ErrNotSupported.
	if _, err := sandbox.NewBuilder(sandbox.WithNetwork(sandbox.NetUserMode{}), sandbox.WithDetached()).Build(); !errors.Is(err, sandbox.ErrNotSupported) {
		t.Errorf("detached: want ErrNotSupported, got %v", err)
	}
	if os.Geteuid() == 0 {
		_, err := sandbox.NewBuilder(sandbox.WithNetwork(sandbox.NetUserMode{Helper: network.Pasta})).Build()
		if !errors.Is(err, sandbox.ErrNotSupported) {
			t.Errorf("pasta as root: want ErrNotSupported, got %v", err)
		}
	}
	testutil.Require(t, "slirp4netns", "slirp4netns")
	tpl, err := sandbox.NewBuilder(sandbox.WithNetwork(sandbox.NetUserMode{})).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	if err := tpl.Pool(context.Background(), 1); !errors.Is(err, sandbox.ErrInvalidSpec) {
		t.Fatalf("Pool: want ErrInvalidSpec, got %v", err)
	}
}

// envKilledNetCaller makes the test binary act as a caller with a network
// that is killed: it starts a sandbox with one, prints its owner ID and the
// sandbox's pid, and waits.
const envKilledNetCaller = "PADDOCK_TEST_KILLED_NET_CALLER"

// envKilledNetMode names the helper of the killed caller's network.
const envKilledNetMode = "PADDOCK_TEST_KILLED_NET_MODE"

func init() {
	if os.Getenv(envKilledNetCaller) != "1" {
		return
	}
	tpl, err := sandbox.NewBuilder(sandbox.WithNetwork(sandbox.NetUserMode{Helper: network.Mode(os.Getenv(envKilledNetMode))})).Build()
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	p, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	id, _ := owner.Held()
	os.Stdout.WriteString(id + " " + strconv.Itoa(p.Pid()) + "\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// helpersOf returns the pids of the helper processes (mode) that serve the
// network namespace of pid.
func helpersOf(mode network.Mode, pid int) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if filepath.Base(args[0]) == string(mode) && slices.Contains(args, strconv.Itoa(pid)) {
			found = append(found, e.Name())
		}
	}
	return found
}

// TestNetworkKilledCaller kills a caller (SIGKILL) while its sandbox with a
// network runs, and checks that the network helper exits by itself and that
// the next process's Reclaim removes the directory of its resolv.conf with
// the rest of what the caller left.
func TestNetworkKilledCaller(t *testing.T) {
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		shareTun(t, m)
		for _, v := range netVariants(t) {
			if v.opts == nil {
				t.Run(v.name, func(t *testing.T) { killNetCaller(t, v.mode) })
			}
		}
	})
}

// killNetCaller runs a caller with a network of mode, kills it and checks
// what it leaves.
func killNetCaller(t *testing.T, mode network.Mode) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envKilledNetCaller+"=1", envKilledNetMode+"="+string(mode))
	line := strings.Fields(testutil.StartLine(t, cmd))
	if len(line) != 2 || !owner.ValidID(line[0]) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the caller said %q", line)
	}
	id := line[0]
	pid, _ := strconv.Atoi(line[1])
	if h := helpersOf(mode, pid); len(h) != 1 {
		t.Errorf("the live sandbox %d has helpers %v; want one", pid, h)
	}
	alive := leftBy(t, id)
	if len(alive) < 3 {
		t.Errorf("the live caller has %v; want its staging and network directories and its lock file at least", alive)
	}
	cmd.Process.Kill()
	cmd.Wait()
	reclaimUntil(t, func() []string { return append(leftBy(t, id), helpersOf(mode, pid)...) })
}
