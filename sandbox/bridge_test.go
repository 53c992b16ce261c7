package sandbox_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/network"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// testBridge returns a bridge name and a subnet of the test's own, so that
// runs beside it (and the host's own networks) are not disturbed.
func testBridge(t *testing.T) sandbox.NetBridge {
	t.Helper()
	var b [2]byte
	rand.Read(b[:])
	return sandbox.NetBridge{Bridge: "pdkt" + hex.EncodeToString(b[:]), Subnet: fmt.Sprintf("10.201.%d.0/24", b[0])}
}

// requireBridge skips t where nft is missing.
func requireBridge(t *testing.T) {
	t.Helper()
	testutil.Require(t, "nft", "nftables")
}

// bridgeLeft lists what is left of the bridge network br on the host.
func bridgeLeft(br sandbox.NetBridge) []string {
	var left []string
	if _, err := net.InterfaceByName(br.Bridge); err == nil {
		left = append(left, "bridge "+br.Bridge)
	}
	if exec.Command("nft", "list", "table", "ip", "paddock_"+br.Bridge).Run() == nil {
		left = append(left, "nft table paddock_"+br.Bridge)
	}
	if _, err := os.Stat(filepath.Join(network.StateDir, br.Bridge)); err == nil {
		left = append(left, "state "+filepath.Join(network.StateDir, br.Bridge))
	}
	return left
}

// TestNetworkBridge checks, as root, a bridge network: a server in the
// sandbox reached through a published port on the host's loopback, the
// sandbox reaching a server of the host's on the bridge's address, and
// nothing left of the bridge, its rules and its state once the sandboxes
// are gone; with and without a user namespace. A caller other than root is
// refused.
func TestNetworkBridge(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		requireBridge(t)
		br := testBridge(t)
		if testutil.Rootless() {
			_, err := sandbox.NewBuilder(sandbox.WithNetwork(br)).Build()
			if !errors.Is(err, sandbox.ErrNotSupported) {
				t.Fatalf("want ErrNotSupported, got %v", err)
			}
			return
		}
		root := testutil.BusyboxRoot(t)
		for _, v := range []struct {
			name string
			opts []sandbox.Option
		}{{"rootful", nil}, {"user namespace", []sandbox.Option{sandbox.Rootless()}}} {
			t.Run(v.name, func(t *testing.T) {
				bridgePublish(t, br, append(v.opts, sandbox.WithRootfs(root)))
				bridgeReachesHost(t, br, append(v.opts, sandbox.WithRootfs(root)))
				if left := bridgeLeft(br); len(left) > 0 {
					t.Errorf("left behind: %v", left)
				}
			})
		}
	})
}

// bridgePublish serves a greeting in a sandbox on br and reads it through a
// published port.
func bridgePublish(t *testing.T, br sandbox.NetBridge, opts []sandbox.Option) {
	t.Helper()
	hostPort := freePort(t)
	br.Ports = []network.Port{{HostPort: hostPort, Port: 8080}}
	tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithNetwork(br))...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	servePublished(t, tpl, hostPort, "hello from the bridge")
}

// bridgeReachesHost has a sandbox on br connect to a server that the test
// runs on the bridge's address, which exists while a first sandbox holds
// the bridge.
func bridgeReachesHost(t *testing.T, br sandbox.NetBridge, opts []sandbox.Option) {
	t.Helper()
	tpl, err := sandbox.NewBuilder(append(opts, sandbox.WithNetwork(br))...).Build()
	if err != nil {
		t.Fatal(err)
	}
	defer tpl.Close()
	holder, err := tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "30"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		holder.Kill()
		holder.Wait()
	}()
	gw := (&network.Spec{Mode: network.Bridge, Subnet: br.Subnet}).Gateway()
	l, err := net.Listen("tcp", net.JoinHostPort(gw.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("hello from the host\n"))
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	out, st := runWithin(t, tpl, 30*time.Second, "/bin/sh", "-c", "ip -4 -o addr show eth0; grep -c '^nameserver 127' /etc/resolv.conf; nc -w 3 "+gw.String()+" "+port+" </dev/null")
	if !st.Success() || !strings.Contains(out, "hello from the host\n") || !strings.Contains(out, "\n0\n") {
		t.Fatalf("%v: %q", st, out)
	}
}

// envKilledBridgeCaller makes the test binary a caller with a sandbox on a
// bridge network (its name, subnet and published port in the value) that is
// killed.
const envKilledBridgeCaller = "PADDOCK_TEST_KILLED_BRIDGE_CALLER"

func init() {
	v := os.Getenv(envKilledBridgeCaller)
	if v == "" {
		return
	}
	f := strings.Fields(v)
	port, _ := strconv.Atoi(f[2])
	br := sandbox.NetBridge{Bridge: f[0], Subnet: f[1], Ports: []network.Port{{HostPort: port, Port: 80}}}
	tpl, err := sandbox.NewBuilder(sandbox.WithNetwork(br)).Build()
	if err == nil {
		_, err = tpl.Start(context.Background(), sandbox.Command{Args: []string{"/bin/sleep", "60"}})
	}
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("started\n")
	time.Sleep(time.Minute)
	os.Exit(0)
}

// TestNetworkBridgeKilledCaller kills a root caller (SIGKILL) while its
// sandbox on a bridge network runs, and checks that the next Reclaim deletes
// its port rule, its lease, and the bridge that nothing else uses.
func TestNetworkBridgeKilledCaller(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a bridge network needs root")
	}
	requireBridge(t)
	br := testBridge(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), envKilledBridgeCaller+"="+br.Bridge+" "+br.Subnet+" "+strconv.Itoa(freePort(t)))
	if line := strings.TrimSpace(testutil.StartLine(t, cmd)); line != "started" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the caller said %q", line)
	}
	if left := bridgeLeft(br); len(left) != 3 {
		t.Errorf("the live caller's bridge network: %v; want the bridge, its table and its state", left)
	}
	cmd.Process.Kill()
	cmd.Wait()
	reclaimUntil(t, func() []string { return bridgeLeft(br) })
}
