package seccomp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/sys/unix"
)

// constAllow emulates prog for a call with number nr and architecture a, knowing
// nothing of the arguments, the way the kernel's seccomp_is_const_allow does when it
// builds the per-number allow cache: only loads of the number and architecture,
// constant jumps and constant returns are followed; anything else ends the
// emulation with "not constant". It returns whether the call is allowed whatever its
// arguments and how many instructions were visited.
func constAllow(prog []unix.SockFilter, nr int32, a uint32) (allowed bool, steps int) {
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		steps++
		switch in.Code {
		case opLdAbsW:
			switch in.K {
			case offNr:
				acc = uint32(nr)
			case offArch:
				acc = a
			default:
				return false, steps
			}
		case opJa:
			pc += int(in.K)
		case opJeqK, opJgeK, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var taken bool
			switch in.Code & 0xf0 {
			case unix.BPF_JEQ:
				taken = acc == in.K
			case unix.BPF_JGE:
				taken = acc >= in.K
			case unix.BPF_JGT:
				taken = acc > in.K
			default:
				taken = acc&in.K != 0
			}
			if taken {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opRetK:
			return in.K == retAllow, steps
		default:
			return false, steps
		}
	}
	return false, steps
}

// TestDispatchIsLogarithmic checks that finding the rules of any syscall number takes
// a bounded number of instructions (the kernel emulates every number at load time,
// and every call walks this path), and that the numbers the kernel's emulation
// finds always allowed are exactly those a name-only allow rule decides.
func TestDispatchIsLogarithmic(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Profile
	}{{"docker", Default(dockerCaps)}, {"podman", PodmanDefault(nil)}, {"all", Default(allCaps)}, {"large", largeProfile(1)}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Compile(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			// Prologue (6), at most two instructions per tree level for 4096 intervals,
			// one JA to a body and its first instruction.
			const bound = 6 + 2*12 + 2
			most := 0
			for n := int32(-1); n < 1024; n++ {
				allowed, steps := constAllow(f.Program, n, unix.AUDIT_ARCH_X86_64)
				most = max(most, steps)
				if steps > bound {
					t.Errorf("nr %d: %d instructions before a verdict or an argument load, want at most %d", n, steps, bound)
				}
				want := tc.p.DefaultAction == ActAllow
				if name, ok := arch.X86_64.SyscallNumbers[int(n)]; ok {
					want = nameOnlyAllow(tc.p, name)
				}
				if allowed != want {
					t.Errorf("nr %d (%s): kernel cache would allow %v, want %v", n, arch.X86_64.SyscallNumbers[int(n)], allowed, want)
				}
			}
			if allowed, _ := constAllow(f.Program, 0, unix.AUDIT_ARCH_I386); allowed {
				t.Error("i386 call 0 allowed")
			}
			t.Logf("%d instructions, at most %d visited to dispatch a number", len(f.Program), most)
		})
	}
}

// nameOnlyAllow reports whether the first rule that names name and can match at all
// allows the call without conditions (or, without such a rule, the default allows).
func nameOnlyAllow(p Profile, name string) bool {
	for _, r := range p.Syscalls {
		if slices.Contains(r.Names, name) && argsSatisfiable(r.Args) {
			return len(r.Args) == 0 && r.Action == ActAllow
		}
	}
	return p.DefaultAction == ActAllow
}

