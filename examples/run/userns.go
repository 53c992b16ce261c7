package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// usernsOption turns --userns auto[:size=N] or keep-id into options, as Podman
// reads them: for root, auto draws a block of the subordinate IDs of
// namespace.AutoUser for each sandbox; for anyone else it maps the caller's own
// subordinate ranges, and keep-id keeps the caller's own uid and gid inside and
// runs the command as them.
func usernsOption(v string) ([]sandbox.Option, error) {
	mode, args, _ := strings.Cut(v, ":")
	uid, gid := os.Geteuid(), os.Getegid()
	switch mode {
	case "auto":
		size, err := autoSize(args)
		if err != nil {
			return nil, fmt.Errorf("--userns %q: %w", v, err)
		}
		if uid == 0 {
			return []sandbox.Option{sandbox.WithAutoUserNS(namespace.AutoRange{Size: size})}, nil
		}
		if size != 0 {
			return nil, fmt.Errorf("--userns %q: size is for a root caller, whose blocks it sizes; yours are your subordinate ranges", v)
		}
		u, g, err := namespace.DefaultRangeMaps(uid, gid)
		if err != nil {
			return nil, fmt.Errorf("--userns auto: %w", err)
		}
		return []sandbox.Option{sandbox.WithUserNS(u, g)}, nil
	case "keep-id":
		if args != "" {
			return nil, fmt.Errorf("--userns %q: keep-id takes no options", v)
		}
		u, g, err := namespace.KeepIDMaps(uid, gid)
		if err != nil {
			return nil, fmt.Errorf("--userns keep-id: %w", err)
		}
		// As Podman: the command runs as the caller's own IDs unless --user says
		// otherwise (it comes later, and wins).
		return []sandbox.Option{sandbox.WithUserNS(u, g), sandbox.WithUser(uint32(uid), uint32(gid))}, nil
	}
	return nil, fmt.Errorf("--userns %q: want host, auto[:size=N] or keep-id", v)
}

// autoSize reads the options of --userns auto: size=N, how many IDs a block maps.
func autoSize(args string) (uint32, error) {
	if args == "" {
		return 0, nil
	}
	k, n, _ := strings.Cut(args, "=")
	if k != "size" {
		return 0, fmt.Errorf("unknown option %q (want size=N)", k)
	}
	size, err := strconv.ParseUint(n, 10, 32)
	if err != nil || size == 0 || size > namespace.MaxID {
		return 0, fmt.Errorf("size %q: want 1..%d", n, namespace.MaxID)
	}
	return uint32(size), nil
}

// volumeOption turns -v SRC:DST[:OPTIONS] into a bind, OPTIONS a comma-separated
// list of ro, rw and idmap.
func volumeOption(v string) (sandbox.Option, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("-v %q: want SRC:DST[:ro|rw][,idmap]", v)
	}
	ro, idmap := false, false
	if len(parts) == 3 {
		for _, o := range strings.Split(parts[2], ",") {
			switch o {
			case "ro":
				ro = true
			case "rw":
				ro = false
			case "idmap":
				idmap = true
			default:
				return nil, fmt.Errorf("-v %q: unknown option %q (want ro, rw or idmap)", v, o)
			}
		}
	}
	if idmap {
		return sandbox.WithIDMappedBind(parts[0], parts[1], ro), nil
	}
	return sandbox.WithBind(parts[0], parts[1], ro), nil
}
