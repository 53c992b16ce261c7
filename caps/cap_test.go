package caps

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNumbersMatchKernelHeaders(t *testing.T) {
	for _, tc := range []struct {
		c    Cap
		want int
	}{
		{Chown, unix.CAP_CHOWN}, {DacOverride, unix.CAP_DAC_OVERRIDE}, {DacReadSearch, unix.CAP_DAC_READ_SEARCH},
		{Fowner, unix.CAP_FOWNER}, {Fsetid, unix.CAP_FSETID}, {Kill, unix.CAP_KILL}, {Setgid, unix.CAP_SETGID},
		{Setuid, unix.CAP_SETUID}, {Setpcap, unix.CAP_SETPCAP}, {LinuxImmutable, unix.CAP_LINUX_IMMUTABLE},
		{NetBindService, unix.CAP_NET_BIND_SERVICE}, {NetBroadcast, unix.CAP_NET_BROADCAST},
		{NetAdmin, unix.CAP_NET_ADMIN}, {NetRaw, unix.CAP_NET_RAW}, {IpcLock, unix.CAP_IPC_LOCK},
		{IpcOwner, unix.CAP_IPC_OWNER}, {SysModule, unix.CAP_SYS_MODULE}, {SysRawio, unix.CAP_SYS_RAWIO},
		{SysChroot, unix.CAP_SYS_CHROOT}, {SysPtrace, unix.CAP_SYS_PTRACE}, {SysPacct, unix.CAP_SYS_PACCT},
		{SysAdmin, unix.CAP_SYS_ADMIN}, {SysBoot, unix.CAP_SYS_BOOT}, {SysNice, unix.CAP_SYS_NICE},
		{SysResource, unix.CAP_SYS_RESOURCE}, {SysTime, unix.CAP_SYS_TIME}, {SysTtyConfig, unix.CAP_SYS_TTY_CONFIG},
		{Mknod, unix.CAP_MKNOD}, {Lease, unix.CAP_LEASE}, {AuditWrite, unix.CAP_AUDIT_WRITE},
		{AuditControl, unix.CAP_AUDIT_CONTROL}, {Setfcap, unix.CAP_SETFCAP}, {MacOverride, unix.CAP_MAC_OVERRIDE},
		{MacAdmin, unix.CAP_MAC_ADMIN}, {Syslog, unix.CAP_SYSLOG}, {WakeAlarm, unix.CAP_WAKE_ALARM},
		{BlockSuspend, unix.CAP_BLOCK_SUSPEND}, {AuditRead, unix.CAP_AUDIT_READ}, {Perfmon, unix.CAP_PERFMON},
		{Bpf, unix.CAP_BPF}, {CheckpointRestore, unix.CAP_CHECKPOINT_RESTORE},
	} {
		if int(tc.c) != tc.want {
			t.Errorf("%v = %d, kernel header says %d", tc.c, int(tc.c), tc.want)
		}
	}
}

func TestString(t *testing.T) {
	for c, want := range map[Cap]string{
		NetRaw:            "CAP_NET_RAW",
		Chown:             "CAP_CHOWN",
		CheckpointRestore: "CAP_CHECKPOINT_RESTORE",
		41:                "CAP_41",
		-1:                "CAP_-1",
	} {
		if got := c.String(); got != want {
			t.Errorf("Cap(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, name := range []string{"CAP_NET_RAW", "net_raw", "NET_RAW", "cap_net_raw", "Cap_Net_Raw"} {
		c, err := Parse(name)
		if err != nil || c != NetRaw {
			t.Errorf("Parse(%q) = %v, %v; want CAP_NET_RAW", name, c, err)
		}
	}
	// Every name round-trips.
	for c := Cap(0); c <= maxKnown; c++ {
		if got, err := Parse(c.String()); err != nil || got != c {
			t.Errorf("Parse(%q) = %v, %v", c.String(), got, err)
		}
	}
}

func TestParseUnknown(t *testing.T) {
	for _, name := range []string{"", "CAP_", "NET_RAWX", "CAP_41", "ALL", " NET_RAW", "CAPNET_RAW"} {
		_, err := Parse(name)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(name)) {
			t.Errorf("Parse(%q): error %v, want one quoting the name", name, err)
		}
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Parse(%q): error %v does not match ErrUnknown", name, err)
		}
	}
}

func TestLast(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Skipf("kernel exposes no /proc/sys/kernel/cap_last_cap: %v", err)
	}
	want, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := Last(); int(got) != want || Last() != got {
		t.Errorf("Last() = %d, cap_last_cap says %d", got, want)
	}
}
