package initelf

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// seals forbid every change to the memfd's contents and size, and of the seals
// themselves: a sandbox that reaches the file (a privileged one may open
// /proc/1/exe) cannot alter the init of the next.
const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// Memfd returns a memfd that holds Image, executable and sealed, close-on-exec,
// at descriptor lowest or above (so that a child's descriptor shuffle below lowest
// leaves it alone). PID 1 executes it with execveat(fd, "", ..., AT_EMPTY_PATH).
//
// Where the kernel forbids executable memfds (vm.memfd_noexec = 2 in the caller's
// pid namespace) or this architecture has no init, it fails with an
// *UnsupportedError matching ErrNotSupported.
func Memfd(lowest int) (*os.File, error) {
	img, err := Image()
	if err != nil {
		return nil, err
	}
	fd, err := create()
	if err != nil {
		return nil, err
	}
	if err := fill(fd, img); err != nil {
		unix.Close(fd)
		return nil, err
	}
	moved, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, lowest)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("initelf: move the memfd to descriptor %d or above: %w", lowest, err)
	}
	return os.NewFile(uintptr(moved), "memfd:"+Name), nil
}

// create makes the executable memfd. MFD_EXEC (Linux 6.3) asks for execute
// permission explicitly; older kernels reject the flag and make every memfd
// executable.
func create() (int, error) {
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate(Name, flags|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate(Name, flags)
	}
	if err == unix.EACCES {
		return -1, &UnsupportedError{Reason: "executable memfds are forbidden here (vm.memfd_noexec = " + noexec() + ")", Err: err}
	}
	if err != nil {
		return -1, fmt.Errorf("initelf: memfd_create: %w", err)
	}
	return fd, nil
}

// noexec reads vm.memfd_noexec as the caller's pid namespace has it.
func noexec() string {
	b, err := os.ReadFile("/proc/sys/vm/memfd_noexec")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// fill writes img, seals the memfd (F_SEAL_EXEC too where the kernel has it, so
// that nobody can take the execute permission away) and checks that it is
// executable.
func fill(fd int, img []byte) error {
	for len(img) > 0 {
		n, err := unix.Write(fd, img)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("initelf: write the memfd: %w", err)
		}
		img = img[n:]
	}
	_, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals|unix.F_SEAL_EXEC)
	if err == unix.EINVAL {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals)
	}
	if err != nil {
		return fmt.Errorf("initelf: seal the memfd: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("initelf: stat the memfd: %w", err)
	}
	if st.Mode&0o111 == 0 {
		return &UnsupportedError{Reason: fmt.Sprintf("the kernel made the memfd non-executable (mode %#o, vm.memfd_noexec = %s)", st.Mode&0o777, noexec())}
	}
	return nil
}
