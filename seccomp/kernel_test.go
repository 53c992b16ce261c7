package seccomp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const childEnv = "PADDOCK_SECCOMP_TEST_CHILD"

// TestKernelLoad loads the compiled Default profile into a re-executed test binary
// (seccomp is irreversible) and checks verdicts from inside.
func TestKernelLoad(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		if err := kernelChild(); err != nil {
			fmt.Println("FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("child ok")
		os.Exit(0)
	}
	if err := unix.Prctl(unix.PR_GET_SECCOMP, 0, 0, 0, 0); errors.Is(err, unix.EINVAL) {
		t.Skipf("kernel without CONFIG_SECCOMP: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKernelLoad$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil || !strings.Contains(string(out), "child ok") {
		t.Fatalf("child failed: %v", err)
	}
	// Under the filter an open i386 gate is closed by it (the probe dies of
	// SIGSYS); a gate the kernel lacks stays what it was.
	gate, err := I386Gate()
	if err != nil {
		t.Fatal(err)
	}
	want := gate
	if gate == I386Open {
		want = I386Filtered
	}
	if !strings.Contains(string(out), "i386 gate: "+string(want)+"\n") {
		t.Errorf("outside the filter the i386 gate is %q; inside, want %q", gate, want)
	}
}

func kernelChild() error {
	runtime.LockOSThread()
	f, err := Compile(Default(dockerCaps))
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&f.Prog))); e != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER): %w", e)
	}
	if err := unix.Unshare(unix.CLONE_NEWUSER); err != unix.EPERM {
		return fmt.Errorf("unshare(CLONE_NEWUSER): %v, want EPERM", err)
	}
	if _, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, 0, 0); e != unix.EPERM {
		return fmt.Errorf("keyctl: %v, want EPERM", e)
	}
	if _, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0); e != unix.ENOSYS {
		return fmt.Errorf("clone3: %v, want ENOSYS", e)
	}
	if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0x0040000, 0, 0); e != unix.EPERM {
		return fmt.Errorf("personality(ADDR_NO_RANDOMIZE): %v, want EPERM", e)
	}
	if p, _, e := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0); e != 0 {
		return fmt.Errorf("personality(query) = %d: %v, want success", p, e)
	}
	if pid := unix.Getpid(); pid != os.Getpid() || pid <= 0 {
		return fmt.Errorf("getpid %d", pid)
	}
	if fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0); err != nil {
		return fmt.Errorf("socket(AF_UNIX): %w", err)
	} else {
		unix.Close(fd)
	}
	if _, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM, 0); err != unix.EPERM {
		return fmt.Errorf("socket(AF_VSOCK): %v, want EPERM", err)
	}
	st, err := Inspect(0)
	if err != nil {
		return err
	}
	if st.Mode != ModeFilter || st.Filters < 1 {
		return fmt.Errorf("Inspect(0) = %+v, want filter mode with a filter", st)
	}
	// A Go thread started after loading (TSYNC and inheritance) works too.
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		st, err := Inspect(0)
		if err == nil && st.Mode != ModeFilter {
			err = fmt.Errorf("new thread: %+v", st)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		return err
	}
	fmt.Printf("status %+v, %d instructions\n", st, len(f.Program))
	gate, err := I386Gate()
	if err != nil {
		return err
	}
	fmt.Printf("i386 gate: %s\n", gate)
	return nil
}
