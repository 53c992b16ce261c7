package network

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// ErrNoHelper is what Probe returns when the helper program is missing.
var ErrNoHelper = errors.New("network: helper program not found")

// readyTimeout bounds the wait for the helper to configure the namespace.
const readyTimeout = 10 * time.Second

// waitDelay bounds the wait for the helper's standard error to close once
// it exited (exec.Cmd.WaitDelay): a process it left behind may hold it.
const waitDelay = time.Second

// Probe finds the helper program of the Spec's mode (nft for a bridge
// network), and returns its path.
func (s *Spec) Probe() (string, error) {
	name, pkg := string(s.Mode), string(s.Mode)
	switch s.Mode {
	case Pasta:
		pkg = "passt"
	case Bridge:
		name, pkg = "nft", "nftables"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s (Debian package %s): %v", ErrNoHelper, name, pkg, err)
	}
	return path, nil
}

// A Helper is the running network of one sandbox: a user-mode helper
// process, or a sandbox's link to a bridge.
type Helper struct {
	cmd    *exec.Cmd
	exitW  *os.File // closing it tells slirp4netns to exit; nil for pasta
	stderr *bytes.Buffer
	once   sync.Once
	bridge *bridgeLink // a bridge network's link, instead of a helper process
}

// Start starts the helper program at path for the network namespace of the
// process pid, which must wait (its user namespace, if new, already has its ID
// maps), waits until the namespace is configured, and publishes the Spec's
// ports. The helper joins pid's user namespace where pid has one of its own.
// The waits end at deadline (the start's; zero for none) or after 10 s,
// whichever is first.
func (s *Spec) Start(path string, pid int, ownUserNS bool, deadline time.Time) (*Helper, error) {
	end := readyBy(deadline)
	switch s.Mode {
	case Pasta:
		return s.startPasta(path, pid, end)
	case Bridge:
		return s.startBridge(path, pid)
	}
	return s.startSlirp(path, pid, ownUserNS, end)
}

// readyBy is when the wait for a helper gives up: readyTimeout from now, or
// deadline (the start's) where that is sooner.
func readyBy(deadline time.Time) time.Time {
	end := time.Now().Add(readyTimeout)
	if !deadline.IsZero() && deadline.Before(end) {
		return deadline
	}
	return end
}

// waitReady waits for the helper's ready byte until end.
func (h *Helper) waitReady(r *os.File, end time.Time) error {
	r.SetReadDeadline(end)
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
		if h.bridge != nil {
			h.bridge.stop()
			return
		}
		if h.exitW != nil {
			h.exitW.Close()
		} else {
			h.cmd.Process.Signal(syscall.SIGTERM)
		}
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
