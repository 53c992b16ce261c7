//go:build amd64

// Command entry holds the source of Paddock's init, in entry_amd64.s. It is built
// only by the generator (../gen), which copies the machine code of its entry
// function out of the binary; running it does nothing useful.
package main

import "fmt"

// entry is the init's code (entry_amd64.s). It is never called from Go: the kernel
// starts it, as the entry point of an ELF image of its own.
func entry()

func main() {
	// Referencing entry keeps it in the binary for the generator to find.
	fmt.Printf("%p\n", entry)
}
