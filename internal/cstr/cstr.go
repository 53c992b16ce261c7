// Package cstr lays out the C strings that the child hands to execve: the
// NULL-terminated argv and envp arrays, and the list of paths that execve tries
// for a program name, as execvp would, resolved inside the sandbox's root rather
// than on the host.
//
// The child cannot allocate, so everything is built before the clone, each array
// in one allocation for its bytes and one for its pointers.
package cstr

import "strings"

// An Array is a NULL-terminated array of C strings: its bytes, and pointers into
// them.
type Array struct {
	bytes []byte
	ptrs  []*byte
}

// Ptr returns the array as C's char **.
func (c *Array) Ptr() **byte { return &c.ptrs[0] }

// Ptrs returns the pointers to the strings, without a NULL terminator for a
// list of exec candidates.
func (c *Array) Ptrs() []*byte { return c.ptrs }

// NewArray returns ss as a NULL-terminated array of C strings.
func NewArray(ss []string) *Array {
	n := 0
	for _, s := range ss {
		n += len(s) + 1
	}
	c := &Array{bytes: make([]byte, n), ptrs: make([]*byte, len(ss)+1)}
	off := 0
	for i, s := range ss {
		copy(c.bytes[off:], s)
		c.ptrs[i] = &c.bytes[off]
		off += len(s) + 1
	}
	return c
}

// ExecCandidates returns the paths execve tries for name, as execvp would: name
// itself when it holds a slash, else name in each directory of dirs (the PATH).
// The lookup happens in the child, inside the sandbox's root, not on the host.
// Its pointers (Ptrs) have no NULL terminator.
func ExecCandidates(name string, dirs []string) *Array {
	if strings.IndexByte(name, '/') >= 0 {
		c := NewArray([]string{name})
		c.ptrs = c.ptrs[:1]
		return c
	}
	n := 0
	for _, d := range dirs {
		n += len(d) + 1 + len(name) + 1
	}
	c := &Array{bytes: make([]byte, n), ptrs: make([]*byte, len(dirs))}
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
