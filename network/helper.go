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
	"sync"
	"syscall"
	"time"
)

// ErrNoHelper is what Probe returns when the helper program is missing.
var ErrNoHelper = errors.New("network: helper program not found")

// readyTimeout bounds the wait for the helper to configure the namespace.
const readyTimeout = 10 * time.Second

// Probe finds the helper program of the Spec's mode, and returns its path.
func (s *Spec) Probe() (string, error) {
	path, err := exec.LookPath(string(s.Mode))
	if err != nil {
		return "", fmt.Errorf("%w: %s (Debian package %s): %v", ErrNoHelper, s.Mode, s.Mode, err)
	}
	return path, nil
}

// A Helper is the running user-mode network of one sandbox.
type Helper struct {
	cmd    *exec.Cmd
	exitW  *os.File // closing it tells slirp4netns to exit
	stderr *bytes.Buffer
	once   sync.Once
}

// Start starts the helper program at path for the network namespace of the
// process pid, which must wait (its user namespace, if new, already has its ID
// maps), waits until the namespace is configured, and publishes the Spec's
// ports. The helper joins pid's user namespace where pid has one of its own.
func (s *Spec) Start(path string, pid int, ownUserNS bool) (*Helper, error) {
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
	err = h.cmd.Start()
	readyW.Close()
	exitR.Close()
	if err != nil {
		exitW.Close()
		return nil, fmt.Errorf("network: start %s: %w", path, err)
	}
	if err := h.waitReady(readyR); err != nil {
		h.Stop()
		return nil, fmt.Errorf("network: %s did not configure the namespace: %w%s", s.Mode, err, h.output())
	}
	for _, p := range s.Ports {
		if err := publish(sock, p); err != nil {
			h.Stop()
			return nil, fmt.Errorf("network: publish %s: %w", p, err)
		}
	}
	return h, nil
}

// waitReady waits for the helper's ready byte.
func (h *Helper) waitReady(r *os.File) error {
	r.SetReadDeadline(time.Now().Add(readyTimeout))
	var b [1]byte
	if _, err := r.Read(b[:]); err != nil {
		return err
	}
	return nil
}

// output returns what the helper wrote on its standard error, for an error.
func (h *Helper) output() string {
	if h.stderr.Len() == 0 {
		return ""
	}
	return " (" + string(bytes.TrimSpace(h.stderr.Bytes())) + ")"
}

// Stop stops the helper and waits for it. It may be called more than once.
func (h *Helper) Stop() {
	if h == nil {
		return
	}
	h.once.Do(func() {
		h.exitW.Close()
		done := make(chan struct{})
		go func() {
			h.cmd.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			h.cmd.Process.Kill()
			<-done
		}
	})
}

// publish asks slirp4netns, on its API socket sock, to forward p.
func publish(sock string, p Port) error {
	req := map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": p.protocol(), "host_addr": p.hostIP(), "host_port": p.HostPort, "guest_port": p.Port,
	}}
	c, err := net.DialTimeout("unix", sock, readyTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(readyTimeout))
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
