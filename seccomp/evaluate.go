package seccomp

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Data mirrors struct seccomp_data, what a filter sees of a system call.
type Data struct {
	// Nr is the system call number (with the x32 bit for x32 calls).
	Nr int32
	// Arch is the AUDIT_ARCH_* value of the calling convention.
	Arch uint32
	// InstructionPointer is the address of the system call instruction.
	InstructionPointer uint64
	// Args are the six raw register arguments.
	Args [6]uint64
}

const sizeofData = 64

// word returns the 32-bit word at byte offset k of struct seccomp_data, as the kernel
// reads it (native byte order; k is 4-aligned and below 64).
func (d *Data) word(k uint32) uint32 {
	switch {
	case k == 0:
		return uint32(d.Nr)
	case k == 4:
		return d.Arch
	case k < offArgs:
		return half(d.InstructionPointer, k-8)
	default:
		return half(d.Args[(k-offArgs)/8], (k-offArgs)%8)
	}
}

// half returns the 32-bit word at byte offset off (0 or 4) of a 64-bit value in
// native byte order.
func half(v uint64, off uint32) uint32 {
	if (off == 0) == littleEndian {
		return uint32(v)
	}
	return uint32(v >> 32)
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Evaluate runs the filter on d exactly as the kernel runs a seccomp filter and
// returns the resulting action with its errno (SECCOMP_RET_ERRNO, capped at 4095 as
// the kernel does) or trace data; the errno is 0 for other actions. A return value
// with an unknown action is reported as ActKillProcess, the kernel's treatment.
func (f *Filter) Evaluate(d Data) (Action, uint16) {
	ret, err := run(f.Program, &d)
	if err != nil {
		return ActKillProcess, 0
	}
	return decode(ret)
}

// EvaluateReads is Evaluate that also reports what of d the filter read on its
// way to the answer: bit i of reads is set where it read argument i, bit 6 where
// it read the instruction pointer. An answer that read none of them is the
// filter's answer for the system call number alone, whatever its arguments, as
// the kernel's action cache finds it.
func (f *Filter) EvaluateReads(d Data) (act Action, errno uint16, reads uint8) {
	ret, err := trace(f.Program, &d, &reads)
	if err != nil {
		return ActKillProcess, 0, reads
	}
	act, errno = decode(ret)
	return act, errno, reads
}

// decode splits a filter's return value into an action and its data.
func decode(ret uint32) (Action, uint16) {
	data := uint16(ret & retData)
	switch ret & retActionFull {
	case retAllow:
		return ActAllow, 0
	case retErrno:
		return ActErrno, min(data, 4095)
	case retKillProcess:
		return ActKillProcess, 0
	case retKillThread:
		return ActKillThread, 0
	case retTrap:
		return ActTrap, 0
	case retLog:
		return ActLog, 0
	case retTrace:
		return ActTrace, data
	case retUserNotif:
		return ActNotify, 0
	}
	return ActKillProcess, 0
}

// errBadProgram reports a program the kernel would refuse to load.
var errBadProgram = errors.New("invalid seccomp BPF program")

// check verifies prog as seccomp_check_filter and bpf_check_classic do: length,
// opcodes seccomp permits, aligned in-bounds loads of seccomp_data, scratch memory
// indices, jump targets within the program, constant divisors and shifts, and a
// final return.
func check(prog []unix.SockFilter) error {
	n := len(prog)
	if n == 0 || n > maxInsns {
		return fmt.Errorf("%w: length %d", errBadProgram, n)
	}
	for pc, in := range prog {
		bad := func(why string) error {
			return fmt.Errorf("%w: instruction %d (code %#x k %#x): %s", errBadProgram, pc, in.Code, in.K, why)
		}
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			if in.K%4 != 0 || in.K >= sizeofData {
				return bad("load outside seccomp_data")
			}
		case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN, unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN,
			unix.BPF_RET | unix.BPF_K, unix.BPF_RET | unix.BPF_A,
			unix.BPF_LD | unix.BPF_IMM, unix.BPF_LDX | unix.BPF_IMM,
			unix.BPF_MISC | unix.BPF_TAX, unix.BPF_MISC | unix.BPF_TXA,
			unix.BPF_ALU | unix.BPF_NEG:
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
			if in.K >= 16 {
				return bad("scratch memory index")
			}
		case unix.BPF_ALU | unix.BPF_DIV | unix.BPF_K:
			if in.K == 0 {
				return bad("division by zero")
			}
		case unix.BPF_ALU | unix.BPF_LSH | unix.BPF_K, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K:
			if in.K >= 32 {
				return bad("shift too large")
			}
		case unix.BPF_ALU | unix.BPF_ADD | unix.BPF_K, unix.BPF_ALU | unix.BPF_ADD | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_SUB | unix.BPF_K, unix.BPF_ALU | unix.BPF_SUB | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_MUL | unix.BPF_K, unix.BPF_ALU | unix.BPF_MUL | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_DIV | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_AND | unix.BPF_K, unix.BPF_ALU | unix.BPF_AND | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_OR | unix.BPF_K, unix.BPF_ALU | unix.BPF_OR | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_XOR | unix.BPF_K, unix.BPF_ALU | unix.BPF_XOR | unix.BPF_X,
			unix.BPF_ALU | unix.BPF_LSH | unix.BPF_X, unix.BPF_ALU | unix.BPF_RSH | unix.BPF_X:
		case unix.BPF_JMP | unix.BPF_JA:
			if uint64(pc)+1+uint64(in.K) >= uint64(n) {
				return bad("jump out of the program")
			}
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_X:
			if pc+1+int(max(in.Jt, in.Jf)) >= n {
				return bad("jump out of the program")
			}
		default:
			return bad("opcode not permitted in seccomp filters")
		}
	}
	if prog[n-1].Code&0x07 != unix.BPF_RET {
		return fmt.Errorf("%w: last instruction is not a return", errBadProgram)
	}
	return nil
}