// largeProfile gives most x86_64 syscalls argument-checked rules, some several and
// some followed by a name-only rule, with assorted actions, so that the dispatch tree
// needs long jumps and the bodies lie far from it.
func largeProfile(seed uint64) Profile {
	rng := rand.New(rand.NewPCG(seed, 7))
	actions := []Action{ActAllow, ActErrno, ActTrap, ActLog, ActKillThread}
	ops := []Operator{OpEqualTo, OpNotEqual, OpLessThan, OpLessEqual, OpGreaterThan, OpGreaterEqual, OpMaskedEqual}
	p := Profile{DefaultAction: ActErrno, DefaultErrno: 38}
	for n := range 460 {
		name, ok := arch.X86_64.SyscallNumbers[n]
		if !ok || rng.IntN(4) == 0 {
			continue
		}
		for k := range 1 + rng.IntN(2) {
			v := uint64(rng.IntN(4)) << (32 * rng.IntN(2))
			p.Syscalls = append(p.Syscalls, Rule{Names: []string{name}, Action: actions[rng.IntN(len(actions))], Errno: uint16(k + 1),
				Args: []Arg{{Index: uint(rng.IntN(6)), Op: ops[rng.IntN(len(ops))], Value: v, ValueTwo: v & 0x1_00000001}}})
		}
		if rng.IntN(3) == 0 {
			p.Syscalls = append(p.Syscalls, Rule{Names: []string{name}, Action: actions[rng.IntN(len(actions))], Errno: 5})
		}
	}
	// Name-only rules spanning many numbers, some of them already decided.
	for range 20 {
		r := Rule{Action: actions[rng.IntN(len(actions))], Errno: 9}
		for range 10 {
			if name, ok := arch.X86_64.SyscallNumbers[rng.IntN(460)]; ok {
				r.Names = append(r.Names, name)
			}
		}
		p.Syscalls = append(p.Syscalls, r)
	}
	return p
}

// TestLargeProfileMatchesReference checks programs whose tree needs the long-jump
// form and whose bodies are far from their leaves, against the reference evaluator
// on the standard cases and on small argument values that the rules test.
func TestLargeProfileMatchesReference(t *testing.T) {
	for seed := range uint64(4) {
		p := largeProfile(seed)
		checkAgainstReference(t, p)
		f, err := Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		// A tree node whose lower half is too long for an 8-bit offset: JGE k,0,1; JA.
		longJumps := 0
		for i, in := range f.Program[:len(f.Program)-1] {
			if in.Code == opJgeK && in.Jt == 0 && in.Jf == 1 && f.Program[i+1].Code == opJa {
				longJumps++
			}
		}
		if longJumps == 0 {
			t.Errorf("seed %d: %d instructions and no long tree jump; the test misses that form", seed, len(f.Program))
		}
		rng := rand.New(rand.NewPCG(seed, 11))
		for range 20000 {
			d := Data{Nr: int32(rng.IntN(460)), Arch: unix.AUDIT_ARCH_X86_64}
			for k := range d.Args {
				d.Args[k] = uint64(rng.IntN(5)) << (32 * rng.IntN(2))
			}
			ga, ge := f.Evaluate(d)
			wa, we := referenceEval(p, d)
			if ga != wa || ge != we {
				t.Fatalf("seed %d nr %d args %#x: compiled %s/%d, reference %s/%d", seed, d.Nr, d.Args, ga, ge, wa, we)
			}
		}
		t.Logf("seed %d: %d rules, %d instructions, %d long tree jumps", seed, len(p.Syscalls), len(f.Program), longJumps)
	}
}

// TestKernelLoadLarge has the kernel load a program with the long-jump form of the
// dispatch tree, in a child process (see loadLarge).
func TestKernelLoadLarge(t *testing.T) {
	if err := unix.Prctl(unix.PR_GET_SECCOMP, 0, 0, 0, 0); errors.Is(err, unix.EINVAL) {
		t.Skipf("kernel without CONFIG_SECCOMP: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchEnv+"=large")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v (context: %v)\n%s", err, ctx.Err(), out)
	}
}

// loadLarge loads largeProfile(0), with exit_group and rt_sigreturn allowed
// first, on the calling thread only (other threads of the child stay
// unfiltered), and exits at once with status 0, or 3 if the kernel refused the
// program. The thread blocks every signal first: a signal handled between the
// load and the exit (the runtime's preemption signal) would return through
// rt_sigreturn, and any other call of the handler that the random profile
// refuses would leave the thread looping in its signal path.
func loadLarge() error {
	p := largeProfile(0)
	p.Syscalls = append([]Rule{{Names: []string{"exit_group", "rt_sigreturn"}, Action: ActAllow}}, p.Syscalls...)
	f, err := Compile(p)
	if err != nil {
		return err
	}
	var all unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^uint64(0)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &all, nil); err != nil {
		return fmt.Errorf("block signals: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&f.Prog)))
	if e != 0 {
		return fmt.Errorf("seccomp(SET_MODE_FILTER) of %d instructions: %w", len(f.Program), e)
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	return nil
}
