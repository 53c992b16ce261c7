package seccomp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	moby "github.com/moby/profiles/seccomp"
	"golang.org/x/sys/unix"
)

// FuzzParseJSON: ParseJSON never panics and refuses only with an error matching
// ErrInvalidProfile; a profile it accepts compiles without panic (or is refused as
// too large for the kernel), and the compiled program runs in the interpreter.
func FuzzParseJSON(f *testing.F) {
	// Docker's whole profile, as its JSON file form, besides the committed corpus.
	if data, err := json.Marshal(moby.DefaultProfile()); err == nil {
		f.Add(data, "CAP_SYS_ADMIN,CAP_SYS_PTRACE")
	}
	f.Fuzz(func(t *testing.T, data []byte, capList string) {
		var capabilities []string
		if capList != "" {
			capabilities = strings.Split(capList, ",")
		}
		p, err := ParseJSON(data, capabilities)
		if err != nil {
			if !errors.Is(err, ErrInvalidProfile) {
				t.Fatalf("ParseJSON: %T %v does not match ErrInvalidProfile", err, err)
			}
			return
		}
		filter, err := Compile(p)
		if err != nil {
			if !errors.Is(err, ErrProgramTooLarge) {
				t.Fatalf("Compile of a profile ParseJSON accepted: %v", err)
			}
			return
		}
		arch := uint32(native.ID)
		for _, d := range []Data{
			{Nr: int32(unix.SYS_READ), Arch: arch},
			{Nr: int32(unix.SYS_IOCTL), Arch: arch, Args: [6]uint64{0, 0x5401}},
			{Nr: int32(unix.SYS_CLONE), Arch: arch, Args: [6]uint64{unix.CLONE_NEWUSER}},
			{Nr: int32(unix.SYS_PERSONALITY), Arch: arch, Args: [6]uint64{0xffffffff}},
			{Nr: 1 << 20, Arch: arch},
			{Nr: -1, Arch: arch},
			{Nr: int32(unix.SYS_READ), Arch: unix.AUDIT_ARCH_I386},
		} {
			filter.Evaluate(d)
		}
	})
}
