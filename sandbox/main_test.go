package sandbox_test

import (
	"os"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveCgroupParents()
	os.Exit(code)
}
