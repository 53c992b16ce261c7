package network

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startPasta starts pasta in the foreground for the namespaces of pid, with
// the Spec's ports forwarded (and no other: pasta's default forwards every
// port bound on either side), DNS forwarded from PastaDNS, and the gateway
// mapped to the host's loopback only with HostLoopback. pasta says nothing
// when it is ready: Start waits until the namespace has a default route,
// which --config-net adds last. It dies with this process (parent-death
// signal).
func (s *Spec) startPasta(path string, pid int, end time.Time) (*Helper, error) {
	args := []string{"-f", "-q", "--config-net", "--dns-forward", PastaDNS, "-T", "none", "-U", "none"}
	if !s.HostLoopback {
		args = append(args, "--no-map-gw")
	}
	args = append(args, pastaPorts(s.Ports)...)
	args = append(args, strconv.Itoa(pid))
	h := &Helper{cmd: exec.Command(path, args...), stderr: &bytes.Buffer{}}
	h.cmd.Stderr = h.stderr
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h.cmd.WaitDelay = waitDelay
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("network: start %s: %w", path, err)
	}
	if err := waitRoute(pid, h.cmd.Process.Pid, end); err != nil {
		h.Stop()
		return nil, fmt.Errorf("network: pasta did not configure the namespace: %w%s", err, h.output())
	}
	return h, nil
}

// pastaPorts returns pasta's forwarding options for ports: -t and -u
// ADDRESS/HOSTPORT:PORT, or none.
func pastaPorts(ports []Port) []string {
	tcp, udp := []string{"-t"}, []string{"-u"}
	for _, p := range ports {
		spec := p.hostIP() + "/" + strconv.Itoa(p.HostPort) + ":" + strconv.Itoa(p.Port)
		if p.protocol() == "udp" {
			udp = append(udp, spec)
		} else {
			tcp = append(tcp, spec)
		}
	}
	if len(tcp) == 1 {
		tcp = append(tcp, "none")
	}
	if len(udp) == 1 {
		udp = append(udp, "none")
	}
	// One option per port: pasta reads one address per specification.
	var out []string
	for _, l := range [][]string{tcp, udp} {
		for _, spec := range l[1:] {
			out = append(out, l[0], spec)
		}
	}
	return out
}

// processGone reports whether pid is a zombie or gone.
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// waitRoute waits until the network namespace of pid has a default route,
// or until the helper (a child of this process, not yet waited for) exits or
// end passes.
func waitRoute(pid, helper int, end time.Time) error {
	for {
		if ok, err := hasDefaultRoute(pid); err != nil || ok {
			return err
		}
		if processGone(helper) {
			return errors.New("it exited")
		}
		if time.Now().After(end) {
			return fmt.Errorf("no default route by %s", end.Format(time.RFC3339Nano))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hasDefaultRoute reads /proc/PID/net/route, which shows the routes of pid's
// network namespace.
func hasDefaultRoute(pid int) (bool, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/route")
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 1 && fields[1] == "00000000" {
			return true, nil
		}
	}
	return false, sc.Err()
}
