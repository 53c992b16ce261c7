package sandbox_test

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/sandboxtest"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestParseSpecTrailingData: a Spec's JSON is one object; what follows it, such as
// a second object that a reader might take for an override, is refused rather than
// ignored.
func TestParseSpecTrailingData(t *testing.T) {
	data, err := sandbox.NewBuilder().Spec().JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.ParseSpec(append(data, " \n\t"...)); err != nil {
		t.Fatalf("ParseSpec with trailing blank space: %v", err)
	}
	for _, tail := range []string{`{"privileged": true}`, `}`, `x`, `null`, "\x00"} {
		_, err := sandbox.ParseSpec(append(append([]byte(nil), data...), tail...))
		sandboxtest.SpecErrorFor(t, err, "json", "trailing data")
	}
}

// TestHostnameNUL: the kernel would keep a hostname with a NUL byte whole, while
// everything reading it stops at the NUL.
func TestHostnameNUL(t *testing.T) {
	_, err := sandbox.NewBuilder(sandbox.WithHostname("box\x00evil")).Build()
	sandboxtest.SpecErrorFor(t, err, "hostname", "NUL")
}
