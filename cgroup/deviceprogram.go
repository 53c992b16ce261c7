package cgroup

import (
	"fmt"
	"math"
	"strconv"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// A device program is a BPF_CGROUP_DEVICE program. The kernel runs it on every
// mknod and open of a device node by a process of the cgroup, with R1 pointing at
// a struct bpf_cgroup_dev_ctx:
//
//	u32 access_type  device type (BPF_DEVCG_DEV_BLOCK, _CHAR) in the low 16 bits,
//	                 requested access (BPF_DEVCG_ACC_MKNOD, _READ, _WRITE) in the high 16
//	u32 major
//	u32 minor
//
// and allows the access when the program returns 1, denies it when it returns 0.

// deviceProgramLicense is the license the program is loaded under; the program
// calls no helper, so none restricted to GPL programs.
const deviceProgramLicense = "Apache-2.0"

// accessAll is every access a device program is asked about.
const accessAll = unix.BPF_DEVCG_ACC_MKNOD | unix.BPF_DEVCG_ACC_READ | unix.BPF_DEVCG_ACC_WRITE

// A deviceMatch is one test of a device program: the devices and accesses it
// matches and the verdict it returns for them.
type deviceMatch struct {
	allow        bool
	typ          int32 // BPF_DEVCG_DEV_BLOCK or _CHAR; 0 matches both
	major, minor int64 // Wildcard matches every number
	access       int32 // BPF_DEVCG_ACC_* bits; a request matches when it shares one
}

// matchesAll reports whether m matches every request, so that no earlier rule
// is ever tried.
func (m deviceMatch) matchesAll() bool {
	return m.typ == 0 && m.major == Wildcard && m.minor == Wildcard && m.access == accessAll
}

// deviceMatches converts rules to the program's tests, in rule order; the program
// tries them last to first and the first that matches decides.
//
// A test matches a request that shares an access bit with it, where the v1
// controller allows only a request contained in an allow rule's access: opening
// with O_RDWR asks for "rw" at once, so "allow c 1:3 r" alone would let a
// read-write open through. Each allow rule granting one of r and w is therefore
// followed by a deny test of the other for the same devices, tried just before
// it. That can only refuse more: it is exact unless another rule for the same
// devices grants the missing access earlier in the list, which is then refused to
// read-write opens (v1 would merge the two). A type "a" rule matches every
// request.
func deviceMatches(rules []DeviceRule) ([]deviceMatch, error) {
	out := make([]deviceMatch, 0, len(rules))
	for _, r := range rules {
		m, err := newDeviceMatch(r)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		read, write := m.access&unix.BPF_DEVCG_ACC_READ != 0, m.access&unix.BPF_DEVCG_ACC_WRITE != 0
		if r.Allow && read != write {
			missing := deviceMatch{typ: m.typ, major: m.major, minor: m.minor, access: unix.BPF_DEVCG_ACC_WRITE}
			if write {
				missing.access = unix.BPF_DEVCG_ACC_READ
			}
			out = append(out, missing)
		}
	}
	return out, nil
}

// newDeviceMatch converts one rule. Numbers above 32 bits, which the kernel's u32
// fields cannot hold, are refused.
func newDeviceMatch(r DeviceRule) (deviceMatch, error) {
	m := deviceMatch{allow: r.Allow, major: Wildcard, minor: Wildcard, access: accessAll}
	switch r.Type {
	case "a":
		return m, nil
	case "c":
		m.typ = unix.BPF_DEVCG_DEV_CHAR
	case "b":
		m.typ = unix.BPF_DEVCG_DEV_BLOCK
	default:
		return m, fmt.Errorf("device rule %v: type %q is not a, b or c", r, r.Type)
	}
	if r.Major > math.MaxUint32 || r.Minor > math.MaxUint32 {
		return m, fmt.Errorf("device rule %v: a device number above 32 bits", r)
	}
	m.major, m.minor, m.access = r.Major, r.Minor, 0
	for _, c := range r.Access {
		switch c {
		case 'r':
			m.access |= unix.BPF_DEVCG_ACC_READ
		case 'w':
			m.access |= unix.BPF_DEVCG_ACC_WRITE
		case 'm':
			m.access |= unix.BPF_DEVCG_ACC_MKNOD
		default:
			return m, fmt.Errorf("device rule %v: access %q is not a combination of r, w and m", r, r.Access)
		}
	}
	return m, nil
}

// The registers the program's prologue fills from bpf_cgroup_dev_ctx; R1, the
// context pointer, is free afterwards and holds intermediate values.
const (
	regType   = asm.R2
	regAccess = asm.R3
	regMajor  = asm.R4
	regMinor  = asm.R5
)

// deviceProgram compiles rules to a device program: a prologue that loads the
// request into registers, then one block per test from the last to the first,
// each returning its verdict when the request matches and jumping to the next
// block when not, then a final block that denies what no rule matched. Blocks
// after one that matches everything are never reached and not emitted.
func deviceProgram(rules []DeviceRule) (asm.Instructions, error) {
	matches, err := deviceMatches(rules)
	if err != nil {
		return nil, err
	}
	insts := asm.Instructions{
		asm.LoadMem(regType, asm.R1, 0, asm.Word),
		asm.Mov.Reg(regAccess, regType),
		asm.And.Imm(regType, 0xffff),
		asm.RSh.Imm(regAccess, 16),
		asm.LoadMem(regMajor, asm.R1, 4, asm.Word),
		asm.LoadMem(regMinor, asm.R1, 8, asm.Word),
	}
	for i := len(matches) - 1; i >= 0; i-- {
		insts = matches[i].emit(insts, blockLabel(i), blockLabel(i-1))
		if matches[i].matchesAll() {
			return insts, nil
		}
	}
	return emitBlock(insts, blockLabel(-1), verdict(false)...), nil
}

// blockLabel names the block of test i; -1 names the final, denying block.
func blockLabel(i int) string {
	if i < 0 {
		return "no_match"
	}
	return "test_" + strconv.Itoa(i)
}

// emit appends m's block, labelled label, which jumps to next when the request
// does not match.
func (m deviceMatch) emit(insts asm.Instructions, label, next string) asm.Instructions {
	var block asm.Instructions
	if m.typ != 0 {
		block = append(block, asm.JNE.Imm(regType, m.typ, next))
	}
	if m.access != accessAll {
		block = append(block,
			asm.Mov.Reg32(asm.R1, regAccess),
			asm.And.Imm32(asm.R1, m.access),
			asm.JEq.Imm(asm.R1, 0, next))
	}
	// The numbers are compared as the kernel's u32 (BPF_JMP32, Linux 5.1).
	if m.major != Wildcard {
		block = append(block, asm.JNE.Imm32(regMajor, int32(uint32(m.major)), next))
	}
	if m.minor != Wildcard {
		block = append(block, asm.JNE.Imm32(regMinor, int32(uint32(m.minor)), next))
	}
	return emitBlock(insts, label, append(block, verdict(m.allow)...)...)
}

// emitBlock appends block to insts with label on its first instruction.
func emitBlock(insts asm.Instructions, label string, block ...asm.Instruction) asm.Instructions {
	block[0] = block[0].WithSymbol(label)
	return append(insts, block...)
}

// verdict returns the instructions that end the program with an access allowed
// (1) or denied (0).
func verdict(allow bool) asm.Instructions {
	v := int32(0)
	if allow {
		v = 1
	}
	return asm.Instructions{asm.Mov.Imm32(asm.R0, v), asm.Return()}
}
