package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paddock-sandbox/paddock/internal/testutil"
	"github.com/paddock-sandbox/paddock/sandbox"
)

// pooled builds a Template from opts with a pool of n and waits until it is
// full.
func pooled(t *testing.T, ctx context.Context, n int, opts ...sandbox.Option) *sandbox.Template {
	t.Helper()
	tpl, err := sandbox.NewBuilder(opts...).Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	t.Cleanup(func() { tpl.Close() })
	if err := tpl.Pool(ctx, n); err != nil {
		t.Fatalf("Pool: %v", err)
	}
	waitWarm(t, tpl, n)
	return tpl
}

// waitWarm waits until n sandboxes wait in tpl's pool.
func waitWarm(t *testing.T, tpl *sandbox.Template, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for tpl.Warm() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d warm sandboxes after 10s, want %d", tpl.Warm(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPoolCommand checks that a pooled start runs its own argv, environment,
// working directory, standard streams and extra files.
func TestPoolCommand(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		tpl := pooled(t, context.Background(), 2, sandbox.WithWorkdir("/usr"))
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out, errOut bytes.Buffer
		st, err := tpl.Run(context.Background(), sandbox.Command{
			Args:       []string{"sh", "-c", `read line; echo "$line $GREETING $(pwd) $#" "$0"; echo oops >&2; echo extra >&3`, "zero"},
			Env:        []string{"GREETING=hi", "PATH=/usr/bin:/bin"},
			Stdin:      strings.NewReader("in\n"),
			Stdout:     &out,
			Stderr:     &errOut,
			ExtraFiles: []*os.File{w},
		})
		w.Close()
		if err != nil || !st.Success() {
			t.Fatalf("Run: %v %v\n%s%s", st, err, out.String(), errOut.String())
		}
		if got := strings.TrimSpace(out.String()); got != "in hi /usr 0 zero" {
			t.Errorf("stdout %q", got)
		}
		if got := strings.TrimSpace(errOut.String()); got != "oops" {
			t.Errorf("stderr %q", got)
		}
		var b [16]byte
		n, _ := r.Read(b[:])
		if got := string(b[:n]); got != "extra\n" {
			t.Errorf("descriptor 3 got %q", got)
		}
		waitWarm(t, tpl, 2) // refilled
	})
}
