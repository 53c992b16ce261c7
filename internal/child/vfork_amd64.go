package child

import (
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VforkSupported says whether this architecture has the vfork trampoline.
const VforkSupported = true

func clone3Vfork(args *CloneArgs, size uintptr, p *Program, s *Start) (pid uintptr, errno syscall.Errno)

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

//go:nosplit
//go:norace
func spawnVfork(p *Program, s *Start) (int, syscall.Errno) {
	runtimeBeforeFork()
	pid, e := clone3Vfork(&s.Clone, unsafe.Sizeof(s.Clone), p, s)
	runtimeAfterFork()
	return int(pid), e
}

// vforkChild is where the vfork child starts, on its own stack.
//
//lint:ignore U1000 called from clone3Vfork in vfork_amd64.s
//go:nosplit
//go:norace
func vforkChild(p *Program, s *Start) {
	run(p.Ops, s)
}
