package image_test

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the tests leave anything behind on the host.
func TestMain(m *testing.M) { testutil.Main(m) }
