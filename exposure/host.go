package exposure

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/inspect"
	"golang.org/x/sys/unix"
)

// HostFacts are the settings of the running kernel that decide, beside a
// sandbox's own layers, whether a flaw is reachable. A nil field was not readable
// (or the sysctl does not exist on this kernel): the evaluator then assumes
// nothing from it.
type HostFacts struct {
	// Release is the kernel release (uname -r).
	Release string `json:"release"`
	// Distribution names the distribution whose kernel this is ("Debian",
	// "Ubuntu", "Red Hat", ...), read from the release and /proc/version; empty for
	// a kernel that does not look like a distribution's. A distribution backports
	// fixes without changing the upstream version it reports, so a version
	// comparison is then only "version-dependent".
	Distribution string `json:"distribution,omitempty"`
	// IA32 is the state of the i386 gate for processes of the host
	// (seccomp.I386Gate).
	IA32 string `json:"ia32,omitempty"`
	// MaxUserNamespaces is user.max_user_namespaces: 0 forbids new user namespaces.
	MaxUserNamespaces *int `json:"maxUserNamespaces,omitempty"`
	// UnprivilegedUsernsClone is kernel.unprivileged_userns_clone (Debian's and
	// Ubuntu's patch): 0 forbids new user namespaces without CAP_SYS_ADMIN in the
	// initial user namespace.
	UnprivilegedUsernsClone *int `json:"unprivilegedUsernsClone,omitempty"`
	// UnprivilegedBPFDisabled is kernel.unprivileged_bpf_disabled: 1 or 2 refuse
	// bpf() to a process without CAP_BPF or CAP_SYS_ADMIN in the initial user
	// namespace.
	UnprivilegedBPFDisabled *int `json:"unprivilegedBPFDisabled,omitempty"`
	// IOURingDisabled is kernel.io_uring_disabled: 2 refuses io_uring_setup to
	// everyone, 1 to processes without CAP_SYS_ADMIN in the initial user namespace
	// that are not in kernel.io_uring_group (IOURingGroup).
	IOURingDisabled *int `json:"ioUringDisabled,omitempty"`
	// IOURingGroup is kernel.io_uring_group (-1: no group).
	IOURingGroup *int `json:"ioUringGroup,omitempty"`
	// PerfEventParanoid is kernel.perf_event_paranoid. 3 and above (Debian's and
	// Android's patch) refuse perf_event_open without CAP_PERFMON or
	// CAP_SYS_ADMIN in the initial user namespace; lower levels limit what is
	// measured, which depends on the flaw.
	PerfEventParanoid *int `json:"perfEventParanoid,omitempty"`
	// WorldDevices are the device nodes of the host's /dev (one level deep) that
	// every user may read and write: a sandbox that sees the host's /dev from its
	// own user namespace can open those and no others. Nil when unknown.
	WorldDevices []string `json:"worldDevices,omitempty"`
	// LSMs are the loaded Linux security modules (/sys/kernel/security/lsm, or
	// lsm_list_modules(2) where securityfs is not mounted); nil when unknown.
	LSMs []string `json:"lsms,omitempty"`
}

// ReadHost reads the HostFacts of the running kernel.
func ReadHost() *HostFacts {
	h := &HostFacts{Release: inspect.KernelRelease(), IA32: string(hostI386Gate())}
	if v, err := os.ReadFile("/proc/version"); err == nil {
		h.Distribution = Distribution(h.Release, string(v))
	} else {
		h.Distribution = Distribution(h.Release, "")
	}
	h.MaxUserNamespaces = sysctl("user/max_user_namespaces")
	h.UnprivilegedUsernsClone = sysctl("kernel/unprivileged_userns_clone")
	h.UnprivilegedBPFDisabled = sysctl("kernel/unprivileged_bpf_disabled")
	h.IOURingDisabled = sysctl("kernel/io_uring_disabled")
	h.IOURingGroup = sysctl("kernel/io_uring_group")
	h.PerfEventParanoid = sysctl("kernel/perf_event_paranoid")
	h.WorldDevices = worldDevices()
	if b, err := os.ReadFile("/sys/kernel/security/lsm"); err == nil {
		h.LSMs = strings.Split(strings.TrimSpace(string(b)), ",")
	} else {
		h.LSMs = lsmListModules()
	}
	return h
}

