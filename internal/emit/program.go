package emit

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/plan"
	"golang.org/x/sys/unix"
)

// Start sets the parent-death signal (but in a detached sandbox) and, in fork
// mode, makes the child wait for the parent's release.
func Start(p *child.Program, pl *plan.Plan) {
	if pl.Spawn.ParentDeathSignal != 0 {
		p.Syscall("start", "set the parent-death signal", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(pl.Spawn.ParentDeathSignal))
	}
	if pl.Spawn.Mode != plan.Vfork {
		p.Append(child.Op{Kind: child.KindWaitParent}, "start", "wait for the parent to release the child")
	}
}

// JoinCgroups joins the cgroup the parent made for the start.
func JoinCgroups(p *child.Program) {
	p.Append(child.Op{Kind: child.KindJoinCgroups}, "cgroup", "join the sandbox's cgroup")
}

// SharedNetNS joins the Template's network namespace, open at fd.
func SharedNetNS(p *child.Program, fd uintptr) {
	p.Syscall("namespaces", "join the template's network namespace", 0, unix.SYS_SETNS, fd, unix.CLONE_NEWNET)
}

// Join joins the namespace of kind k at path, open at fd.
func Join(p *child.Program, k namespace.Kind, path string, fd uintptr) {
	p.Syscall("namespaces", fmt.Sprintf("join the %s namespace %s", k, path), 0, unix.SYS_SETNS, fd, k.CloneFlag())
}

// Namespaces creates the namespaces that clone3 did not: those a joined user
// namespace owns, then (after the ID maps of a new user namespace) the cgroup and
// time namespaces; it brings up the loopback of a new network namespace.
func Namespaces(p *child.Program, pl *plan.Plan, time *namespace.TimeOffsets) {
	var unshare uintptr
	for _, n := range pl.Namespaces {
		if n.By == plan.ByUnshare && n.Kind != namespace.Cgroup && n.Kind != namespace.Time {
			unshare |= uintptr(n.Kind.CloneFlag())
		}
	}
	if unshare != 0 {
		p.Syscall("namespaces", "create the namespaces the joined user namespace owns", 0, unix.SYS_UNSHARE, unshare)
	}
	if pl.Get(namespace.User).Mode == namespace.New {
		IDMaps(p, pl)
	}
	if pl.Get(namespace.Cgroup).Mode == namespace.New {
		p.Syscall("namespaces", "create the cgroup namespace", 0, unix.SYS_UNSHARE, unix.CLONE_NEWCGROUP)
	}
	if pl.Get(namespace.Time).Mode == namespace.New {
		timeNS(p, time)
	}
	if n := pl.Get(namespace.Net); n.Mode == namespace.New && n.By != plan.ByShared {
		p.Append(child.Op{Kind: child.KindLoopbackUp}, "network", "bring the loopback interface up")
	}
}

// timeNS creates the time namespace and writes its clock offsets, if any.
func timeNS(p *child.Program, o *namespace.TimeOffsets) {
	p.Syscall("namespaces", "create the time namespace", 0, unix.SYS_UNSHARE, unix.CLONE_NEWTIME)
	if o != nil && (o.Monotonic != 0 || o.Boottime != 0) {
		text := fmt.Sprintf("monotonic %d %d\nboottime %d %d\n",
			o.Monotonic/1e9, o.Monotonic%1e9, o.Boottime/1e9, o.Boottime%1e9)
		WriteFile(p, "namespaces", "/proc/self/timens_offsets", text)
	}
}

// IDMaps makes the child root of its new user namespace: in vfork mode it writes
// its own maps first (in fork mode the parent writes them while the child
// waits), it drops the caller's supplementary groups where setgroups is allowed,
// and where root inside is another user outside than the caller it sets the
// parent-death signal again, which the change of credentials cleared.
func IDMaps(p *child.Program, pl *plan.Plan) {
	ids := &pl.IDs
	if ids.Writer == plan.MapsByChild {
		WriteFile(p, "user namespace", "/proc/self/setgroups", namespace.SetgroupsDeny)
		WriteFile(p, "user namespace", "/proc/self/gid_map", string(namespace.FormatIDMap(ids.GIDMap)))
		WriteFile(p, "user namespace", "/proc/self/uid_map", string(namespace.FormatIDMap(ids.UIDMap)))
	}
	if ids.Setgroups == namespace.SetgroupsAllow {
		p.Syscall("user namespace", "drop supplementary groups", 0, unix.SYS_SETGROUPS, 0, 0)
	}
	p.Syscall("user namespace", "become group 0 of the namespace", 0, unix.SYS_SETRESGID, 0, 0, 0)
	p.Syscall("user namespace", "become user 0 of the namespace", 0, unix.SYS_SETRESUID, 0, 0, 0)
	if ids.Writer != plan.MapsByChild && ids.Writer != plan.MapsOwnIDs && pl.Spawn.ParentDeathSignal != 0 {
		p.Syscall("user namespace", "set the parent-death signal again", 0, unix.SYS_PRCTL, unix.PR_SET_PDEATHSIG, uintptr(pl.Spawn.ParentDeathSignal))
	}
}

