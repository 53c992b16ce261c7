package sandbox

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/internal/emit"
	"github.com/paddock-sandbox/paddock/internal/handshake"
	"github.com/paddock-sandbox/paddock/mounts"
	"golang.org/x/sys/unix"
)

// A warm pool keeps children that have done every step of a start that does not
// depend on the command: the clone with its namespaces, the ID maps, the cgroup,
// the root filesystem with its overlay and masks, pivot_root. Each waits at the
// pool point (child.KindPool) for a command on a socket of its own; Start hands
// one its argv, environment and descriptors, and it goes on with the steps that
// depend on them (rlimits, working directory, stdio, capabilities,
// no_new_privs, seccomp, execve) exactly as an unpooled start would.

// errWarm is what readReport returns for the marker of a warm child.
var errWarm = errors.New("sandbox: the child waits in the pool")

// poolBufLen is the room each warm child reserves for its command: the header,
// the argv, envp and path arrays and their strings. A larger command starts
// without the pool.
const poolBufLen = 32 << 10

// A pool is the warm pool of a Template.
type pool struct {
	t    *Template // the Template whose children wait: the owner, or its fork-mode twin
	twin *Template // the fork-mode twin of a vfork Template, closed with the pool, or nil
	// ctx is the pool's context, a child of Pool's that close cancels, so that
	// a warm-up under way ends too.
	ctx    context.Context
	cancel context.CancelFunc
	n      int
	// shared says that the warm children share the caller's memory
	// (child.SpawnShared) instead of a copy of it (see sharesMemory).
	shared bool

	mu      sync.Mutex
	warm    []*Process
	filling int
	closed  bool
	retry   time.Duration  // the wait before the fill after a failed warm-up
	done    sync.WaitGroup // the fills under way
	stop    func() bool    // ends the watch of ctx
	// timer fills the pool refillGrace after a pooled start (see refill);
	// armed says that it is set and has not fired, so that a start does not
	// push back the refill of one before it.
	timer *time.Timer
	armed atomic.Bool
}

// A warmChild is what the parent keeps of a warm child: its handshake's
// descriptors, its end of the command socket and the buffer that the child
// reserved at the same address (its copy, or, in shared mode, the very buffer
// in mem).
type warmChild struct {
	fds  handshake.FDs
	sock int
	buf  []byte
	// mem is a shared child's stack, Start and buffer, or nil in fork mode.
	mem  *child.SharedMem
	base *child.Program // the program the pool point was spliced into
	// steps are the mount steps of base's plan, where the Template follows the
	// host's mount table.
	steps []mounts.Step
}

// Pool keeps up to n warm sandboxes for t's starts, filled in the background
// from now on: a Start that finds one waiting hands it the command, and
// returns sooner, and a new one is made in its place; a Start that finds none,
// or whose Command needs what a warm sandbox cannot be given (a terminal, a
// hold FIFO, BeforePivot, a command longer than 32 KiB), starts as without the
// pool. Each pooled start is isolated as an unpooled one is: its own namespaces,
// root filesystem and cgroup. The warm sandboxes are killed and removed when
// ctx ends, when t is closed, and when the caller dies (they exit when their
// socket's other end closes).
//
// A warm child waits with every step done that does not read the command: its
// filesystem, the drops from its capability bounding set and, where Build
// found the seccomp filter to allow by number (or by their fixed arguments)
// every system call that the child makes from the pool point to execve and has
// no listener, no_new_privs and the filter's load, which the Template's steps
// then show before the pool point, for every start.
//
// A warm child shares the caller's memory (clone3 with CLONE_VM, on a stack of
// its own outside the Go heap) where its steps keep the caller's kernel uid and
// gid and write no oom_score_adj, and its cgroup has no memory limit of its
// own, as the default sandboxes' do (Rootful for root, Rootless for any other
// user): then it costs its stack and its kernel objects, its warm-up copies no
// page tables and its execve tears no copy down, whatever the caller's heap.
// Otherwise (root's Rootless, whose IDs are a block of subordinate ones; a
// target user other than the caller; a memory limit, whose OOM killer would
// take a shared warm child for the caller's heap and kill the caller with it;
// a cgroup outside the caller's) it is a fork-mode
// copy of the caller, which costs page tables in proportion to the caller's
// heap and a copy of each page the caller writes while it waits. A vfork
// Template pools the children of its fork-mode twin, which it builds here.
//
// A Template with an init, a hold, a handover into a joined pid namespace, a
// fuse-overlayfs root or a root set up in the caller's mount namespace refuses
// a pool (ErrInvalidSpec): their starts need the parent at steps the pool point
// would pass. Pool may be called once.
func (t *Template) Pool(ctx context.Context, n int) error {
	if n <= 0 {
		return specErr("pool", "a pool of %d sandboxes", n)
	}
	if err := t.poolable(); err != nil {
		return err
	}
	pl := &pool{t: t, n: n}
	pl.timer = time.AfterFunc(time.Hour, pl.refillNow)
	pl.timer.Stop()
	if t.vfork {
		twin, err := NewBuilder(WithSpec(t.spec), WithSpawnMode(SpawnFork)).Build()
		if err != nil {
			return fmt.Errorf("sandbox: the pool's fork-mode twin: %w", err)
		}
		pl.t, pl.twin = twin, twin
	}
	pl.shared = !warmForkOnly.Load() && pl.t.sharesMemory()
	pl.ctx, pl.cancel = context.WithCancel(ctx)
	pl.stop = context.AfterFunc(ctx, pl.close)
	if !t.pool.CompareAndSwap(nil, pl) {
		pl.close()
		return specErr("pool", "the Template has a pool already")
	}
	if t.closed.Load() {
		pl.close()
		return ErrClosed
	}
	pl.fill()
	return nil
}

