//go:build !amd64

package main

// int80 reports that the i386 system call gate exists only on amd64.
func int80(nr uint32) (int32, bool) { return 0, false }