// Hostname sets the Plan's hostname, or each start's own, and the domain name.
func Hostname(p *child.Program, pl *plan.Plan) {
	switch {
	case pl.Hostname != "":
		ptr, n := p.Bytes([]byte(pl.Hostname))
		p.Syscall("hostname", "set the hostname to "+pl.Hostname, 0, unix.SYS_SETHOSTNAME, ptr, n)
	case pl.OwnHostname:
		p.Append(child.Op{Kind: child.KindStartHostname}, "hostname", "set the hostname to the sandbox's own")
	}
	if pl.Domainname != "" {
		ptr, n := p.Bytes([]byte(pl.Domainname))
		p.Syscall("hostname", "set the domain name to "+pl.Domainname, 0, unix.SYS_SETDOMAINNAME, ptr, n)
	}
}

// Rlimits sets every limit of the Plan that the child sets.
func Rlimits(p *child.Program, limits []plan.Rlimit, resource func(string) int) {
	for _, r := range limits {
		if !r.Set {
			continue
		}
		lim := &unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		p.Syscall("rlimits", fmt.Sprintf("set %s to %d:%d", r.Type, r.Soft, r.Hard), 0,
			unix.SYS_PRLIMIT64, 0, uintptr(resource(r.Type)), child.Ptr(p, lim), 0)
	}
}

// Workdir changes to the working directory dir: inside the root, by its
// descriptors, in a new mount namespace, where no magic link can lead out of it
// (a working directory of /proc/self/fd/N was CVE-2024-21626).
func Workdir(p *child.Program, dir string, inRoot bool) {
	switch {
	case dir != "" && inRoot:
		op := child.Op{Kind: child.KindChdirIn, Ptr: unsafe.Pointer(p.InRoot(dir, child.CreateNone))}
		p.Append(op, "workdir", "change directory to "+dir)
	case dir != "":
		p.Syscall("workdir", "change directory to "+dir, 0, unix.SYS_CHDIR, p.CString(dir))
	}
}

// Terminal has a start with a terminal open it in the sandbox's own /dev/pts,
// after its root and mounts are in place and while the child is still root of
// the sandbox, and give it to the target's user uid.
func Terminal(p *child.Program, uid uint32) {
	op := child.Op{Kind: child.KindTerminalIn, Ptr: unsafe.Pointer(p.InRoot("/dev/pts", child.CreateNone))}
	op.Args[0] = child.NoChown
	if uid != 0 {
		op.Args[0] = uintptr(uid)
	}
	p.Append(op, "terminal", "open a pseudo-terminal in the sandbox's /dev/pts (a devpts)")
}

// Console binds the peer of the terminal that Terminal opened onto /dev/console,
// made as an empty file where missing, as runc makes a container's console; a
// start without a terminal skips it.
func Console(p *child.Program) {
	op := child.Op{Kind: child.KindBindIn, Ptr: unsafe.Pointer(p.InRoot("/dev/console", child.CreateFile))}
	op.Args[0] = child.SourceTerminal
	p.Append(op, "terminal", "bind the terminal onto /dev/console")
}

// User switches to the target's user after the setup that needs root. Keeping
// capabilities across the uid change lets the capability step decide what
// remains. Without groups of its own, the target drops the caller's where
// setgroups is allowed.
func User(p *child.Program, ids *plan.IDs) {
	if len(ids.Groups) > 0 {
		g := append([]uint32(nil), ids.Groups...)
		p.Keep(g)
		p.Syscall("user", fmt.Sprintf("set supplementary groups %v", ids.Groups), 0, unix.SYS_SETGROUPS, uintptr(len(g)), child.Ptr(p, &g[0]))
	} else if ids.Setgroups != namespace.SetgroupsDeny {
		p.Syscall("user", "drop supplementary groups", 0, unix.SYS_SETGROUPS, 0, 0)
	}
	p.Syscall("user", fmt.Sprintf("set gid %d", ids.Group), 0, unix.SYS_SETRESGID, uintptr(ids.Group), uintptr(ids.Group), uintptr(ids.Group))
	if ids.User != 0 {
		p.Syscall("user", "keep capabilities across the uid change", 0, unix.SYS_PRCTL, unix.PR_SET_KEEPCAPS, 1)
	}
	p.Syscall("user", fmt.Sprintf("set uid %d", ids.User), 0, unix.SYS_SETRESUID, uintptr(ids.User), uintptr(ids.User), uintptr(ids.User))
}

// Hold holds a start of a Plan that says so (plan.HoldBeforeExec) until it is
// released: the last op before the signal mask and execve. procfd is the procfs
// through which the child reaches the start's FIFO.
func Hold(p *child.Program, pl *plan.Plan, procfd uintptr) {
	if pl.Spawn.Hold == "" {
		return
	}
	op := child.Op{Kind: child.KindHold}
	op.Args[0] = procfd
	p.Append(op, "hold", "wait until a reader opens the start's FIFO")
}

// NoNewPrivs sets no_new_privs.
func NoNewPrivs(p *child.Program) {
	p.Syscall("no_new_privs", "set no_new_privs", 0, unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1)
}

// WriteFile writes text to the file at path.
func WriteFile(p *child.Program, stage, path, text string) {
	ptr, n := p.Bytes([]byte(text))
	var op child.Op
	op.Kind = child.KindWriteFile
	op.Args[0], op.Args[1], op.Args[2] = p.CString(path), ptr, n
	p.Append(op, stage, fmt.Sprintf("write %q to %s", strings.TrimSpace(text), path))
}

// Pool returns the segment that a pooled Template splices in at its pool point
// (see child.KindPool), with the detached mounts of p, whose segment it joins.
func Pool(p *child.Program) *child.Program {
	q := &child.Program{Detached: p.Detached}
	q.Append(child.Op{Kind: child.KindPool}, "pool", "wait in the pool for the command")
	return q
}
