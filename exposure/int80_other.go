//go:build !amd64

package exposure

// i386Call reports that there is no i386 gate on this architecture.
func i386Call(nr int32, args [6]uint64) (ret, errno int, ok bool) { return -1, 0, false }
