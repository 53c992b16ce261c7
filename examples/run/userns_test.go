package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/mounts"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/overlay"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// requireRootCLI skips t unless it runs as root: --userns auto draws a block of
// namespace.AutoUser's subordinate IDs (testutil.Main grants it a range for the
// run) only for a root caller.
func requireRootCLI(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("--userns auto allocates a block of IDs for a root caller; TestUsernsKeepID has the rootless half")
	}
}

// blockOf parses the first line of a uid_map, "0 START SIZE", into START.
func blockOf(t *testing.T, line string) uint32 {
	t.Helper()
	m, err := namespace.ParseIDMap([]byte(line))
	if err != nil || len(m) != 1 || m[0].ContainerID != 0 || m[0].HostID == 0 {
		t.Fatalf("uid map %q (%v): want one block from 0 to an ID other than host root", line, err)
	}
	return m[0].HostID
}

// TestUsernsAuto: as root, --userns auto makes root inside an unprivileged block
// outside, which cannot read host root's 0600 file through a plain bind and can
// through an idmapped one; a busybox root owned by host root is the sandbox root's.
func TestUsernsAuto(t *testing.T) {
	requireRootCLI(t)
	bin := runBinary(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := testutil.RunCLI(t, bin, "--userns", "auto", "-v", dir+":/x:ro", "--",
		"sh", "-c", "cat /proc/self/uid_map; id -u; head -c1 /x/secret")
	lines := strings.Split(out, "\n")
	if code == 0 || len(lines) < 3 || lines[1] != "0" || !strings.Contains(lines[2], "Permission denied") {
		t.Fatalf("exit %d, output %q; want uid 0 and the secret refused", code, out)
	}
	blockOf(t, lines[0])

	t.Run("idmapped bind", func(t *testing.T) {
		if err := mounts.IDMapSupported(dir, true); errors.Is(err, mounts.ErrNotSupported) {
			t.Skipf("idmapped binds: %v", err)
		}
		out, code := testutil.RunCLI(t, bin, "--userns", "auto", "-v", dir+":/x:ro,idmap", "--", "sh", "-c", "stat -c %u /x/secret; cat /x/secret")
		if code != 0 || out != "0\ns3cret" {
			t.Errorf("exit %d, output %q; want the secret, owned by root", code, out)
		}
	})
	t.Run("busybox root", func(t *testing.T) {
		bb := testutil.BusyboxRoot(t)
		if err := overlay.IDMappedLayers(bb); errors.Is(err, overlay.ErrNotSupported) {
			t.Skipf("idmapped lower layers: %v", err)
		}
		out, code := testutil.RunCLI(t, bin, "--userns", "auto", "--rootfs", bb, "--", "/bin/sh", "-c", "id -u; stat -c %u /bin/busybox; cat /proc/self/uid_map")
		if f := strings.SplitN(out, "\n", 3); code != 0 || len(f) != 3 || f[0] != "0" || f[1] != "0" {
			t.Errorf("exit %d, output %q; want root, owning its files", code, out)
		}
	})
}

// TestUsernsAutoDisjoint: sandboxes running at once get blocks that do not
// overlap, and a killed caller holds none: its block can be taken again.
func TestUsernsAutoDisjoint(t *testing.T) {
	requireRootCLI(t)
	bin := runBinary(t)
	var cmds []*exec.Cmd
	var blocks []uint32
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		cmd := exec.Command(bin, "--userns", "auto", "--", "sh", "-c", "head -1 /proc/self/uid_map; exec sleep 30")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		wg.Add(1)
		go func() {
			defer wg.Done()
			line, _ := bufio.NewReader(out).ReadString('\n')
			mu.Lock()
			defer mu.Unlock()
			blocks = append(blocks, blockOf(t, line))
		}()
	}
	wg.Wait()
	defer sandbox.Reclaim() // the killed callers' cgroups and staging directories
	for _, cmd := range cmds {
		cmd.Process.Kill() // the callers die; their sandboxes with them
		cmd.Wait()
	}
	if len(blocks) != 2 || blocks[0] == blocks[1] {
		t.Fatalf("blocks %v: want two that differ", blocks)
	}
	lo, hi := min(blocks[0], blocks[1]), max(blocks[0], blocks[1])
	if hi-lo < namespace.AutoSize {
		t.Errorf("blocks %d and %d of %d IDs overlap", lo, hi, namespace.AutoSize)
	}
	for _, b := range blocks {
		r := []namespace.SubIDRange{{Start: b, Count: namespace.AutoSize}}
		a, err := namespace.Allocate(namespace.AutoRange{UID: r, GID: r})
		if err != nil {
			t.Errorf("block %d after its caller was killed: %v, want it free", b, err)
			continue
		}
		a.Release()
	}
}

// TestUsernsKeepID: --userns keep-id keeps an unprivileged caller's own uid
// inside, with its subordinate range around it (granted here for the test's run),
// and is refused for root, whose own ID is host root.
func TestUsernsKeepID(t *testing.T) {
	testutil.ModesWith(t, envRunBinary, func(t *testing.T) string {
		testutil.Require(t, "newuidmap", "uidmap")
		testutil.GrantSubIDs(t, fmt.Sprintf("%d:400000:65536", testutil.Nobody))
		return runBinary(t)
	}, func(t *testing.T, bin string) {
		if !testutil.Rootless() {
			testutil.CLIRefused(t, bin, []string{"--userns", "keep-id"}, "keep-id", "root caller wants an automatic range")
			return
		}
		out, code := testutil.RunCLI(t, bin, "--userns", "keep-id", "--", "sh", "-c", "id -u; cat /proc/self/uid_map")
		want := fmt.Sprintf("%d\n", testutil.Nobody)
		if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "400000") {
			t.Errorf("exit %d, output %q; want uid %d inside and the granted range mapped", code, out, testutil.Nobody)
		}
	})
}

// TestUsernsFlags: what --userns and -v refuse before anything starts.
func TestUsernsFlags(t *testing.T) {
	for _, c := range []struct {
		flag, value, want string
	}{
		{"--userns", "auto:size=0", "want 1.."},
		{"--userns", "auto:size=4294967295", "want 1.."},
		{"--userns", "auto:color=blue", "unknown option"},
		{"--userns", "keep-id:uid=5", "no options"},
		{"--userns", "nested", "want host, auto"},
		{"-v", "/tmp:/x:idmapped", "unknown option"},
		{"-v", ":/x", "want SRC:DST"},
	} {
		if _, err := builder(&options{userns: map[bool]string{true: c.value}[c.flag == "--userns"],
			volumes: map[bool][]string{true: {c.value}}[c.flag == "-v"]}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want an error saying %q", c.flag, c.value, err, c.want)
		}
	}
}
