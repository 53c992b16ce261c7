package child

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VforkSupported reports that the build has a vfork trampoline (vfork_amd64.s).
// It is always true, since Paddock builds only for linux/amd64
// (arch_unsupported.go stops any other build); it marks what a port to an
// architecture without a trampoline would set false, so that every start forks.
const VforkSupported = true

func clone3Vfork(args *CloneArgs, size uintptr, p *Program, s *Start, entry uintptr) (pid uintptr, errno syscall.Errno)

// childEntry is vforkChild as a func value, whose code pointer is the function's
// own entry (the register ABI), which clone3Vfork calls: a direct call from
// assembly would go through the ABI0 wrapper, which a race build instruments with
// racefuncenter, a call into the race runtime on the parent's g0 stack.
var childEntry = vforkChild

// childEntryPC returns the code pointer of childEntry.
//
//go:nosplit
//go:norace
func childEntryPC() uintptr { return **(**uintptr)(unsafe.Pointer(&childEntry)) }

// vforkStackSize is the child's stack in vfork mode: far more than the nosplit
// chain of the child can use.
const vforkStackSize = 64 << 10

var vforkStacks = sync.Pool{New: func() any { return new([vforkStackSize]byte) }}

// SpawnVfork is Spawn in vfork mode: the child shares the parent's memory until it
// execs, so the cost of a start does not grow with the parent's heap. The calling
// thread sleeps until the child has exec'd or failed. The child cannot wait for the
// parent: it must write its own ID maps.
func SpawnVfork(p *Program, s *Start) (pid int, errno syscall.Errno) {
	stack := vforkStacks.Get().(*[vforkStackSize]byte)
	s.Clone.Flags |= unix.CLONE_VM | unix.CLONE_VFORK
	s.Clone.Stack = uint64(uintptr(unsafe.Pointer(&stack[0])))
	s.Clone.StackSize = vforkStackSize
	pid, errno = spawnVfork(p, s)
	vforkStacks.Put(stack)
	return pid, errno
}

// The runtime's system call hooks, which package syscall uses around every
// blocking call; the runtime keeps them reachable by linkname (go.dev/issue/67401).

//go:linkname runtimeEntersyscall runtime.entersyscall
func runtimeEntersyscall()

//go:linkname runtimeExitsyscall runtime.exitsyscall
func runtimeExitsyscall()

// spawnVfork clones in vfork mode. The calling thread sleeps in clone3 until the
// child has executed the target or died, for as long as the child's steps take
// (and a child that a seccomp notification holds, until its deadline): it does so
// in a system call, as the runtime sees it, so that its processor goes to other
// goroutines and a stop-the-world (a garbage collection) need not wait for it.
// Nothing of the runtime's that the child touches can change meanwhile: the child
// runs on its own stack, reads the Program and the Start, which this frame keeps
// alive and the collector does not move, and writes only the Start's scratch and
// its stack, neither of which holds a pointer.
//
//go:nosplit
//go:norace
func spawnVfork(p *Program, s *Start) (int, syscall.Errno) {
	runtimeEntersyscall()
	runtimeBeforeFork()
	pid, e := clone3Vfork(&s.Clone, unsafe.Sizeof(s.Clone), p, s, childEntryPC())
	runtimeAfterFork()
	runtimeExitsyscall()
	return int(pid), e
}

// vforkChild is where the vfork child starts, on its own stack, and the shared
// child too (SpawnShared), on the stack and the copy of the Start of its
// SharedMem; a shared child's Start has no deadline.
//
//go:nosplit
//go:norace
func vforkChild(p *Program, s *Start) {
	if s.deadline.set {
		startDeadline(s)
	}
	run(p.Ops, s)
}
