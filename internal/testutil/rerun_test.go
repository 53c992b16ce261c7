package testutil

import (
	"reflect"
	"testing"
)

// verbose is what a test binary run with -test.v printed for a test with a passing
// and two skipping subtests, and a second test that skipped.
const verbose = `=== RUN   TestA
    x_test.go:4: hello
=== RUN   TestA/sub
    x_test.go:5: inner log
    x_test.go:5: no feature X
=== RUN   TestA/ok
    x_test.go:6: fine
=== RUN   TestA/nest
=== RUN   TestA/nest/deep
    x_test.go:7: multi
        line reason
--- PASS: TestA (0.00s)
    --- SKIP: TestA/sub (0.00s)
    --- PASS: TestA/ok (0.00s)
    --- PASS: TestA/nest (0.00s)
        --- SKIP: TestA/nest/deep (0.00s)
=== RUN   TestB
    x_test.go:9: whole thing
--- SKIP: TestB (0.00s)
PASS
`

func TestParseVerbose(t *testing.T) {
	got := ParseVerbose(verbose)
	want := Results{
		Top:     map[string]string{"TestA": "PASS", "TestB": "SKIP"},
		TopSkip: map[string]string{"TestB": "x_test.go:9: whole thing"},
		Skipped: []Skip{
			{Name: "TestA/sub", Log: "x_test.go:5: inner log\nx_test.go:5: no feature X"},
			{Name: "TestA/nest/deep", Log: "x_test.go:7: multi\nline reason"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseVerbose:\n got %#v\nwant %#v", got, want)
	}
}
