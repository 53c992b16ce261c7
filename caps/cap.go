package caps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Cap is a Linux capability number, as in linux/capability.h.
type Cap int

// The capabilities known to this package, up to Linux 5.9.
const (
	Chown             Cap = 0
	DacOverride       Cap = 1
	DacReadSearch     Cap = 2
	Fowner            Cap = 3
	Fsetid            Cap = 4
	Kill              Cap = 5
	Setgid            Cap = 6
	Setuid            Cap = 7
	Setpcap           Cap = 8
	LinuxImmutable    Cap = 9
	NetBindService    Cap = 10
	NetBroadcast      Cap = 11
	NetAdmin          Cap = 12
	NetRaw            Cap = 13
	IpcLock           Cap = 14
	IpcOwner          Cap = 15
	SysModule         Cap = 16
	SysRawio          Cap = 17
	SysChroot         Cap = 18
	SysPtrace         Cap = 19
	SysPacct          Cap = 20
	SysAdmin          Cap = 21
	SysBoot           Cap = 22
	SysNice           Cap = 23
	SysResource       Cap = 24
	SysTime           Cap = 25
	SysTtyConfig      Cap = 26
	Mknod             Cap = 27
	Lease             Cap = 28
	AuditWrite        Cap = 29
	AuditControl      Cap = 30
	Setfcap           Cap = 31
	MacOverride       Cap = 32
	MacAdmin          Cap = 33
	Syslog            Cap = 34
	WakeAlarm         Cap = 35
	BlockSuspend      Cap = 36
	AuditRead         Cap = 37
	Perfmon           Cap = 38
	Bpf               Cap = 39
	CheckpointRestore Cap = 40
)

// maxKnown is the highest capability that has a name in this package.
const maxKnown = CheckpointRestore

// names holds the kernel's names without the CAP_ prefix, indexed by number.
var names = [maxKnown + 1]string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// byName maps a name without the CAP_ prefix to its capability.
var byName = func() map[string]Cap {
	m := make(map[string]Cap, len(names))
	for i, n := range names {
		m[n] = Cap(i)
	}
	return m
}()

// String returns the kernel's name of c, such as "CAP_NET_RAW", or "CAP_<number>" for a
// capability this package has no name for.
func (c Cap) String() string {
	if c >= 0 && c <= maxKnown {
		return "CAP_" + names[c]
	}
	return "CAP_" + strconv.Itoa(int(c))
}

// Parse returns the capability named name. The CAP_ prefix is optional and case does not
// matter: "CAP_NET_RAW", "NET_RAW" and "net_raw" all name NetRaw. An unknown name yields an
// error matching ErrUnknown that quotes it.
func Parse(name string) (Cap, error) {
	n := strings.ToUpper(name)
	n = strings.TrimPrefix(n, "CAP_")
	if c, ok := byName[n]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("%w %q", ErrUnknown, name)
}

var (
	lastOnce sync.Once
	lastCap  Cap
)

// Last returns the highest capability the running kernel knows, read once from
// /proc/sys/kernel/cap_last_cap. Where that file cannot be read it returns the highest
// capability this package knows (CheckpointRestore).
func Last() Cap {
	lastOnce.Do(func() {
		lastCap = maxKnown
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || n < 0 {
			return
		}
		if n > 63 { // a Set holds 64 capabilities
			n = 63
		}
		lastCap = Cap(n)
	})
	return lastCap
}
