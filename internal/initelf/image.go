package initelf

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"runtime"
)

// Name is the init's argv[0], what /proc/1/cmdline shows first.
const Name = "paddock-init"

// The image: the ELF header, two program headers (the one PT_LOAD that maps the
// whole file, and PT_GNU_STACK), then the code, whose first byte is the entry.
const (
	ehdrSize   = 64
	phdrSize   = 56
	codeOffset = ehdrSize + 2*phdrSize
)

// Image returns the init as an ELF executable: position-independent (ET_DYN
// without an interpreter, so the kernel places it at a random address), one
// read-and-execute segment, a non-executable stack. It is the same on every call.
func Image() ([]byte, error) {
	if len(code) == 0 {
		return nil, &UnsupportedError{Reason: "no init for " + runtime.GOARCH + " (amd64 only)"}
	}
	size := uint64(codeOffset + len(code))
	h := elf.Header64{
		Type:      uint16(elf.ET_DYN),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     codeOffset,
		Phoff:     ehdrSize,
		Ehsize:    ehdrSize,
		Phentsize: phdrSize,
		Phnum:     2,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	h.Ident[elf.EI_OSABI] = byte(elf.ELFOSABI_NONE)
	load := elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	}
	stack := elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W), Align: 16}
	var b bytes.Buffer
	for _, v := range []any{h, load, stack} {
		binary.Write(&b, binary.LittleEndian, v) // fixed-size structs: cannot fail
	}
	b.Write(code)
	return b.Bytes(), nil
}
