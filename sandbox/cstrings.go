package sandbox

import "strings"

// cArrayBuf is a NULL-terminated array of C strings in one allocation for the bytes
// and one for the pointers.
type cArrayBuf struct {
	bytes []byte
	ptrs  []*byte
}

func (c *cArrayBuf) ptr() **byte { return &c.ptrs[0] }

func cArray(ss []string) *cArrayBuf {
	n := 0
	for _, s := range ss {
		n += len(s) + 1
	}
	c := &cArrayBuf{bytes: make([]byte, n), ptrs: make([]*byte, len(ss)+1)}
	off := 0
	for i, s := range ss {
		copy(c.bytes[off:], s)
		c.ptrs[i] = &c.bytes[off]
		off += len(s) + 1
	}
	return c
}

// execCandidates returns the paths execve tries for name, as execvp would: name
// itself when it holds a slash, else name in each directory of PATH. The lookup
// happens in the child, inside the sandbox's root, not on the host.
func execCandidates(name string, dirs []string) *cArrayBuf {
	if strings.IndexByte(name, '/') >= 0 {
		c := cArray([]string{name})
		c.ptrs = c.ptrs[:1]
		return c
	}
	n := 0
	for _, d := range dirs {
		n += len(d) + 1 + len(name) + 1
	}
	c := &cArrayBuf{bytes: make([]byte, n), ptrs: make([]*byte, len(dirs))}
	off := 0
	for i, d := range dirs {
		c.ptrs[i] = &c.bytes[off]
		off += copy(c.bytes[off:], d)
		c.bytes[off] = '/'
		off++
		off += copy(c.bytes[off:], name)
		off++ // NUL
	}
	return c
}
