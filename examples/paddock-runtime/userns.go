package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/cgroup"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// cgroupsOff is set by --cgroup-manager disabled: each container stays in the
// runtime's cgroup, as crun's manager of that name leaves it. Podman passes it
// for --cgroups=disabled to the runtimes its runtime_supports_nocgroup lists.
var cgroupsOff bool

// hostEUID returns the user ID on the host of this process's effective user
// ID, read through /proc/self/uid_map: a rootless engine (Podman run by an
// unprivileged user) calls the runtime as uid 0 of a user namespace of its
// own, which is that user on the host. It returns -1 for a uid the map does
// not hold.
func hostEUID() int {
	euid := os.Geteuid()
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		return euid // no user namespaces: the host's IDs
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var in, out, n int
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		in, _ = strconv.Atoi(fields[0])
		out, _ = strconv.Atoi(fields[1])
		n, _ = strconv.Atoi(fields[2])
		if euid >= in && euid-in < n {
			return out + euid - in
		}
	}
	return -1
}

// hostRoot reports whether the runtime runs as root of the host, not as the
// root of a rootless engine's user namespace.
func hostRoot() bool { return os.Geteuid() == 0 && hostEUID() == 0 }

// placeCgroup leaves the container in the runtime's own cgroup where it can
// have none of its own: with --cgroup-manager disabled, and where the runtime
// is root only in a user namespace (a rootless engine) and its host user could
// not create one (cgroup v1, or no delegated v2 subtree), as runc's rootless
// mode leaves it. The container then records no cgroup path, so that exec
// joins none; limits fail Build, naming what needs the cgroup.
func placeCgroup(spec *sandbox.Spec) {
	if cgroupsOff || !hostCanCreate(&spec.Cgroup) {
		spec.NoCgroup = true
		spec.Cgroup.Path = ""
	}
}

// hostCanCreate reports whether the cgroup of c can be made by this process
// as its user on the host: always where that is whom the sandbox package
// sees, otherwise as cgroup.Plan decides for the host uid.
func hostCanCreate(c *cgroup.Spec) bool {
	if os.Geteuid() != 0 || hostRoot() {
		return true // the sandbox package decides for the caller it sees
	}
	uid := hostEUID()
	if uid < 0 {
		uid = 65534 // not in the map: the overflow user
	}
	need, err := cgroup.Plan(c, uid)
	return err == nil && need.Version != 0
}
