package child

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Shared mode: a child cloned with CLONE_VM but without CLONE_VFORK shares the
// caller's memory while the caller goes on at once. It costs no copy of the
// caller's page tables when it is cloned, no copy-on-write fault for each page
// the caller writes while it lives, and no teardown of a copied address space
// when it execs (execve only drops its reference to the caller's mm). It suits
// a child that waits long, such as a warm child of a pool.
//
// What it writes must not be the caller's: it runs on a stack of its own and on
// its own copy of the Start, both in a SharedMem mapped outside the Go heap, so
// that neither the collector nor the parent, which goes on writing its Start
// after the clone as in fork mode, ever sees a write of the child's (poolApply's
// pointer-typed fields included). What it reads of the caller's, the Program,
// the caller keeps alive and unchanged until the child can no longer run.
//
// Some kernel state belongs to the mm rather than to the process, and a shared
// child changes it for the caller too: a change of credentials that is not a
// plain drop (another euid, egid, fsuid or fsgid, or capabilities beyond the
// old ones) resets the mm's dumpable flag, a write of oom_score_adj reaches
// every process sharing the mm, and setns into a time or user namespace fails.
// And the OOM killer rates a process by its mm, and kills every process of the
// mm it chose: a shared child in a cgroup that runs out of memory is taken for
// the caller's heap, and the caller dies with it. The caller chooses shared
// mode only for programs that do none of these, in cgroups that cannot run out
// of memory without its own.

// SharedMem is the memory of a shared-mode child (SpawnShared): a guard page, its
// stack, its own copy of the Start, and a buffer (the pool's command buffer),
// mapped outside the Go heap. It must stay mapped until the child can no longer
// run on it: until EOF on its error pipe (execve closes it after the switch to
// the new mm, exit after the release of the old one) or until it is reaped.
type SharedMem struct {
	mem []byte
	buf []byte
}

// sharedGuard is the inaccessible page below a shared child's stack.
const sharedGuard = 4096

// sharedStackSize is a shared child's stack: far more than the nosplit chain of
// the child can use, as vforkStackSize is.
const sharedStackSize = vforkStackSize

// sharedStartOff is where the copy of the Start begins, above the stack.
const sharedStartOff = sharedGuard + sharedStackSize

// sharedBufOff is where the buffer begins, above the copy of the Start.
var sharedBufOff = sharedStartOff + (int(unsafe.Sizeof(Start{}))+63)&^63

// NewSharedMem maps the memory of a shared-mode child with a buffer of bufLen
// bytes. Pages are only backed once touched: a waiting child uses a few of
// its stack and the Start's.
func NewSharedMem(bufLen int) (*SharedMem, error) {
	size := SharedSize(bufLen)
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, err
	}
	// A fork of the caller (a fork-mode start, os/exec) need not copy it.
	if err = unix.Madvise(mem, unix.MADV_DONTFORK); err == nil {
		err = unix.Mprotect(mem[:sharedGuard], unix.PROT_NONE)
	}
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return &SharedMem{mem: mem, buf: mem[sharedBufOff : sharedBufOff+bufLen]}, nil
}

// SharedSize is the size of the mapping of a SharedMem with a buffer of bufLen
// bytes, its guard page included (which /proc/PID/maps shows apart).
func SharedSize(bufLen int) int { return (sharedBufOff + bufLen + 4095) &^ 4095 }

// Buf returns the buffer.
func (m *SharedMem) Buf() []byte { return m.buf }

// Close unmaps the memory: only once the child can no longer run on it.
func (m *SharedMem) Close() error {
	if m.mem == nil {
		return nil
	}
	err := unix.Munmap(m.mem)
	m.mem, m.buf = nil, nil
	return err
}

// start returns the child's copy of the Start.
func (m *SharedMem) start() *Start {
	return (*Start)(unsafe.Pointer(&m.mem[sharedStartOff]))
}

// SpawnShared is Spawn in shared mode: it copies s into m and clones a child
// that shares the caller's memory and runs p on m's stack with that copy. It
// returns at once, as Spawn does: p must be a fork-mode program (the parent
// writes the ID maps, joins the cgroup, releases the child). The child starts
// with every signal blocked, as in fork mode. p and what its ops point to must
// stay alive and unchanged, and m mapped, until the child can no longer run.
func SpawnShared(p *Program, s *Start, m *SharedMem) (pid int, errno syscall.Errno) {
	c := m.start()
	*c = *s // m is not Go heap: no write barrier, and the collector never scans it
	c.Clone.Flags = (c.Clone.Flags | unix.CLONE_VM) &^ unix.CLONE_VFORK
	c.Clone.Stack = uint64(uintptr(unsafe.Pointer(&m.mem[sharedGuard])))
	c.Clone.StackSize = sharedStackSize
	return spawnShared(p, c)
}

// spawnShared clones in shared mode, between the runtime's fork hooks: the child
// inherits the thread's mask with every signal blocked. The trampoline is
// vfork mode's; without CLONE_VFORK, clone3 returns in the parent at once.
//
//go:nosplit
//go:norace
func spawnShared(p *Program, s *Start) (int, syscall.Errno) {
	runtimeBeforeFork()
	pid, e := clone3Vfork(&s.Clone, unsafe.Sizeof(s.Clone), p, s, childEntryPC())
	runtimeAfterFork()
	return int(pid), e
}
