package mounts

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

func TestCheckTmpfsSize(t *testing.T) {
	for _, c := range []struct {
		size    string
		bytes   uint64
		percent bool
		bad     string // part of the reason, "" when valid
	}{
		{"1", 1, false, ""},
		{"64m", 64 << 20, false, ""},
		{"64M", 64 << 20, false, ""},
		{"2g", 2 << 30, false, ""},
		{"65536k", 64 << 20, false, ""},
		{"50%", 50, true, ""},
		{"100%", 100, true, ""},
		{"8589934591g", 8589934591 << 30, false, ""},
		{"9223372036854775807", 1<<63 - 1, false, ""},
		{"", 0, false, "want a whole number"},
		{"k", 0, false, "want a whole number"},
		{"64q", 0, false, "want a whole number"},
		{"-1", 0, false, "want a whole number"},
		{"+1", 0, false, "want a whole number"},
		{"1.5g", 0, false, "want a whole number"},
		{"64mm", 0, false, "want a whole number"},
		{"0x10", 0, false, "want a whole number"},
		{" 64m", 0, false, "want a whole number"},
		{"6\x004m", 0, false, "want a whole number"},
		{"６4m", 0, false, "want a whole number"},
		{"010m", 0, false, "octal"},
		{"0", 0, false, "no limit"},
		{"0%", 0, false, "no limit"},
		{"101%", 0, false, "100%"},
		{"18446744073709551616%", 0, false, "100%"},
		{"8589934592g", 0, false, "more than 9223372036854775807 bytes"},
		{"17179869185g", 0, false, "more than"},
		{"99999999999999999999999g", 0, false, "more than"},
		{"9223372036854775808", 0, false, "more than"},
		{"18446744073709551616", 0, false, "more than"},
	} {
		n, pct, err := parseTmpfsSize(c.size)
		if c.bad == "" {
			if err != nil || n != c.bytes || pct != c.percent {
				t.Errorf("parseTmpfsSize(%q) = %d, %v, %v; want %d, %v", c.size, n, pct, err, c.bytes, c.percent)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.bad) || !strings.Contains(err.Error(), strconv.Quote(c.size)) {
			t.Errorf("parseTmpfsSize(%q) = %d, %v; want an ErrInvalid naming the size and saying %q", c.size, n, err, c.bad)
		}
	}
	if err := (&Spec{Tmpfs: []Tmpfs{{Target: "/tmp", Size: "99999999999999999999999g"}}}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate of a tmpfs whose size wraps: %v", err)
	}
}

// FuzzTmpfsSize: parseTmpfsSize never panics, and a size it accepts is what the
// text says, computed without limits: its digits read as a decimal number, times
// the suffix's multiple.
func FuzzTmpfsSize(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, pct, err := parseTmpfsSize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("parseTmpfsSize(%q): %v does not match ErrInvalid", s, err)
			}
			return
		}
		want, ok := exactSize(s)
		if !ok || pct != strings.HasSuffix(s, "%") || want.Cmp(new(big.Int).SetUint64(n)) != 0 {
			t.Fatalf("parseTmpfsSize(%q) = %d, %v; the text says %v", s, n, pct, want)
		}
		if want.Sign() == 0 || !want.IsInt64() || s[0] == '0' {
			t.Fatalf("parseTmpfsSize(%q) accepted %v, which the kernel does not read as written", s, want)
		}
	})
}

// exactSize is the value of a tmpfs size in arbitrary precision: decimal digits and
// an optional k, m, g or % suffix.
func exactSize(s string) (*big.Int, bool) {
	shift := uint(0)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			shift = 10
		case 'm', 'M':
			shift = 20
		case 'g', 'G':
			shift = 30
		}
		if shift != 0 || s[len(s)-1] == '%' {
			s = s[:len(s)-1]
		}
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return nil, false
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, false
	}
	return v.Lsh(v, shift), true
}
