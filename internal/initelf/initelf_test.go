package initelf

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestGeneratedCode runs the generator again and fails when code_amd64.go is not
// what entry/entry_amd64.s assembles to: the committed bytes may not drift from
// their source.
func TestGeneratedCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the init's source; skipped in -short mode")
	}
	out := filepath.Join(t.TempDir(), "code_amd64.go")
	if b, err := exec.Command("go", "run", "./gen", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run ./gen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("code_amd64.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("code_amd64.go differs from what entry/entry_amd64.s assembles to: run go generate ./internal/initelf")
	}
}

// TestCodeIsSelfContained disassembles the init's build and admits only what
// runs wherever the kernel maps it: register and stack operations, system calls
// and branches within the function; no call, no reference to a symbol or to
// memory relative to the instruction pointer. It also holds Calls to the system
// calls the code makes.
func TestCodeIsSelfContained(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the init's source; skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "entry")
	build := exec.Command("go", "build", "-o", bin, "./entry")
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./entry: %v\n%s", err, b)
	}
	out, err := exec.Command("go", "tool", "objdump", "-s", `^main\.entry\.abi0$`, bin).Output()
	if err != nil {
		t.Fatalf("go tool objdump: %v", err)
	}
	insn := regexp.MustCompile(`^\s+\S+:\d+\s+0x([0-9a-f]+)\s+[0-9a-f]+\s+(\S+)\s*(.*?)\s*$`)
	allowed := map[string]bool{
		"MOVL": true, "MOVQ": true, "MOVZX": true, "XORL": true, "LEAQ": true, "ADDQ": true, "ADDL": true,
		"SUBL": true, "SUBQ": true, "ANDL": true, "SHRL": true, "INCQ": true, "CMPQ": true, "CMPL": true,
		"TESTL": true, "TESTQ": true, "SYSCALL": true,
		"JMP": true, "JE": true, "JNE": true, "JA": true, "JLE": true,
	}
	type line struct {
		pc       uint64
		op, args string
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := insn.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		pc, _ := strconv.ParseUint(m[1], 16, 64)
		lines = append(lines, line{pc, m[2], m[3]})
	}
	if len(lines) < 20 {
		t.Fatalf("disassembled %d instructions: objdump's output was not parsed\n%s", len(lines), out)
	}
	lo, hi := lines[0].pc, lines[len(lines)-1].pc
	var nrs []int64
	var ax int64 = -1
	for _, l := range lines {
		switch {
		case !allowed[l.op]:
			t.Errorf("%#x: %s %s is not admitted in the init", l.pc, l.op, l.args)
		case strings.Contains(l.args, "(SB)") || strings.Contains(l.args, "IP"):
			t.Errorf("%#x: %s %s refers to memory outside the stack", l.pc, l.op, l.args)
		case strings.HasPrefix(l.op, "J"):
			target, err := strconv.ParseUint(strings.TrimPrefix(l.args, "0x"), 16, 64)
			if err != nil || target < lo || target > hi {
				t.Errorf("%#x: %s %s leaves the function", l.pc, l.op, l.args)
			}
		case l.op == "MOVL" && strings.HasSuffix(l.args, ", AX") && strings.HasPrefix(l.args, "$"):
			ax, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(l.args, "$"), ", AX"), 0, 64)
		case l.op == "SYSCALL":
			nrs = append(nrs, ax)
		}
	}
	_, calls := Calls()
	want := map[int64]bool{}
	for _, c := range calls[1:] { // execveat is PID 1's, before the init runs
		want[int64(c.Nr)] = true
	}
	got := map[int64]bool{}
	for _, nr := range nrs {
		got[nr] = true
		if !want[nr] {
			t.Errorf("the init makes system call %d, which Calls does not list", nr)
		}
	}
	for nr := range want {
		if !got[nr] {
			t.Errorf("Calls lists system call %d, which the init does not make", nr)
		}
	}
}