// run interprets prog on d with the kernel's semantics: 32-bit A and X registers,
// 16 words of scratch memory, unsigned comparisons, A/0 ending the program with 0.
func run(prog []unix.SockFilter, d *Data) (uint32, error) { return trace(prog, d, nil) }

// trace is run that sets, in reads where not nil, bit i for each argument i
// that a load read and bit 6 for the instruction pointer.
func trace(prog []unix.SockFilter, d *Data, reads *uint8) (uint32, error) {
	if err := check(prog); err != nil {
		return 0, err
	}
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		src := in.K
		if in.Code&unix.BPF_X != 0 && in.Code&0x07 != unix.BPF_LDX && in.Code&0x07 != unix.BPF_STX && in.Code&0x07 != unix.BPF_RET {
			src = x
		}
		switch in.Code & 0x07 {
		case unix.BPF_LD:
			switch in.Code & 0xe0 {
			case unix.BPF_ABS:
				a = d.word(in.K)
				noteRead(reads, in.K)
			case unix.BPF_LEN:
				a = sizeofData
			case unix.BPF_IMM:
				a = in.K
			case unix.BPF_MEM:
				a = mem[in.K]
			}
		case unix.BPF_LDX:
			switch in.Code & 0xe0 {
			case unix.BPF_LEN:
				x = sizeofData
			case unix.BPF_IMM:
				x = in.K
			case unix.BPF_MEM:
				x = mem[in.K]
			}
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_STX:
			mem[in.K] = x
		case unix.BPF_ALU:
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += src
			case unix.BPF_SUB:
				a -= src
			case unix.BPF_MUL:
				a *= src
			case unix.BPF_DIV:
				if src == 0 {
					return 0, nil
				}
				a /= src
			case unix.BPF_AND:
				a &= src
			case unix.BPF_OR:
				a |= src
			case unix.BPF_XOR:
				a ^= src
			case unix.BPF_LSH:
				a <<= src & 31
			case unix.BPF_RSH:
				a >>= src & 31
			case unix.BPF_NEG:
				a = -a
			}
		case unix.BPF_JMP:
			var taken bool
			switch in.Code & 0xf0 {
			case unix.BPF_JA:
				pc += int(in.K)
				continue
			case unix.BPF_JEQ:
				taken = a == src
			case unix.BPF_JGT:
				taken = a > src
			case unix.BPF_JGE:
				taken = a >= src
			case unix.BPF_JSET:
				taken = a&src != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET:
			if in.Code&0x18 == unix.BPF_A {
				return a, nil
			}
			return in.K, nil
		case unix.BPF_MISC:
			if in.Code&0xf8 == unix.BPF_TXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, fmt.Errorf("%w: ran off the end", errBadProgram)
}

// noteRead sets in reads the bit of what a load at offset k of struct
// seccomp_data read: argument (k-16)/8, or bit 6 for the instruction pointer.
func noteRead(reads *uint8, k uint32) {
	switch {
	case reads == nil || k < 8:
	case k < offArgs:
		*reads |= 1 << 6
	default:
		*reads |= 1 << ((k - offArgs) / 8)
	}
}
