package main

import (
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// The fuzz targets here run with -race (see .ci/run): this package links the
// sandbox's child, and go test -fuzz instruments it past the linker's nosplit
// limit unless the race build doubles that limit (sandbox/fuzz_test.go).

// FuzzParseSize: parseSize never panics, and a size it accepts is what the text
// says, computed without limits: never a wrapped number.
func FuzzParseSize(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		n, err := parseSize(v)
		if err != nil {
			return
		}
		num, shift := v, uint(0)
		if v != "" {
			if i := strings.IndexByte("bBkKmMgG", v[len(v)-1]); i >= 0 {
				num, shift = v[:len(v)-1], uint(10*(i/2))
			}
		}
		want, ok := new(big.Int).SetString(num, 10)
		if !ok || n < 0 || want.Lsh(want, shift).Cmp(big.NewInt(n)) != 0 {
			t.Fatalf("parseSize(%q) = %d; the text says %v", v, n, want)
		}
	})
}

// FuzzParseUser: parseUser never panics, and accepts only decimal IDs in
// 0..namespace.MaxID, which it returns as written.
func FuzzParseUser(f *testing.F) {
	f.Fuzz(func(t *testing.T, u string) {
		uid, gid, err := parseUser(u)
		if err != nil {
			return
		}
		us, gs, hasGID := strings.Cut(u, ":")
		if !hasGID {
			gs = us
		}
		for _, c := range []struct {
			text string
			id   uint32
		}{{us, uid}, {gs, gid}} {
			want, ok := new(big.Int).SetString(c.text, 10)
			if !ok || c.text == "" || c.text[0] == '+' || want.Cmp(big.NewInt(int64(c.id))) != 0 || c.id > namespace.MaxID {
				t.Fatalf("parseUser(%q) = %d, %d; the text says %q", u, uid, gid, c.text)
			}
		}
	})
}

// FuzzFlags: the command line (arguments separated by NUL bytes, which no argument
// can hold) goes through parseFlags, builder and the Spec's Validate without panic;
// Validate's refusals are typed, and a Spec that validates runs no user ID above
// namespace.MaxID. Nothing is built or started, and parsing writes nothing.
func FuzzFlags(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, "\x00")
		}
		o, _, err := parseFlags(args, io.Discard)
		if err != nil {
			return
		}
		b, err := builder(o)
		if err != nil {
			return
		}
		s := b.Spec()
		if err := s.Validate(); err != nil {
			if !errors.Is(err, sandbox.ErrInvalidSpec) && !errors.Is(err, sandbox.ErrNotSupported) {
				t.Fatalf("%q: Validate: %T %v matches neither ErrInvalidSpec nor ErrNotSupported", args, err, err)
			}
			return
		}
		if u := s.User; u != nil && (u.UID > namespace.MaxID || u.GID > namespace.MaxID) {
			t.Fatalf("%q: the Spec validates with user %+v", args, *u)
		}
	})
}
