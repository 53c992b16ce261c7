package adversarial_test

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the battery leaves anything behind on the host.
func TestMain(m *testing.M) { testutil.Main(m) }
