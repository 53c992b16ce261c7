package emit

import (
	"os"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain runs the capability subprocess when the test binary is re-executed as one
// (see applyAndExec), and otherwise fails the run if the tests leave anything behind
// on the host.
func TestMain(m *testing.M) {
	if arg := os.Getenv(applyEnv); arg != "" {
		applyAndExec(arg)
		os.Exit(3) // not reached
	}
	testutil.Main(m)
}
