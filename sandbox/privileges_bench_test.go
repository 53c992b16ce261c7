package sandbox_test

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/paddock-sandbox/paddock/sandbox"
	"golang.org/x/sys/unix"
)

// BenchmarkSyscallOverhead measures what a seccomp filter adds to one system call
// inside a sandbox: the probe makes the call b.N times in a loop and reports its own
// time per call as ns/syscall (ns/op also counts the sandbox's start, spread over
// the loop). getpid is allowed by number alone, which the kernel caches since
// Linux 5.11; personality(0xffffffff) is allowed by a rule on its argument, so the
// whole program runs. "host" is the probe without a sandbox; "unconfined" a default
// sandbox without a filter; "docker" the default sandbox.
func BenchmarkSyscallOverhead(b *testing.B) {
	if runtime.GOARCH != "amd64" {
		b.Skip("the calls are given as x86_64 numbers")
	}
	probe := sysprobe(b)
	calls := []struct{ name, arg string }{
		{"getpid", strconv.Itoa(unix.SYS_GETPID)},
		{"personality", strconv.Itoa(unix.SYS_PERSONALITY) + "/0xffffffff"},
	}
	modes := []struct {
		name string
		opts []sandbox.Option
	}{
		{"host", nil},
		{"unconfined", []sandbox.Option{sandbox.WithoutSeccomp()}},
		{"docker", []sandbox.Option{sandbox.WithDefaultSeccomp()}},
	}
	for _, c := range calls {
		for _, m := range modes {
			b.Run(c.name+"/"+m.name, func(b *testing.B) {
				args := []string{probe, "loop", strconv.Itoa(b.N), c.arg}
				var out bytes.Buffer
				if m.name == "host" {
					cmd := exec.Command(args[0], args[1:]...)
					cmd.Stdout, cmd.Stderr = &out, &out
					if err := cmd.Run(); err != nil {
						b.Fatalf("%v\n%s", err, out.String())
					}
				} else {
					tpl, err := sandbox.NewBuilder(withProbe(m.opts, probe)...).Build()
					if err != nil {
						b.Fatal(err)
					}
					defer tpl.Close()
					st, err := tpl.Run(context.Background(), sandbox.Command{Args: args, Stdout: &out, Stderr: &out})
					if err != nil || !st.Success() {
						b.Fatalf("%v %v\n%s", st, err, out.String())
					}
				}
				ns, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64)
				if err != nil {
					b.Fatalf("probe printed %q", out.String())
				}
				b.ReportMetric(ns, "ns/syscall")
			})
		}
	}
}
