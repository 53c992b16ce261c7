package exposure

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"github.com/paddock-sandbox/paddock/seccomp"
	"golang.org/x/sys/unix"
)

// Harmless argument values: the kernel rejects them once the call has passed
// seccomp, before it acts.
const (
	badFD   = ^uint64(0) // -1: EBADF
	badAddr = 1          // an unmapped, misaligned address: EFAULT or EINVAL
	noPID   = 0x3fffffff // above pid_max: ESRCH
	// badIDType is no waitid(2) idtype (P_ALL, P_PID, P_PGID, P_PIDFD): EINVAL
	// before the kernel looks for a child or touches infop.
	badIDType = 99
	// sockBadFlag is a bit of socket(2)'s type above SOCK_TYPE_MASK that is
	// neither SOCK_CLOEXEC nor SOCK_NONBLOCK: EINVAL before any family code runs.
	sockBadFlag = 0x10
	// cloneSighand without CLONE_VM is EINVAL in clone(2); in unshare(2) it
	// implies CLONE_VM, EINVAL in a process with several threads (every Go
	// program), before any capability is checked.
	cloneSighand = 0x800
	cloneVM      = 0x100
)

// harmless returns the probe of call (x86_64 number nr): the flaw's arguments,
// with values that make the kernel fail harmlessly for those it leaves open, or
// why the call cannot be probed so.
func harmless(call Call, nr int32) (Probe, string) {
	p := Probe{Kind: ProbeSyscall, Call: call.Name, Nr: nr}
	var set [6]bool
	for _, a := range call.Args {
		p.Args[a.Index], set[a.Index] = a.Value.N, true
	}
	def := func(i int, v uint64) {
		if !set[i] {
			p.Args[i] = v
		}
	}
	switch call.Name {
	case "read", "write", "ioctl", "connect", "sendto", "sendmsg", "bind", "setsockopt",
		"setns", "io_uring_enter", "io_uring_register", "fsconfig", "fsmount", "recvmsg":
		def(0, badFD)
	case "open", "execve", "mkdir", "mknod", "chroot", "setxattr", "add_key", "munmap", "mremap", "madvise", "pipe", "pipe2", "umount2":
		def(0, badAddr)
	case "futex":
		def(0, badAddr)
		if set[1] && p.Args[1]&0x7f > 13 {
			return p, "an unknown futex operation answers ENOSYS, as a filter would"
		}
	case "openat", "mknodat", "name_to_handle_at", "open_tree", "move_mount", "fspick":
		def(0, badFD)
		def(1, badAddr)
	case "renameat2":
		def(0, badFD)
		def(1, badAddr) // EFAULT while the old name is copied in
		def(2, badFD)
		def(3, badAddr)
	case "modify_ldt":
		// write_ldt (func 1) wants exactly one user_desc: a byte count of 0
		// is EINVAL before the descriptor is read.
		def(0, 1)
		def(1, badAddr)
		def(2, 0)
	case "waitid":
		// infop stays NULL: waitid writes it even after an error, and the
		// flaw is that write.
		def(0, badIDType)
	case "splice":
		def(0, badFD)
		def(4, 1) // a length of 0 returns before the descriptors are read
	case "mmap":
		def(1, 0) // length 0: EINVAL
	case "socket", "socketpair":
		p.Args[1] |= sockBadFlag
		def(3, badAddr)
	case "clone":
		p.Args[0] = p.Args[0]&^cloneVM | cloneSighand
	case "unshare":
		p.Args[0] |= cloneSighand
	case "ptrace":
		if set[0] && p.Args[0] == 0 {
			return p, "PTRACE_TRACEME takes no pid and would make the probe traced"
		}
		def(0, 0x4206) // PTRACE_SEIZE
		def(1, noPID)
	case "pivot_root", "mount", "fsopen":
		def(0, badAddr)
		def(1, badAddr)
		def(2, badAddr)
	case "keyctl":
		if set[0] {
			return p, "keyctl operations act on the caller's keyrings"
		}
		def(0, 9999)
	case "perf_event_open":
		def(0, badAddr)
	case "open_by_handle_at":
		def(0, badFD)
	case "bpf":
		// Program loading with a zeroed attribute: refused by
		// unprivileged_bpf_disabled first, E2BIG (no instructions) otherwise.
		if p.Args[0] == bpfProgLoad {
			p.Buf[1] = 256
		} else {
			def(1, badAddr)
		}
		def(2, 256)
	case "userfaultfd":
		def(0, 1|0x100) // UFFD_USER_MODE_ONLY and an unknown flag: EINVAL
	case "io_uring_setup":
		def(1, badAddr)
	case "clone3":
		def(0, 0)
		def(1, 0)
	default:
		return p, "no harmless arguments are known for " + call.Name
	}
	return p, ""
}

// RunProbes answers probes from inside a sandbox; facts[i] answers probes[i].
// It is meant for a process started in the sandbox for that purpose: it makes
// itself non-dumpable (an i386 probe may be killed by the filter) and makes the
// calls asked.
func RunProbes(probes []Probe) []Fact {
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	facts := make([]Fact, len(probes))
	for i, p := range probes {
		facts[i] = runProbe(p)
	}
	return facts
}

