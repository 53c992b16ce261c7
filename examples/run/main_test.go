package main

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain removes the default parent cgroups that the sandboxes started by these
// tests created, so that the tests leave the host's cgroups as they found them.
func TestMain(m *testing.M) { testutil.Main(m) }