// poolable says why t's starts cannot wait at the pool point, or nil.
func (t *Template) poolable() error {
	s := t.spec
	switch {
	case s.Init:
		return specErr("pool", "the init is forked after the pool point, and its program is the Template's")
	case t.hold:
		return specErr("pool", "a held start waits for its FIFO, which only the command names")
	case t.plan.Spawn.Handover:
		return specErr("pool", "the handover into a joined pid namespace happens before the pool point and needs the start's parent")
	case t.fuse != nil:
		return specErr("pool", "a fuse-overlayfs root is served by a daemon of each start's parent")
	case t.callerMountNS:
		return specErr("pool", "a root set up in the caller's mount namespace is set up one start at a time")
	case t.netHelper != "":
		return specErr("pool", "the network helper is started for each start by its parent, before the pool point")
	}
	return nil
}

// Warm reports how many sandboxes wait in t's pool.
func (t *Template) Warm() int {
	pl := t.pool.Load()
	if pl == nil {
		return 0
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return len(pl.warm)
}

// fill starts the warm-ups that bring the pool to n, in the background.
func (pl *pool) fill() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for !pl.closed && len(pl.warm)+pl.filling < pl.n {
		pl.filling++
		pl.done.Add(1)
		go pl.warmOne()
	}
}

// warmOne makes one warm child and adds it to the pool. A warm-up that fails
// leaves nothing behind and is tried again later, after a wait that doubles
// with each failure in a row, from 10 ms up to 10 s.
func (pl *pool) warmOne() {
	defer pl.done.Done()
	p, err := pl.warmUp()
	pl.mu.Lock()
	pl.filling--
	if err == nil && pl.closed {
		pl.mu.Unlock()
		p.discard()
		return
	}
	if err == nil {
		pl.warm = append(pl.warm, p)
		pl.retry = 0
		pl.mu.Unlock()
		return
	}
	pl.retry = min(max(2*pl.retry, 10*time.Millisecond), 10*time.Second)
	time.AfterFunc(pl.retry, pl.fill)
	pl.mu.Unlock()
}

// refillGrace is how long after a pooled start its refill waits, unless the
// start's target exits sooner: a short command then does not share its CPUs
// with the refill's clone and setup (on a 2-CPU machine, about a third of a
// millisecond of a pooled Start+Wait of /bin/true), and a longer one does
// after this while.
const refillGrace = 2 * time.Millisecond

// refill fills the pool after the start p that took a warm child: once p's
// target has exited (Wait) or refillGrace has passed, whichever is first
// (after refillDelay instead, where a benchmark sets it). fill is idempotent:
// the second call finds the pool full or filling.
// The pool's one timer serves every start, so that a pooled start allocates
// nothing for its refill.
func (pl *pool) refill(p *Process) {
	if d := time.Duration(refillDelay.Load()); d > 0 {
		time.AfterFunc(d, pl.fill)
		return
	}
	if p != nil {
		p.refill = pl
	}
	if pl.armed.CompareAndSwap(false, true) {
		pl.timer.Reset(refillGrace)
	}
}

// refillNow is the refill timer's: it fills the pool.
func (pl *pool) refillNow() {
	pl.armed.Store(false)
	pl.fill()
}

// take returns a warm child, or nil.
func (pl *pool) take() *Process {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	n := len(pl.warm)
	if pl.closed || n == 0 {
		return nil
	}
	p := pl.warm[n-1]
	pl.warm[n-1] = nil
	pl.warm = pl.warm[:n-1]
	return p
}