func TestImage(t *testing.T) {
	img, err := Image()
	if runtime.GOARCH != "amd64" {
		if !errors.Is(err, ErrNotSupported) {
			t.Fatalf("Image on %s: %v, want ErrNotSupported", runtime.GOARCH, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("the image does not parse as ELF: %v", err)
	}
	if f.Type != elf.ET_DYN || f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 || f.Entry != codeOffset {
		t.Errorf("header: type %v machine %v class %v entry %#x", f.Type, f.Machine, f.Class, f.Entry)
	}
	if len(f.Progs) != 2 || f.Progs[0].Type != elf.PT_LOAD || f.Progs[0].Flags != elf.PF_R|elf.PF_X ||
		f.Progs[0].Filesz != uint64(len(img)) || f.Progs[1].Type != elf.PT_GNU_STACK || f.Progs[1].Flags&elf.PF_X != 0 {
		t.Errorf("program headers: %+v", f.Progs)
	}
	t.Logf("the init's image: %d bytes, %d of code", len(img), len(code))
}

// TestMemfd checks the memfd the sandbox executes: sealed against every change,
// executable, close-on-exec, at the descriptor asked for or above.
func TestMemfd(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("no init for %s", runtime.GOARCH)
	}
	f, err := Memfd(100)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if fd < 100 {
		t.Errorf("descriptor %d, want 100 or above", fd)
	}
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("F_GETFD: %#x, %v: want close-on-exec", fl, err)
	}
	s, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || s&seals != seals {
		t.Errorf("seals %#x, %v: want %#x", s, err, seals)
	}
	if _, err := unix.Write(fd, []byte("x")); err != unix.EPERM {
		t.Errorf("write to the sealed memfd: %v, want EPERM", err)
	}
	if err := unix.Ftruncate(fd, 0); err != unix.EPERM {
		t.Errorf("truncate the sealed memfd: %v, want EPERM", err)
	}
	img, _ := Image()
	got := make([]byte, len(img)+1)
	if n, err := unix.Pread(fd, got, 0); err != nil || !bytes.Equal(got[:n], img) {
		t.Errorf("the memfd holds %d bytes (%v), not the image", n, err)
	}
}

// runInit runs the init from its memfd as the parent of the children that script
// starts, through bash's exec -a (the init wants argv[0] and the target's pid
// only): script ends in "exec -a paddock-init \"$INIT\" PID". It returns the
// started command.
func runInit(t *testing.T, script string, stderr *bytes.Buffer) *exec.Cmd {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("no init for %s", runtime.GOARCH)
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("these tests start the init through bash's exec -a: %v", err)
	}
	f, err := Memfd(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	cmd := exec.Command(bash, "-c", script)
	cmd.ExtraFiles = []*os.File{f}
	cmd.Env = []string{"INIT=/proc/self/fd/3", "PATH=/usr/bin:/bin"}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode()
}

// TestInitStatus checks that the init exits with its target's status: its exit
// code, or 128+N when signal N killed it; and 125 when it is started wrongly.
func TestInitStatus(t *testing.T) {
	for _, c := range []struct {
		name, script string
		code         int
	}{
		{"exit", `sh -c 'sleep 0.1; exit 7' & exec -a paddock-init "$INIT" $!`, 7},
		{"success", `sh -c 'sleep 0.1' & exec -a paddock-init "$INIT" $!`, 0},
		{"killed", `sh -c 'sleep 0.1; kill -KILL $$' & exec -a paddock-init "$INIT" $!`, 128 + 9},
		{"no pid", `exec -a paddock-init "$INIT"`, 125},
		{"not a pid", `exec -a paddock-init "$INIT" 12x`, 125},
		{"pid out of range", `exec -a paddock-init "$INIT" 99999999`, 125},
		{"zero", `exec -a paddock-init "$INIT" 0`, 125},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code := exitCode(t, runInit(t, c.script, nil)); code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
		})
	}
}

// TestInitForwardsAndReaps sends signals to the init: each reaches the target,
// whose trap reports it; a child of the init that is not the target is reaped
// when it ends, not left a zombie.
func TestInitForwardsAndReaps(t *testing.T) {
	var out bytes.Buffer
	cmd := runInit(t, `sleep 0.1 & sh -c 'trap "echo usr1 >&2" USR1; trap "exit 42" TERM; while :; do sleep 0.02; done' & exec -a paddock-init "$INIT" $!`, &out)
	pid := cmd.Process.Pid
	time.Sleep(300 * time.Millisecond) // the first sleep has ended by now
	if z := zombies(t, pid); len(z) != 0 {
		t.Errorf("children of the init left unreaped: %v", z)
	}
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != 42 {
		t.Errorf("exit %d, want 42 from the target's TERM trap", code)
	}
	if !strings.Contains(out.String(), "usr1") {
		t.Errorf("SIGUSR1 did not reach the target: %q", out.String())
	}
}

// zombies lists the children of pid that have ended and wait to be reaped.
func zombies(t *testing.T, pid int) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var z []string
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			z = append(z, e.Name())
		}
	}
	return z
}
