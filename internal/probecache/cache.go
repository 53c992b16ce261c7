// Package probecache remembers the answers of feature probes, per key, for the
// life of the process: a probe that clones a child or mounts something is paid for
// once per filesystem or mount, not once per Build.
package probecache

import "sync"

// A Cache holds the answers of one probe by key. The zero value is ready.
type Cache[K comparable] struct {
	m sync.Map // K -> answer
}

// answer wraps an error, so that a nil one (the probe passed) can be stored.
type answer struct{ err error }

// Do returns the answer kept for key, or runs probe and keeps its answer where it
// passed or where final says its refusal will not change (the kernel or the
// filesystem lacks the feature); any other error, which a retry may not meet, is
// returned without being kept.
func (c *Cache[K]) Do(key K, probe func() error, final func(error) bool) error {
	if v, ok := c.m.Load(key); ok {
		return v.(answer).err
	}
	err := probe()
	if err == nil || final(err) {
		c.m.Store(key, answer{err})
	}
	return err
}
