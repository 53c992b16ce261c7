//go:build !amd64

package initelf

import "debug/elf"

// machine and code are generated for amd64 only (code_amd64.go); elsewhere Image
// reports that there is no init.
const machine = elf.EM_NONE

var code []byte
