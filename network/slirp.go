package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// startSlirp starts slirp4netns with a ready descriptor, on which it writes
// once the tap device is configured, and an exit descriptor, whose close
// (by Stop, or by the death of this process) makes it exit; the ports are
// published through its API socket, in a directory removed once they are.
func (s *Spec) startSlirp(path string, pid int, ownUserNS bool, end time.Time) (*Helper, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	h := &Helper{exitW: exitW, stderr: &bytes.Buffer{}}
	var sock string
	args := []string{"--configure", "--mtu=65520", "--ready-fd=3", "--exit-fd=4"}
	if !s.HostLoopback {
		args = append(args, "--disable-host-loopback")
	}
	if ownUserNS {
		args = append(args, "--userns-path=/proc/"+strconv.Itoa(pid)+"/ns/user")
	}
	if len(s.Ports) > 0 {
		dir, err := os.MkdirTemp("", "paddock-net-")
		if err != nil {
			readyW.Close()
			exitR.Close()
			exitW.Close()
			return nil, err
		}
		defer os.RemoveAll(dir)
		sock = filepath.Join(dir, "api.sock")
		args = append(args, "--api-socket", sock)
	}
	args = append(args, strconv.Itoa(pid), "tap0")
	h.cmd = exec.Command(path, args...)
	h.cmd.ExtraFiles = []*os.File{readyW, exitR}
	h.cmd.Stderr = h.stderr
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h.cmd.WaitDelay = waitDelay
	err = h.cmd.Start()
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("network: start %s: %w", path, err)
	}
	if err := h.waitReady(readyR, end); err != nil {
		h.Stop()
		return nil, fmt.Errorf("network: %s did not configure the namespace: %w%s", s.Mode, err, h.output())
	}
	for _, p := range s.Ports {
		if err := publish(sock, p, end); err != nil {
			h.Stop()
			return nil, fmt.Errorf("network: publish %s: %w", p, err)
		}
	}
	return h, nil
}

// publish asks slirp4netns, on its API socket sock, to forward p.
func publish(sock string, p Port, end time.Time) error {
	req := map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": p.protocol(), "host_addr": p.hostIP(), "host_port": p.HostPort, "guest_port": p.Port,
	}}
	c, err := net.DialTimeout("unix", sock, time.Until(end))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(end)
	if err := json.NewEncoder(c).Encode(req); err != nil {
		return err
	}
	c.(*net.UnixConn).CloseWrite()
	var resp struct {
		Error *struct {
			Desc string `json:"desc"`
		} `json:"error"`
	}
	if err := json.NewDecoder(c).Decode(&resp); err != nil {
		return fmt.Errorf("read the reply: %w", err)
	}
	if resp.Error != nil {
		return errors.New(resp.Error.Desc)
	}
	return nil
}
