package main

import (
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestPublishedPort runs a server in the sandbox with --net slirp4netns (and
// bridge as root, pasta as another user) and -p, and reaches it from the host's loopback, as
// root and as uid 65534 (in a private mount namespace where it may open
// /dev/net/tun).
func TestPublishedPort(t *testing.T) {
	testutil.Require(t, "slirp4netns", "slirp4netns")
	if os.Getenv(envRunBinary) == "" {
		t.Setenv(envRunBinary, runBinary(t))
	}
	testutil.MountModes(t, func(t *testing.T, m *testutil.Mounter) {
		if testutil.Rootless() {
			m.ShareTun(t)
		}
		publishThrough(t, "slirp4netns")
		if _, err := exec.LookPath("nft"); err == nil && !testutil.Rootless() {
			publishThrough(t, "bridge")
		}
		route, _ := os.ReadFile("/proc/net/route")
		hasDefault := strings.Contains(string(route), "\t00000000\t")
		if _, err := exec.LookPath("pasta"); err != nil || !testutil.Rootless() || !hasDefault {
			t.Logf("pasta: not tried (installed: %v; a default route on the host, which it copies: %v; it runs only for a caller other than root)", err == nil, hasDefault)
			return
		}
		publishThrough(t, "pasta")
	})
}

// publishThrough runs a server in a sandbox with --net mode and -p and reads
// its greeting through the published port.
func publishThrough(t *testing.T, mode string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(runBinary(t), "--net", mode, "-p", port+":8080/tcp", "--",
		"/bin/sh", "-c", "echo hello | busybox nc -l -p 8080")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The server exits after one client, and run with it: give it the time
	// to clean up, rather than kill it midway.
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("--net %s: run did not exit after its server", mode)
		}
	}()
	var got []byte
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && string(got) != "hello\n"; time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			continue
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		got, _ = io.ReadAll(c)
		c.Close()
	}
	if string(got) != "hello\n" {
		t.Fatalf("--net %s, through -p %s:8080: read %q", mode, port, got)
	}
}

// TestNetworkFlagsRefused checks that bad -p values and -p without a network
// are refused before anything runs.
func TestNetworkFlagsRefused(t *testing.T) {
	bin := runBinary(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "8080:80"}, "--net slirp4netns"},
		{[]string{"--net", "slirp4netns", "-p", "8080"}, "HOSTPORT:PORT"},
		{[]string{"--net", "slirp4netns", "-p", "0:80"}, "outside 1..65535"},
		{[]string{"--net", "slirp4netns", "-p", "8080:80/sctp"}, "sctp"},
		{[]string{"--net", "slirp4netns", "-p", "example.com:8080:80"}, "not an IPv4 address"},
		{[]string{"--net", "bridge", "-p", "8080:80/sctp"}, "sctp"},
	} {
		testutil.CLIRefused(t, bin, c.args, c.want)
	}
}