// lsmNames are the LSM identifiers of lsm_list_modules(2) (linux/lsm.h).
var lsmNames = map[uint64]string{100: "capability", 101: "selinux", 102: "smack", 103: "tomoyo", 104: "apparmor",
	105: "yama", 106: "loadpin", 107: "safesetid", 108: "lockdown", 109: "bpf", 110: "landlock", 111: "ima", 112: "evm", 113: "ipe"}

// sysLSMListModules is lsm_list_modules(2) on x86_64 (Linux 6.8).
const sysLSMListModules = 461

// lsmListModules asks the kernel for its active LSMs where securityfs is not
// mounted: nil on kernels before 6.8.
func lsmListModules() []string {
	var ids [64]uint64
	size := uint32(len(ids) * 8)
	n, _, e := unix.Syscall(sysLSMListModules, uintptr(unsafe.Pointer(&ids[0])), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 || n > uintptr(len(ids)) {
		return nil
	}
	out := make([]string, 0, n)
	for _, id := range ids[:n] {
		name, ok := lsmNames[id]
		if !ok {
			name = fmt.Sprintf("lsm-%d", id)
		}
		out = append(out, name)
	}
	return out
}

// sysctl reads an integer sysctl below /proc/sys, nil when it is missing.
func sysctl(name string) *int {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return nil
	}
	return &n
}

// distributions are the release and /proc/version patterns of kernels that carry
// backported fixes under an older upstream version.
var distributions = []struct {
	name    string
	release *regexp.Regexp
	version string
}{
	{"Red Hat", regexp.MustCompile(`\.el[0-9]+`), "Red Hat"},
	{"Fedora", regexp.MustCompile(`\.fc[0-9]+\.`), ""},
	{"Ubuntu", regexp.MustCompile(`-(generic|lowlatency|aws|azure|gcp|oracle|kvm)(-|$)`), "Ubuntu"},
	{"Debian", regexp.MustCompile(`-(amd64|arm64|cloud-amd64|rt-amd64|686-pae)$`), "Debian"},
	{"SUSE", regexp.MustCompile(`-(default|azure)$`), "SUSE"},
	{"Amazon Linux", regexp.MustCompile(`\.amzn[0-9]+\.`), ""},
	// Debian's, Ubuntu's and Red Hat's releases keep the upstream base with patch
	// level 0 and add their own build number.
	{"a distribution", regexp.MustCompile(`^[0-9]+\.[0-9]+\.0-[0-9]+`), ""},
}

// Distribution returns the distribution that built kernel release (with
// /proc/version's text when known), or "" when it looks like an upstream
// (mainline or stable) build, whose version comparisons are exact.
func Distribution(release, procVersion string) string {
	for _, d := range distributions {
		if d.release.MatchString(release) || (d.version != "" && strings.Contains(procVersion, d.version)) {
			return d.name
		}
	}
	return ""
}

// worldDevices lists the device nodes in /dev and one level below that are
// readable and writable by every user.
func worldDevices() []string {
	var out []string
	for _, pattern := range []string{"/dev/*", "/dev/*/*"} {
		names, _ := filepath.Glob(pattern)
		for _, n := range names {
			var st unix.Stat_t
			if unix.Lstat(n, &st) != nil {
				continue
			}
			t := st.Mode & unix.S_IFMT
			if (t == unix.S_IFCHR || t == unix.S_IFBLK) && st.Mode&0o006 == 0o006 {
				out = append(out, n)
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}