// close kills and removes the warm children, waits for the warm-ups under way
// and closes the twin.
func (pl *pool) close() {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return
	}
	pl.closed = true
	warm := pl.warm
	pl.warm = nil
	pl.mu.Unlock()
	pl.stop()
	pl.timer.Stop()
	pl.cancel() // kills the children of the warm-ups under way
	for _, p := range warm {
		p.discard()
	}
	pl.done.Wait()
	pl.closeTwin()
}

func (pl *pool) closeTwin() {
	if pl.twin != nil {
		pl.twin.Close()
	}
}

// discard kills a warm child and removes what it holds.
func (p *Process) discard() {
	p.abort()
	p.closeWarm()
}

// closeWarm closes what the parent keeps of its warm child, which has not been
// cloned, has exec'd (EOF on its error pipe) or has been reaped: it can no
// longer run on its memory in shared mode, which is unmapped.
func (p *Process) closeWarm() {
	w := p.warm
	w.fds.CloseAll()
	if w.sock >= 0 {
		unix.Close(w.sock)
		w.sock = -1
	}
	if w.mem != nil {
		p.start.PoolBuf, w.buf = nil, nil // nothing keeps an address of the mapping
		w.mem.Close()
		w.mem = nil
	}
}

// warmUp clones a child of the pool's program and waits until it reports that
// it waits at the pool point.
func (pl *pool) warmUp() (*Process, error) {
	t := pl.t
	base, prog, steps, err := t.poolProgram()
	if err != nil {
		return nil, err
	}
	p := &Process{tmpl: t, prog: prog, pid: -1, pidfd: -1, pidfd32: -1, mountNS: -1}
	p.warm = &warmChild{fds: handshake.NoFDs(), sock: -1, base: base, steps: steps}
	if err := p.warm.alloc(pl.shared); err != nil {
		return nil, fmt.Errorf("sandbox: the memory of a warm sandbox: %w", err)
	}
	s := &p.start
	s.SyncFD, s.NotifyFD, s.TerminalFD, s.Ctty, s.PoolFD = -1, -1, -1, -1, -1
	childSock, err := p.openWarm()
	if err == nil {
		err = p.prepare(pl.ctx, prog)
	}
	if err != nil {
		if childSock >= 0 {
			unix.Close(childSock)
		}
		p.closeWarm()
		return p.abandon(err)
	}
	return p.cloneWarm(childSock)
}

// alloc makes the command buffer: in shared mode, in the child's SharedMem,
// off the Go heap.
func (w *warmChild) alloc(shared bool) error {
	if !shared {
		w.buf = make([]byte, poolBufLen)
		return nil
	}
	mem, err := child.NewSharedMem(poolBufLen)
	if err != nil {
		return err
	}
	w.mem, w.buf = mem, mem.Buf()
	return nil
}

// openWarm opens the handshake's descriptors of a warm child and its command
// socket, whose child end it returns.
func (p *Process) openWarm() (childSock int, err error) {
	t, s, w := p.tmpl, &p.start, p.warm
	listener := t.filter != nil && t.filter.NeedsListener
	if err := w.fds.Open(s, true, listener, false); err != nil {
		return -1, err
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("sandbox: the pool's command socket: %w", err)
	}
	w.sock, s.PoolFD = sp[0], int32(sp[1])
	s.PoolBuf, s.PoolBufLen = &w.buf[0], uintptr(len(w.buf))
	return sp[1], nil
}

// cloneWarm clones the warm child, releases it and waits for its marker.
func (p *Process) cloneWarm(childSock int) (*Process, error) {
	w, s := p.warm, &p.start
	p.cloning()
	var pid int
	var errno syscall.Errno
	if w.mem != nil {
		pid, errno = child.SpawnShared(p.prog, s, w.mem)
	} else {
		pid, errno = child.Spawn(p.prog, s)
	}
	w.fds.CloseChild()
	unix.Close(childSock)
	if errno != 0 {
		child.CloseDetached(s)
		p.cloned(-1)
		p.closeWarm()
		return p.abandon(&ChildError{Stage: "clone", Step: "clone3", Op: -1, Errno: errno})
	}
	p.cloned(pid)
	if p.tmpl.lateMountNS {
		p.holdMountNS()
	}
	err := p.release(&w.fds, pid)
	if err == nil {
		err = p.readReports(w.fds.ErrR, w.fds.SyncW, "")
	}
	if err == errWarm {
		return p, nil
	}
	if err == nil {
		err = errors.New("sandbox: the warm child went past the pool point")
	}
	p.discard()
	return nil, err
}

