package oci

import (
	"strings"

	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// options are the parsed options of a mount.
type options struct {
	flags          uintptr // MS_* flags other than bind, rec and propagation
	bind           bool
	recursive      bool // rbind
	propagation    mounts.Propagation
	idmap          bool
	idmapRecursive bool // ridmap
	tmpcopyup      bool // see copyup.go
	data           []string
}

// flagOptions maps mount(8) flag options to their flag; clear removes it.
var flagOptions = map[string]struct {
	flag  uintptr
	clear bool
}{
	"ro": {unix.MS_RDONLY, false}, "rw": {unix.MS_RDONLY, true},
	"nosuid": {unix.MS_NOSUID, false}, "suid": {unix.MS_NOSUID, true},
	"nodev": {unix.MS_NODEV, false}, "dev": {unix.MS_NODEV, true},
	"noexec": {unix.MS_NOEXEC, false}, "exec": {unix.MS_NOEXEC, true},
	"noatime": {unix.MS_NOATIME, false}, "atime": {unix.MS_NOATIME, true},
	"nodiratime": {unix.MS_NODIRATIME, false}, "diratime": {unix.MS_NODIRATIME, true},
	"relatime": {unix.MS_RELATIME, false}, "norelatime": {unix.MS_RELATIME, true},
	"strictatime": {unix.MS_STRICTATIME, false}, "nostrictatime": {unix.MS_STRICTATIME, true},
	"sync": {unix.MS_SYNCHRONOUS, false}, "async": {unix.MS_SYNCHRONOUS, true},
	"dirsync": {unix.MS_DIRSYNC, false},
}

// atimeFlags are the flags of which a mount has one.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

// parseOptions reads a mount's options, as mount(8) does: a later option undoes an
// earlier one; options that are no flag are the filesystem's data. The recursive
// forms of OCI 1.1 (rro, rnosuid, ...) are the plain ones, since the child sets a
// bind's flags on every mount of a recursive bind anyway. Options a Spec cannot
// express are refused.
func parseOptions(field string, opts []string) (options, error) {
	var o options
	for _, opt := range opts {
		if err := o.add(field, opt); err != nil {
			return o, err
		}
	}
	return o, nil
}

// add applies one option.
func (o *options) add(field, opt string) error {
	name := opt
	if r, ok := strings.CutPrefix(opt, "r"); ok && recursiveForm(r) {
		name = r
	}
	if f, ok := flagOptions[name]; ok {
		if f.clear {
			o.flags &^= f.flag
		} else {
			if f.flag&atimeFlags != 0 {
				o.flags &^= atimeFlags
			}
			o.flags |= f.flag
		}
		return nil
	}
	switch p := mounts.Propagation(opt); {
	case opt == "defaults":
	case opt == "bind":
		o.bind = true
	case opt == "rbind":
		o.bind, o.recursive = true, true
	case opt == "tmpcopyup":
		o.tmpcopyup = true
	case opt == "idmap", opt == "ridmap":
		o.idmap, o.idmapRecursive = true, opt == "ridmap"
	case p.Flags() != 0:
		o.propagation = p
	case opt == "" || strings.ContainsAny(opt, ",\x00"):
		return invalid(field, "bad option %q", opt)
	case strings.Contains(opt, "="), opt == "newinstance":
		o.data = append(o.data, opt)
	default:
		return unsupported(field, "option %q: Paddock knows no such flag, and passes only key=value options and newinstance to a filesystem", opt)
	}
	return nil
}

// recursiveForm reports whether "r"+name is the recursive form of a flag option
// (rro, rnosuid, ratime, ...; OCI 1.1).
func recursiveForm(name string) bool {
	_, ok := flagOptions[name]
	return ok && name != "sync" && name != "async" && name != "dirsync"
}
