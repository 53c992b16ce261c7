package child

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestChildIsNosplit disassembles this test binary and walks every function the
// child can reach. Between clone and execve a stack-checked call dies with "stack
// growth after fork" and the parent would see EOF on the error pipe, a false success;
// so no reachable function may contain the stack-check prologue (a call to
// runtime.morestack) or an indirect call the walk cannot follow.
func TestChildIsNosplit(t *testing.T) {
	const trampoline = "github.com/paddock-sandbox/paddock/internal/child.clone3Vfork.abi0"
	if testing.Short() {
		t.Skip("disassembles the test binary; skipped in -short mode")
	}
	// Referencing the entry points keeps them, and all the child can reach, in the
	// binary disassembled below.
	t.Logf("entry points: %p %p %p", Spawn, SpawnVfork, SpawnShared)
	// go test strips the binary it runs: build this package's test binary again,
	// with its symbols and with the race detector when this run has it.
	exe := filepath.Join(t.TempDir(), "child.test")
	args := []string{"test", "-c", "-o", exe}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v: %s", err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("go", "tool", "objdump", "-s", `internal/child\.|^runtime\.|^syscall\.|^internal/runtime/syscall`, exe)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool objdump: %v: %s", err, stderr.Bytes())
	}
	funcs := parseObjdump(out)
	roots := []string{
		"github.com/paddock-sandbox/paddock/internal/child.Spawn",
		"github.com/paddock-sandbox/paddock/internal/child.run",
		"github.com/paddock-sandbox/paddock/internal/child.vforkChild",
		"github.com/paddock-sandbox/paddock/internal/child.spawnVfork",
		"github.com/paddock-sandbox/paddock/internal/child.spawnShared",
		trampoline,
	}
	// The runtime's fork and system call hooks run in the parent, around the
	// clone; the runtime itself keeps them safe there (they are what package
	// syscall uses).
	seen := map[string]bool{
		"syscall.runtime_BeforeFork": true, "syscall.runtime_AfterFork": true,
		"runtime.entersyscall": true, "runtime.exitsyscall": true,
	}
	var walk func(name, from string)
	walk = func(name, from string) {
		if seen[name] {
			return
		}
		seen[name] = true
		body, ok := funcs[name]
		if !ok {
			t.Errorf("%s (called from %s): not found in the disassembly", name, from)
			return
		}
		for _, c := range body.calls {
			if strings.HasPrefix(c, "runtime.morestack") {
				t.Errorf("%s (called from %s) checks its stack: it must be //go:nosplit or assembly", name, from)
				continue
			}
			if strings.HasPrefix(c, "runtime.gcWriteBarrier") {
				t.Errorf("%s (called from %s) writes a pointer through the garbage collector's write barrier, "+
					"which the child must never run: it would touch the parent's heap bookkeeping", name, from)
				continue
			}
			if strings.HasPrefix(c, "runtime.race") {
				t.Errorf("%s (called from %s) calls the race runtime (%s), which would run on the parent's g0 stack", name, from, c)
				continue
			}
			if name == trampoline && c == "R8" {
				continue // childEntry: vforkChild, a root
			}
			if !strings.Contains(c, "(SB)") {
				t.Errorf("%s (called from %s) makes an indirect call %q the child cannot vouch for", name, from, c)
				continue
			}
			walk(strings.TrimSuffix(c, "(SB)"), name)
		}
	}
	for _, r := range roots {
		walk(r, "the clone")
	}
	if len(seen) < 5 {
		t.Fatalf("walked only %d functions: the disassembly was not parsed", len(seen))
	}
	t.Logf("%d functions reachable from the child, all free of stack checks and write barriers", len(seen))
}

type disasm struct{ calls []string }

var (
	textRe = regexp.MustCompile(`^TEXT (\S+)\(SB\)`)
	callRe = regexp.MustCompile(`\tCALL (.+)$`)
)

func parseObjdump(out []byte) map[string]*disasm {
	funcs := map[string]*disasm{}
	var cur *disasm
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := textRe.FindStringSubmatch(line); m != nil {
			cur = &disasm{}
			funcs[m[1]] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if m := callRe.FindStringSubmatch(line); m != nil {
			cur.calls = append(cur.calls, strings.TrimSpace(m[1]))
		}
	}
	return funcs
}