// startPooled starts cmd in a warm child of t's pool, if it has one and cmd
// can be handed over; ok says whether it did. A warm child that cannot serve
// (see leavePool), or that is gone before it took the command, leaves the
// start to the unpooled path.
func (t *Template) startPooled(ctx context.Context, cmd *Command) (p *Process, ok bool, err error) {
	pl := t.pool.Load()
	if pl == nil || t.closed.Load() || cmd.Terminal || cmd.HoldFIFO != "" || cmd.BeforePivot != nil ||
		3+len(cmd.ExtraFiles) > child.MaxFDs || !pl.fits(cmd) {
		return nil, false, nil
	}
	if ctx.Err() != nil {
		return nil, false, nil // the unpooled start says so
	}
	if p = pl.take(); p == nil {
		return nil, false, nil
	}
	if !p.leavePool() {
		go p.discard()
		pl.fill()
		return nil, false, nil
	}
	// p is nil on an error; the refill follows the handover, which its clone
	// would slow down.
	p, err = p.handOver(ctx, cmd)
	pl.refill(p)
	if err == errWarmGone {
		return nil, false, nil
	}
	return p, true, err
}

// errWarmGone is what handOver returns when the warm child was gone before it
// could take the command.
var errWarmGone = errors.New("sandbox: the warm sandbox is gone")

// fits reports whether cmd's message fits in a warm child's buffer.
func (pl *pool) fits(cmd *Command) bool {
	env, dirs := pl.t.env, pl.t.pathDirs
	if cmd.Env != nil {
		env, dirs = cmd.Env, pathDirs(cmd.Env)
	}
	return layout(nil, cmd.Args, env, dirs) <= poolBufLen
}

// leavePool takes the warm child p out of the pool's keeping for a start: it
// stops the watch of the pool's context, which the start's replaces. It
// reports false where p cannot serve: the pool's context ended (and killed
// it), or the host's mounts changed since its root was planned (the next
// unpooled start plans it again).
func (p *Process) leavePool() bool {
	if p.stopCtx != nil {
		if !p.stopCtx() {
			return false
		}
		p.stopCtx = nil
	}
	p.deadline = time.Time{} // the pool's; the start's own replaces it
	if p.tmpl.mounts == nil {
		return true
	}
	t := p.tmpl
	prog, err := t.program()
	if err != nil || prog == p.warm.base {
		return err == nil
	}
	// Planned again: a change of the host's mounts that the plan does not
	// read (most are) leaves the same steps, and the warm root as good.
	t.mounts.mu.Lock()
	defer t.mounts.mu.Unlock()
	return reflect.DeepEqual(t.planSteps(), p.warm.steps)
}

// handOver sends cmd to the warm child p and completes the start as Start's
// handshake does: it returns once the target runs, or with the error of the
// step that failed, the child killed and removed.
func (p *Process) handOver(ctx context.Context, cmd *Command) (*Process, error) {
	w := p.warm
	p.waitDelay = cmd.WaitDelay
	err := p.watchContext(ctx)
	if err == nil {
		err = p.setupStdio(cmd)
	}
	if err == nil {
		err = p.sendCommand(cmd)
	}
	if err == errWarmGone {
		p.discard()
		return nil, err
	}
	p.stdio.CloseChildEnds()
	program := cmd.Args[0]
	if err == nil {
		err = p.readReports(w.fds.ErrR, -1, program)
	}
	if err == nil {
		err = p.checkExec(ctx, program)
	}
	if cause := p.contextErr(); cause != nil {
		err = contextStartErr(cause, program)
	}
	if err == nil {
		err = w.fds.Receive(&p.terminal, &p.listener)
	}
	if err != nil {
		p.discard()
		return nil, err
	}
	p.closeWarm() // after EOF: the child has exec'd, its memory is free
	p.warm = nil
	p.stdio.Start()
	p.armLimits()
	return p, nil
}

// poolProgram returns the program of a warm child: base, the one of the next
// start (planned again where the host's mounts changed), with the pool point
// spliced in after its filesystem segment, and the mount steps of its plan
// where the Template follows the host's mount table.
func (t *Template) poolProgram() (base, pooled *child.Program, steps []mounts.Step, err error) {
	prog, err := t.program()
	if err != nil {
		return nil, nil, nil, err
	}
	at := t.poolAt
	if w := t.mounts; w != nil {
		w.mu.Lock()
		if prog == w.prog {
			at += w.to - w.baseTo
		}
		steps = t.planSteps()
		w.mu.Unlock()
	}
	return prog, prog.Splice(at, at, emit.Pool(prog)), steps, nil
}

