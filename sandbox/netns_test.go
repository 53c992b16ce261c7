package sandbox_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// TestLoopbackUp: a new network namespace has its loopback interface up, as with
// podman's --net none (IFF_UP|IFF_LOOPBACK = 0x9 in /sys/class/net/lo/flags).
func TestLoopbackUp(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		out, st := run(t, nil, "/bin/cat", "/sys/class/net/lo/flags")
		if !st.Success() || strings.TrimSpace(out) != "0x9" {
			t.Fatalf("lo flags inside: %v %q", st, out)
		}
	})
}

func TestSharedNetNS(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		if testutil.Rootless() {
			_, err := sandbox.NewBuilder(sandbox.WithSharedNetNS()).Build()
			var ue *sandbox.SpecError
			if !errors.Is(err, sandbox.ErrNotSupported) || !errors.As(err, &ue) || ue.Field != "sharedNetNS" {
				t.Fatalf("a shared network namespace without root: %v", err)
			}
			return
		}
		host, _ := os.Readlink("/proc/self/ns/net")
		inode := func(opts ...sandbox.Option) []string {
			tpl, err := sandbox.NewBuilder(opts...).Build()
			if err != nil {
				t.Fatal(err)
			}
			defer tpl.Close()
			var got []string
			for i := 0; i < 2; i++ {
				out, st := runTemplate(t, tpl, "/bin/sh", "-c", "readlink /proc/self/ns/net; cat /sys/class/net/lo/flags")
				if !st.Success() {
					t.Fatalf("%v: %s", st, out)
				}
				f := strings.Fields(out)
				if len(f) != 2 || f[1] != "0x9" {
					t.Fatalf("inside: %q", out)
				}
				got = append(got, f[0])
			}
			return got
		}
		a := inode(sandbox.WithSharedNetNS())
		b := inode(sandbox.WithSharedNetNS())
		fresh := inode()
		if a[0] != a[1] {
			t.Errorf("two starts of one Template are in different network namespaces: %v", a)
		}
		if a[0] == b[0] || a[0] == host {
			t.Errorf("shared namespaces: template A %s, template B %s, host %s", a[0], b[0], host)
		}
		if fresh[0] == fresh[1] {
			t.Errorf("without sharing, two starts got the same network namespace %s", fresh[0])
		}
	})
}
