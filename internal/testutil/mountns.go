package testutil

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// envMounter tells a re-executed test binary that it runs in a private mount
// namespace, and how it changes its mount table: "direct" as root, or "R,W", the
// descriptors on which it asks the root process that started it.
const envMounter = "PADDOCK_TEST_MOUNTER"

// A Mounter changes the mount table of a test that runs in a private mount
// namespace (see MountModes): as root directly, as uid 65534 through the root
// process that started it, which enters the namespace to do it. Nothing it mounts
// is seen outside that namespace.
type Mounter struct {
	mu   chan struct{} // one request at a time
	req  *os.File
	resp *bufio.Reader
}

// Mount mounts an empty tmpfs on the directory dir.
func (m *Mounter) Mount(t testing.TB, dir string) { m.do(t, "mount", dir) }

// Unmount unmounts the mount on dir.
func (m *Mounter) Unmount(t testing.TB, dir string) { m.do(t, "umount", dir) }

func (m *Mounter) do(t testing.TB, verb, dir string) {
	t.Helper()
	if err := m.try(verb, dir); err != nil {
		t.Fatalf("%s %s: %v", verb, dir, err)
	}
}

// try performs verb on dir and returns what failed.
func (m *Mounter) try(verb, dir string) error {
	if m.req == nil {
		return mountOp(verb, dir)
	}
	m.mu <- struct{}{}
	defer func() { <-m.mu }()
	if _, err := fmt.Fprintf(m.req, "%s %s\n", verb, dir); err != nil {
		return err
	}
	line, err := m.resp.ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "ok" {
		return fmt.Errorf("%s", line)
	}
	return nil
}

// ShareTun makes /dev/net/tun usable by every user in the test's private
// mount namespace, for user-mode network helpers (slirp4netns) of a rootless
// test on a host whose node is root's alone: a tmpfs on /dev/net with a node
// of the same device, mode 0666. The host's node is left as it is.
func (m *Mounter) ShareTun(t testing.TB) { m.do(t, "tun", "/dev/net") }

// mountOp mounts a tmpfs on dir, unmounts dir, or (tun) gives dir a tun node
// for all, in the calling thread's mount namespace.
func mountOp(verb, dir string) error {
	switch verb {
	case "tun":
		if err := unix.Mount("paddock-test", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "size=4k,mode=755"); err != nil {
			return err
		}
		tun := dir + "/tun"
		if err := unix.Mknod(tun, unix.S_IFCHR|0o666, int(unix.Mkdev(10, 200))); err != nil {
			return err
		}
		return unix.Chmod(tun, 0o666)
	case "mount":
		return unix.Mount("paddock-test", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m")
	case "umount":
		return unix.Unmount(dir, unix.MNT_DETACH)
	}
	return fmt.Errorf("unknown request %q", verb)
}

// MountModes runs f as root and as uid 65534, each in a re-executed copy of the test
// binary in a private mount namespace (a copy of this one's, with no propagation
// to it), where f may change the mount table with m: no other test sees it.
func MountModes(t *testing.T, f func(t *testing.T, m *Mounter)) {
	t.Helper()
	if m := mounterFromEnv(t); m != nil {
		f(t, m)
		return
	}
	t.Run("rootful", func(t *testing.T) { PrivateMounts(t, false) })
	t.Run("rootless", func(t *testing.T) { PrivateMounts(t, true) })
}

// InPrivateMounts runs f as root in a re-executed copy of the test binary in a
// private mount namespace (see MountModes).
func InPrivateMounts(t *testing.T, f func(t *testing.T, m *Mounter)) {
	t.Helper()
	if m := mounterFromEnv(t); m != nil {
		f(t, m)
		return
	}
	PrivateMounts(t, false)
}

// mounterFromEnv returns the Mounter of a re-executed test binary, or nil in the
// first one. As root it first stops all propagation between its namespace and the
// host's.
func mounterFromEnv(t *testing.T) *Mounter {
	v := os.Getenv(envMounter)
	if v == "" {
		return nil
	}
	if v == "direct" {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Fatalf("make the private mount namespace's mounts private: %v", err)
		}
		return &Mounter{}
	}
	r, w, _ := strings.Cut(v, ",")
	rfd, _ := strconv.Atoi(r)
	wfd, _ := strconv.Atoi(w)
	return &Mounter{
		mu:   make(chan struct{}, 1),
		req:  os.NewFile(uintptr(wfd), "mount requests"),
		resp: bufio.NewReader(os.NewFile(uintptr(rfd), "mount replies")),
	}
}

// PrivateMounts re-executes the current top-level test in a private mount
// namespace, as uid 65534 if nobody is set, and reports its outcome as t's. It
// needs root; the test's body runs in the new process (see MountModes).
func PrivateMounts(t *testing.T, nobody bool) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a private mount namespace for the test needs root")
	}
	r := Rerun{
		Pattern: "^" + topName(t) + "$",
		Env:     append(os.Environ(), EnvMode+"=rootful", envMounter+"=direct"),
		Attr:    &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS},
		Label:   "as root in a private mount namespace",
	}
	if !nobody {
		r.Run(t)
		return
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	respR, respW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer reqR.Close()
	defer respW.Close()
	r.Env = append(os.Environ(), EnvMode+"=rootless", envMounter+"=3,4")
	r.Attr.Credential = &syscall.Credential{Uid: Nobody, Gid: Nobody}
	r.Label = "as uid 65534 in a private mount namespace"
	r.ExtraFiles = []*os.File{respR, reqW}
	r.Started = func(pid int) {
		respR.Close()
		reqW.Close()
		ready := make(chan error, 1)
		go offMainThread(func() { serveMounts(pid, reqR, respW, ready) })
		if err := <-ready; err != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("enter the test's mount namespace: %v", err)
		}
	}
	r.Run(t)
}

// offMainThread runs f on a locked thread that is not the process's first: /proc/self
// shows that thread's namespaces, and a locked goroutine that ends there leaves
// the thread parked rather than gone, so f must not change it. Holding the first
// thread while f's goroutine locks its own keeps f off it. The thread exits with f.
func offMainThread(f func()) {
	runtime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		f()
		return
	}
	locked := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		close(locked)
		f()
	}()
	<-locked
	runtime.UnlockOSThread()
}

// serveMounts enters the mount namespace of process pid on a thread of its own,
// stops propagation there and performs the requests read from req until it is
// closed, answering on resp. It runs on a locked thread other than the first (see
// offMainThread), which exits with it.
func serveMounts(pid int, req, resp *os.File, ready chan<- error) {
	err := enterMountNS(pid)
	ready <- err
	if err != nil {
		return
	}
	sc := bufio.NewScanner(req)
	for sc.Scan() {
		verb, dir, _ := strings.Cut(sc.Text(), " ")
		answer := "ok"
		if err := mountOp(verb, dir); err != nil {
			answer = err.Error()
		}
		fmt.Fprintln(resp, answer)
	}
}

// enterMountNS moves the calling, locked thread into the mount namespace of pid
// and makes every mount there private. Go's threads share their filesystem
// context, which setns of a mount namespace refuses: the thread unshares it first.
func enterMountNS(pid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare the filesystem context: %w", err)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	return unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
}
