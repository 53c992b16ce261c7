package sandbox

import (
	"os"
	"runtime"
	"strconv"

	"github.com/paddock-sandbox/paddock/namespace"
	"golang.org/x/sys/unix"
)

// The owners of a root caller's copies. The tmpfs belongs to the sandbox's
// user namespace, where the kernel lets a process make files only under IDs
// the namespace maps (EOVERFLOW otherwise): where the sandbox's root is not
// host root (a map of other host IDs, an automatic range, a joined
// namespace), the parent copies on a thread locked to it whose filesystem IDs
// are those of the sandbox's root, with its effective capabilities raised
// back (setfsuid drops them), and sets them back to root's afterwards. Each copy
// then gets its source's owner where the namespace maps it: the owner on the
// host, or, from idmapped layers, the host ID that the owner inside stands
// for; a source owned by an ID the namespace does not map (it shows as the
// overflow ID inside) is copied as the sandbox root's.

// copyOwners maps the owners of a root caller's sources to those of its
// copies, with the maps of the sandbox's user namespace as the host sees them.
type copyOwners struct {
	uidMap, gidMap []namespace.IDMap
	idmapped       bool // the layers are idmapped: an owner n stands for MapToHost(n)
}

// readOwners reads the ID maps of the child pid's user namespace.
func readOwners(pid int, idmapped bool) (*copyOwners, error) {
	o := &copyOwners{idmapped: idmapped}
	for _, f := range []struct {
		name string
		m    *[]namespace.IDMap
	}{{"uid_map", &o.uidMap}, {"gid_map", &o.gidMap}} {
		name := "/proc/" + strconv.Itoa(pid) + "/" + f.name
		text, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if *f.m, err = namespace.ParseIDMap(text); err != nil {
			return nil, &os.PathError{Op: "parse", Path: name, Err: err}
		}
	}
	return o, nil
}

// root returns the host IDs of the sandbox's root.
func (o *copyOwners) root() (uid, gid uint32, ok bool) {
	uid, uok := namespace.MapToHost(o.uidMap, 0)
	gid, gok := namespace.MapToHost(o.gidMap, 0)
	return uid, gid, uok && gok
}

// owner returns the host IDs a copy of a source owned by uid and gid gets,
// and false where the namespace maps either not.
func (o *copyOwners) owner(uid, gid uint32) (uint32, uint32, bool) {
	if o.idmapped {
		u, uok := namespace.MapToHost(o.uidMap, uid)
		g, gok := namespace.MapToHost(o.gidMap, gid)
		return u, g, uok && gok
	}
	return uid, gid, hostMapped(o.uidMap, uid) && hostMapped(o.gidMap, gid)
}

// hostMapped reports whether the host ID id is mapped by m.
func hostMapped(m []namespace.IDMap, id uint32) bool {
	for _, e := range m {
		if id >= e.HostID && id-e.HostID < e.Size {
			return true
		}
	}
	return false
}

// asIDs runs f on a thread of its own whose filesystem IDs are uid and gid,
// with its permitted capabilities effective, and sets both back before it lets
// another goroutine run there. The thread is not let go to end either, though
// a goroutine that exits locked to it would take it along: it may be the
// thread that cloned a sandbox, whose parent-death signal would kill the
// sandbox with it. Only where the IDs cannot be set back does the thread end.
func asIDs(uid, gid uint32, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		saved, err := getCaps()
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		err = switchIDs(uid, gid, f)
		if rerr := restoreIDs(saved); rerr != nil {
			if err == nil {
				err = rerr
			}
			done <- err
			return // still locked: the thread ends with the goroutine
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// switchIDs sets the calling thread's filesystem IDs and raises its
// effective capabilities back, then runs f.
func switchIDs(uid, gid uint32, f func() error) error {
	unix.Setfsgid(int(gid))
	unix.Setfsuid(int(uid))
	if err := checkFSIDs(uid, gid); err != nil {
		return err
	}
	caps, err := getCaps()
	if err != nil {
		return err
	}
	for i := range caps {
		caps[i].Effective = caps[i].Permitted
	}
	if err := setCaps(caps); err != nil {
		return err
	}
	return f()
}

// restoreIDs sets the calling thread's filesystem IDs back to root's and its
// capabilities back to saved.
func restoreIDs(saved [2]unix.CapUserData) error {
	unix.Setfsuid(0)
	unix.Setfsgid(0)
	if err := checkFSIDs(0, 0); err != nil {
		return err
	}
	return setCaps(saved)
}

// checkFSIDs checks the calling thread's filesystem IDs: setfsuid and
// setfsgid report no failure, and an invalid ID (-1) changes nothing and
// returns the current one.
func checkFSIDs(uid, gid uint32) error {
	if cur, _ := unix.SetfsuidRetUid(-1); cur != int(uid) {
		return &os.SyscallError{Syscall: "setfsuid", Err: unix.EPERM}
	}
	if cur, _ := unix.SetfsgidRetGid(-1); cur != int(gid) {
		return &os.SyscallError{Syscall: "setfsgid", Err: unix.EPERM}
	}
	return nil
}

// getCaps returns the calling thread's capability sets.
func getCaps() ([2]unix.CapUserData, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return data, &os.SyscallError{Syscall: "capget", Err: err}
	}
	return data, nil
}

// setCaps sets the calling thread's capability sets.
func setCaps(data [2]unix.CapUserData) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return &os.SyscallError{Syscall: "capset", Err: err}
	}
	return nil
}
