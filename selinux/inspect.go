package selinux

import (
	"os"
	"strconv"
	"strings"
	"sync"

	goselinux "github.com/opencontainers/selinux/go-selinux"
)

var enabled = sync.OnceValue(goselinux.GetEnabled)

// Enabled reports whether SELinux is enabled on this host (selinuxfs mounted and the
// kernel answering). The result is computed once.
func Enabled() bool { return enabled() }

// Inspect returns the current label of process pid (the caller when pid is 0), read
// from /proc/PID/attr/current. Where SELinux is disabled it returns "" and a nil error,
// without reading the file: an unlabelled process is the normal state of such a host,
// not a failure. (The file then answers EINVAL, or holds another LSM's label, such as
// AppArmor's, which is not an SELinux context.)
func Inspect(pid int) (string, error) {
	if !Enabled() {
		return "", nil
	}
	path := "/proc/self/attr/current"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/attr/current"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\x00\n"), nil
}
