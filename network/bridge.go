package network

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// A bridge network's state on the host lives in StateDir/<bridge>: a lock
// file that serialises the set-up and tear-down of the bridge and its
// nftables table, and a lease per sandbox, named after its address, that
// its parent holds locked (flock) while the sandbox lives and that lists
// the handles of the sandbox's port rules. A lease that can be locked is a
// dead parent's: the next start on the bridge, or Reclaim, deletes its
// rules and removes it; the veth pair went with the sandbox's network
// namespace. The last sandbox to go takes the bridge and its table with it.

// StateDir holds the state of the bridge networks.
const StateDir = "/run/paddock/net"

// lockName is the name of a bridge's lock file in its state directory.
const lockName = "lock"

// A bridgeLink is the part of one sandbox on a bridge network.
type bridgeLink struct {
	spec  *Spec
	nft   string
	dir   string
	lease *os.File // locked while the sandbox lives
	addr  netip.Addr
	veth  string // the host's end of the pair
}

// table returns the name of the bridge's nftables table.
func (s *Spec) table() string { return "paddock_" + s.bridge() }

// startBridge connects the network namespace of pid to the bridge, creating
// it and its table where this is the first sandbox, and forwards the ports.
func (s *Spec) startBridge(nft string, pid int) (*Helper, error) {
	dir := filepath.Join(StateDir, s.bridge())
	lock, err := lockBridge(dir)
	if err != nil {
		return nil, fmt.Errorf("network: lock the bridge's state: %w", err)
	}
	defer lock.Close()
	reclaimLeases(s.table(), nft, dir)
	b := &bridgeLink{spec: s, nft: nft, dir: dir}
	if err := b.setUp(pid); err != nil {
		b.release()
		return nil, fmt.Errorf("network: bridge %s: %w", s.bridge(), err)
	}
	return &Helper{bridge: b}, nil
}

// setUp makes the bridge, takes an address and connects pid's namespace.
func (b *bridgeLink) setUp(pid int) error {
	if err := b.spec.ensureBridge(b.nft); err != nil {
		return err
	}
	if err := b.takeLease(); err != nil {
		return err
	}
	if err := b.connect(pid); err != nil {
		return err
	}
	return b.forward()
}

// lockBridge takes the lock of the bridge whose state is in dir, which it
// creates. A tear-down may remove the lock file while this waits for it: it
// then locks the new one.
func lockBridge(dir string) (*os.File, error) {
	for {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Lstat(f.Name(), &now) == nil && held.Ino == now.Ino && held.Dev == now.Dev {
			return f, nil
		}
		f.Close()
	}
}

// ensureBridge makes the bridge with the gateway's address, where it is
// missing, and its table; an interface of that name that is no bridge, or
// a bridge without that address, is refused.
func (s *Spec) ensureBridge(nft string) error {
	p, _ := s.subnet()
	gw := &net.IPNet{IP: s.Gateway().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
	l, err := netlink.LinkByName(s.bridge())
	if err == nil {
		return s.checkBridge(l, gw, nft)
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: s.bridge()}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("create the bridge: %w", err)
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: gw}); err != nil {
		return fmt.Errorf("give the bridge %s: %w", gw, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("bring the bridge up: %w", err)
	}
	// Ports published on 127.0.0.1 are forwarded to the bridge: packets
	// from the loopback's addresses may then be routed there (this
	// interface's setting alone, gone with it).
	conf := "/proc/sys/net/ipv4/conf/" + s.bridge() + "/route_localnet"
	if err := os.WriteFile(conf, []byte("1"), 0); err != nil {
		return err
	}
	return s.ensureTable(nft)
}

// checkBridge checks that the existing link l is the bridge with the
// gateway's address gw, and makes its table if it has none.
func (s *Spec) checkBridge(l netlink.Link, gw *net.IPNet, nft string) error {
	if l.Type() != "bridge" {
		return fmt.Errorf("%s exists and is a %s, not a bridge", s.bridge(), l.Type())
	}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.IPNet.String() == gw.String() {
			return s.ensureTable(nft)
		}
	}
	return fmt.Errorf("the bridge exists without the address %s (another subnet's?)", gw)
}

// ensureTable makes the bridge's nftables table where it is missing: NAT
// chains for published ports, and masquerading of what leaves the subnet
// and of what reaches it from the host's loopback.
func (s *Spec) ensureTable(nft string) error {
	if exec.Command(nft, "list", "table", "ip", s.table()).Run() == nil {
		return nil
	}
	p, _ := s.subnet()
	script := fmt.Sprintf(`table ip %s {
	chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
	chain output { type nat hook output priority -100; policy accept; }
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr %s ip daddr != %s masquerade
		ip saddr 127.0.0.0/8 ip daddr %s masquerade
	}
}
`, s.table(), p, p, p)
	return runNft(nft, strings.NewReader(script), "-f", "-")
}

// takeLease takes the first address of the subnet that no lease holds,
// after the gateway and before the broadcast address.
func (b *bridgeLink) takeLease() error {
	p, _ := b.spec.subnet()
	for a := b.spec.Gateway().Next(); p.Contains(a.Next()); a = a.Next() {
		f, err := os.OpenFile(filepath.Join(b.dir, a.String()), os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		b.lease, b.addr = f, a
		return nil
	}
	return fmt.Errorf("no free address left in %s", p)
}

// connect makes a veth pair whose one end is on the bridge and the other
// eth0 in pid's namespace, with the lease's address and a default route
// through the gateway.
func (b *bridgeLink) connect(pid int) error {
	br, err := netlink.LinkByName(b.spec.bridge())
	if err != nil {
		return err
	}
	var r [4]byte
	rand.Read(r[:])
	b.veth = "pdk" + hex.EncodeToString(r[:])
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: b.veth, MasterIndex: br.Attrs().Index}, PeerName: "eth0", PeerNamespace: netlink.NsPid(pid)}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("create the veth pair: %w", err)
	}
	if err := netlink.LinkSetUp(v); err != nil {
		return err
	}
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	return b.configure(h)
}

