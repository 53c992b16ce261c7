package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

func BenchmarkCompileDefault(b *testing.B) {
	p := Default(dockerCaps)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Default(dockerCaps)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	f, err := Compile(Default(dockerCaps))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		d    Data
	}{
		{"read", Data{Nr: unix.SYS_READ, Arch: unix.AUDIT_ARCH_X86_64}},
		{"personality", Data{Nr: unix.SYS_PERSONALITY, Arch: unix.AUDIT_ARCH_X86_64, Args: [6]uint64{0xffffffff}}},
		{"unknown", Data{Nr: 1000, Arch: unix.AUDIT_ARCH_X86_64}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Evaluate(c.d)
			}
		})
	}
}