// planSteps returns the mount steps of the current plan, with t.mounts.mu held.
func (t *Template) planSteps() []mounts.Step {
	if s := t.mounts.steps; s != nil {
		return s
	}
	return t.plan.Filesystem.Steps
}

// layout lays the message of cmd (args, the environment env and the PATH's
// directories dirs) out in buf, the warm child's buffer, with the arrays'
// pointers at the buffer's own addresses, and returns its length; with a buf
// too short (nil) it only returns the length.
func layout(buf []byte, args, env, dirs []string) int {
	slash := strings.IndexByte(args[0], '/') >= 0
	np := len(dirs)
	if slash {
		np = 1
	}
	head := int(unsafe.Sizeof(child.PoolHeader{}))
	n := head + 8*(len(args)+1+len(env)+1+np)
	for _, a := range args {
		n += len(a) + 1
	}
	for _, e := range env {
		n += len(e) + 1
	}
	if slash {
		n += len(args[0]) + 1
	} else {
		for _, d := range dirs {
			n += len(d) + 1 + len(args[0]) + 1
		}
	}
	if len(buf) < n {
		return n
	}
	m := msg{buf: buf, base: uintptr(unsafe.Pointer(&buf[0])), arr: head, str: head + 8*(len(args)+1+len(env)+1+np)}
	h := (*child.PoolHeader)(unsafe.Pointer(&buf[0]))
	h.Argv = m.strings(args)
	h.Envp = m.strings(env)
	h.Paths, h.NPaths = m.base+uintptr(m.arr), uintptr(np)
	if slash {
		m.ptr(m.str0(args[0], "", ""))
	} else {
		for _, d := range dirs {
			m.ptr(m.str0(d, "/", args[0]))
		}
	}
	return n
}

// A msg writes a message: arrays of pointers from arr on, strings from str on.
type msg struct {
	buf      []byte
	base     uintptr
	arr, str int
}

// strings writes a NULL-terminated array of the C strings of ss and returns its
// address.
func (m *msg) strings(ss []string) uintptr {
	at := m.base + uintptr(m.arr)
	for _, s := range ss {
		m.ptr(m.str0(s, "", ""))
	}
	m.ptr(0)
	return at
}

// ptr appends v to the arrays.
func (m *msg) ptr(v uintptr) {
	*(*uintptr)(unsafe.Pointer(&m.buf[m.arr])) = v
	m.arr += 8
}

// str0 appends the C string a+b+c to the strings and returns its address.
func (m *msg) str0(a, b, c string) uintptr {
	at := m.base + uintptr(m.str)
	m.str += copy(m.buf[m.str:], a)
	m.str += copy(m.buf[m.str:], b)
	m.str += copy(m.buf[m.str:], c)
	m.buf[m.str] = 0
	m.str++
	return at
}

// sendCommand sends cmd to the warm child with the descriptors that setupStdio
// put in the Start.
func (p *Process) sendCommand(cmd *Command) error {
	w, s, t := p.warm, &p.start, p.tmpl
	env, dirs := t.env, t.pathDirs
	if cmd.Env != nil {
		env, dirs = cmd.Env, pathDirs(cmd.Env)
	}
	n := layout(w.buf, cmd.Args, env, dirs)
	if n > len(w.buf) {
		return specErr("command", "%d bytes of arguments and environment, more than the pool's %d", n, len(w.buf))
	}
	h := (*child.PoolHeader)(unsafe.Pointer(&w.buf[0]))
	var fds [child.MaxFDs]int
	k := 0
	h.NFDs = uintptr(s.NFDs)
	for i := 0; i < int(s.NFDs); i++ {
		fd := int(s.FDs[i])
		if fd < 0 {
			h.FDs[i] = -1
			continue
		}
		j := 0
		for j < k && fds[j] != fd {
			j++
		}
		if j == k {
			fds[k] = fd
			k++
		}
		h.FDs[i] = int32(j)
	}
	var oob []byte
	if k > 0 {
		oob = unix.UnixRights(fds[:k]...)
	}
	err := unix.Sendmsg(w.sock, w.buf[:n], oob, nil, unix.MSG_NOSIGNAL)
	if err == unix.EPIPE || err == unix.ECONNRESET || err == unix.ECONNREFUSED {
		return errWarmGone
	}
	if err != nil {
		return &ChildError{Stage: "pool", Step: "send the command to the warm sandbox", Op: -1, Errno: child.ErrnoOf(err), cause: err}
	}
	return nil
}