// configure gives eth0 its address and route, through h in the sandbox's
// namespace.
func (b *bridgeLink) configure(h *netlink.Handle) error {
	p, _ := b.spec.subnet()
	eth0, err := h.LinkByName("eth0")
	if err != nil {
		return err
	}
	if err := h.AddrAdd(eth0, &netlink.Addr{IPNet: &net.IPNet{IP: b.addr.AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}}); err != nil {
		return fmt.Errorf("give eth0 %s: %w", b.addr, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return err
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: b.spec.Gateway().AsSlice()}); err != nil {
		return fmt.Errorf("route through %s: %w", b.spec.Gateway(), err)
	}
	return nil
}

// forward adds the DNAT rules of the published ports, and writes their
// handles in the lease.
func (b *bridgeLink) forward() error {
	for _, p := range b.spec.Ports {
		match := "ip daddr " + p.hostIP()
		if p.hostIP() == "0.0.0.0" {
			match = "fib daddr type local"
		}
		rule := fmt.Sprintf("%s %s dport %d dnat to %s:%d", match, p.protocol(), p.HostPort, b.addr, p.Port)
		chains := []string{"output"}
		if p.hostIP() != "127.0.0.1" {
			chains = append(chains, "prerouting")
		}
		for _, c := range chains {
			h, err := addRule(b.nft, b.spec.table(), c, rule)
			if err != nil {
				return fmt.Errorf("publish %s: %w", p, err)
			}
			if _, err := fmt.Fprintf(b.lease, "%s %d\n", c, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// addRule adds rule to chain and returns its handle.
func addRule(nft, table, chain, rule string) (int, error) {
	out, err := exec.Command(nft, "--echo", "--handle", "add", "rule", "ip", table, chain, rule).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("nft add rule %s: %w (%s)", rule, err, bytes.TrimSpace(out))
	}
	_, h, ok := strings.Cut(string(out), "# handle ")
	n, err := strconv.Atoi(strings.Fields(h + " x")[0])
	if !ok || err != nil {
		return 0, fmt.Errorf("nft add rule %s: no handle in %q", rule, out)
	}
	return n, nil
}

// stop disconnects the sandbox: it deletes its rules and its end of the
// pair, drops its lease, and takes the bridge down after the last sandbox.
func (b *bridgeLink) stop() {
	lock, err := lockBridge(b.dir)
	if err != nil {
		return
	}
	defer lock.Close()
	b.release()
}

// release undoes what setUp did, with the bridge's lock held.
func (b *bridgeLink) release() {
	if b.veth != "" {
		if l, err := netlink.LinkByName(b.veth); err == nil {
			netlink.LinkDel(l)
		}
	}
	if b.lease != nil {
		b.lease.Seek(0, io.SeekStart)
		deleteRules(b.nft, b.spec.table(), b.lease)
		os.Remove(b.lease.Name())
		b.lease.Close()
	}
	reclaimLeases(b.spec.table(), b.nft, b.dir)
	tearDownIfIdle(b.spec.bridge(), b.spec.table(), b.nft, b.dir)
}

// deleteRules deletes the rules that the lease r lists.
func deleteRules(nft, table string, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		chain, handle, ok := strings.Cut(sc.Text(), " ")
		if _, err := strconv.Atoi(handle); ok && err == nil {
			exec.Command(nft, "delete", "rule", "ip", table, chain, "handle", handle).Run()
		}
	}
}

// reclaimLeases deletes the rules and the leases of dead parents in dir.
func reclaimLeases(table, nft, dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() == lockName {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			deleteRules(nft, table, f)
			os.Remove(f.Name())
		}
		f.Close()
	}
}

// tearDownIfIdle deletes the bridge, its table and its state where no
// lease is left in dir.
func tearDownIfIdle(bridge, table, nft, dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != lockName {
			return
		}
	}
	exec.Command(nft, "delete", "table", "ip", table).Run()
	if l, err := netlink.LinkByName(bridge); err == nil && l.Type() == "bridge" {
		netlink.LinkDel(l)
	}
	os.Remove(filepath.Join(dir, lockName))
	os.Remove(dir)
	os.Remove(StateDir)
}

// Reclaim deletes what dead parents left of their bridge networks (their
// port rules and leases), and the bridges that no sandbox uses any more. It
// does nothing where there is no state or no nft.
func Reclaim() {
	nft, err := exec.LookPath("nft")
	if err != nil {
		return
	}
	ents, _ := os.ReadDir(StateDir)
	for _, e := range ents {
		if !e.IsDir() || !bridgeName.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(StateDir, e.Name())
		lock, err := lockBridge(dir)
		if err != nil {
			continue
		}
		reclaimLeases("paddock_"+e.Name(), nft, dir)
		tearDownIfIdle(e.Name(), "paddock_"+e.Name(), nft, dir)
		lock.Close()
	}
}

// runNft runs nft with args and stdin.
func runNft(nft string, stdin io.Reader, args ...string) error {
	cmd := exec.Command(nft, args...)
	cmd.Stdin = stdin
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft %s: %w (%s)", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
