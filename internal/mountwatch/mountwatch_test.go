package mountwatch

import (
	"testing"

	"github.com/paddock-sandbox/paddock/internal/bootcache"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the tests leave anything behind on the host.
func TestMain(m *testing.M) { testutil.Main(m) }

// TestListmountBootCache: the probe's pass goes to the boot cache and is believed
// from there; an entry it never writes is not, and a failed comparison writes
// nothing.
func TestListmountBootCache(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		t.Setenv(bootcache.EnvOff, "")
		t.Cleanup(bootcache.UseDir(t.TempDir()))
		want := compareListmount()
		if !want {
			if probeListmount() {
				t.Fatal("the probe passed where listmount and mountinfo disagree")
			}
			if _, ok := bootcache.Load(listmountCacheName); ok {
				t.Error("a failed probe wrote the cache")
			}
			t.Skip("listmount(2) listing every mount (Linux 6.8): not on this kernel")
		}
		if !probeListmount() {
			t.Fatal("the probe failed where listmount and mountinfo agree")
		}
		if v, ok := bootcache.Load(listmountCacheName); !ok || v != "complete" {
			t.Fatalf("the cache holds %q (%v), want complete", v, ok)
		}
		if !probeListmount() {
			t.Error("the probe failed with its pass in the cache")
		}
		bootcache.Store(listmountCacheName, "partial")
		if !probeListmount() {
			t.Error("the probe failed after an entry it never writes")
		}
		if v, _ := bootcache.Load(listmountCacheName); v != "complete" {
			t.Errorf("the foreign entry was not replaced: %q", v)
		}
	})
}