func errnoOf(err error) int {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return int(e)
	}
	return -1
}

func runProbe(p Probe) Fact {
	switch p.Kind {
	case ProbeStatus:
		b, err := os.ReadFile("/proc/self/status")
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			for _, k := range []string{"CapEff:", "CapPrm:", "CapBnd:", "NoNewPrivs:", "Seccomp:"} {
				if strings.HasPrefix(l, k) {
					keep = append(keep, l)
				}
			}
		}
		return Fact{Errno: errnoOf(unwrapErrno(err)), Value: strings.Join(keep, "\n")}
	case ProbeSyscall:
		return probeSyscall(p)
	case ProbeCreate:
		return probeCreate(p.Flags)
	case ProbePath:
		flags := unix.O_RDONLY
		if p.Access == Write {
			flags = unix.O_WRONLY
		}
		fd, err := unix.Open(p.Path, flags|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == nil {
			unix.Close(fd)
		}
		return Fact{Errno: errnoOf(err)}
	case ProbeDevice:
		mode := uint32(unix.R_OK)
		if p.Access == Write {
			mode |= unix.W_OK
		}
		return Fact{Errno: errnoOf(unix.Faccessat2(unix.AT_FDCWD, p.Path, mode, unix.AT_EACCESS))}
	case ProbeNamespace:
		id, err := statID("/proc/self/ns/" + string(p.NS))
		return Fact{Errno: errnoOf(err), Value: id}
	case ProbeStat:
		id, err := statID(p.Path)
		return Fact{Errno: errnoOf(err), Value: id}
	case ProbeIDMap:
		b, err := os.ReadFile("/proc/self/uid_map")
		return Fact{Errno: errnoOf(unwrapErrno(err)), Value: string(b)}
	case ProbeI386:
		g, err := seccomp.I386Gate()
		if err != nil {
			return Fact{Errno: -1, Value: err.Error()}
		}
		return Fact{Value: string(g)}
	}
	return Fact{Errno: -1, Value: fmt.Sprintf("unknown probe %q", p.Kind)}
}

func unwrapErrno(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// probeSyscall makes the call of p; buffers it asks for live until it returns.
func probeSyscall(p Probe) Fact {
	args := p.Args
	var bufs [6][]byte
	for i, n := range p.Buf {
		if n > 0 {
			bufs[i] = make([]byte, n)
			args[i] = uint64(uintptr(unsafe.Pointer(&bufs[i][0])))
		}
	}
	if p.ABI == "i386" {
		r, e, ok := i386Call(p.Nr, args)
		if !ok {
			return Fact{Errno: -1, Value: "no i386 gate on this architecture"}
		}
		if e == 0 && returnsFD[p.Call] {
			unix.Close(r)
		}
		return Fact{Errno: e}
	}
	r, _, e := syscall.Syscall6(uintptr(p.Nr), uintptr(args[0]), uintptr(args[1]), uintptr(args[2]), uintptr(args[3]), uintptr(args[4]), uintptr(args[5]))
	if e == 0 && p.Call == "modify_ldt" && int32(r) < 0 && int32(r) >= -4095 {
		// modify_ldt returns a 32-bit int: its errors arrive zero-extended.
		e = syscall.Errno(-int32(r))
	}
	if e == 0 && returnsFD[p.Call] {
		unix.Close(int(r))
	}
	runtime.KeepAlive(&bufs)
	return Fact{Errno: int(e)}
}

// returnsFD are the calls whose success returns a descriptor to close.
var returnsFD = map[string]bool{
	"socket": true, "open": true, "openat": true, "bpf": true, "userfaultfd": true, "io_uring_setup": true,
	"perf_event_open": true, "fsopen": true, "open_tree": true, "fsmount": true, "fspick": true, "open_by_handle_at": true,
}

// probeCreate creates the namespaces of flags in a child, through clone(2) and,
// failing that, unshare(2) in the single-threaded child, which then fails to
// execute "/" (EACCES): that errno means the namespaces were made. Both children
// are reaped by ForkExec.
func probeCreate(flags uint64) Fact {
	try := func(attr *syscall.SysProcAttr) error {
		_, err := syscall.ForkExec("/", []string{"/"}, &syscall.ProcAttr{Sys: attr})
		if err == nil {
			return fmt.Errorf("executing / succeeded")
		}
		if err == syscall.EACCES {
			return nil
		}
		return err
	}
	cl := try(&syscall.SysProcAttr{Cloneflags: uintptr(flags)})
	un := try(&syscall.SysProcAttr{Unshareflags: uintptr(flags)})
	words := fmt.Sprintf("clone: %v; unshare: %v", orOK(cl), orOK(un))
	if cl == nil || un == nil {
		return Fact{Value: words}
	}
	return Fact{Errno: errnoOf(cl), Value: words}
}

func orOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
