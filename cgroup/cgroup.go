package cgroup

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// A Cgroup is the cgroup of one sandbox: a directory in each v1 hierarchy it uses
// and/or one in the unified hierarchy, with descriptors opened for joining it. The
// methods of a nil *Cgroup (what Create returns when no cgroup is needed) do nothing.
// A Cgroup is safe for concurrent use.
type Cgroup struct {
	name    string
	version int
	v1      map[string]string // controller → directory
	dirs    []string          // distinct directories, v1 first, then v2
	joined  []string          // those of dirs that existed: never removed
	v2dir   string            // directory in the unified hierarchy, or ""

	// made holds the directories of a Parent given in the Spec that the cgroups
	// of its Planner made: the removal of each removes those that are empty, so
	// the last to go leaves none, whichever it is. The default parent stays, as
	// Docker's /docker does.
	made *madeDirs

	mu     sync.Mutex
	joins  []int // O_WRONLY "tasks" descriptors, one per v1 directory (JoinFDs)
	v2fd   int   // O_PATH directory descriptor of v2dir, or -1
	closed bool
}

// Create validates spec, plans it for the calling user (see Plan) and creates the
// cgroup called name below spec's parent, applying the resources and device rules.
// It returns a nil *Cgroup and no error when no cgroup is needed (an unprivileged
// caller without a delegated subtree who asked for no limits). On failure, whatever
// it created is removed. To create many cgroups of one Spec, plan once with
// NewPlanner.
func Create(spec *Spec, name string) (*Cgroup, error) {
	pl, err := NewPlanner(spec)
	if err != nil {
		return nil, err
	}
	defer pl.Close() // an attached device program stays with the cgroup
	return pl.Create(name)
}

// A Planner creates the cgroups of one Spec. It does the reading once (the
// validation, the plan, the host's hierarchies, the caller's own cgroups), so that
// each Create only works on the cgroup filesystem. A Planner is immutable and safe
// for concurrent use; it assumes the host's cgroup mounts and the caller's own
// cgroups do not change while it is used.
//
// When the plan has a device program (Need.DeviceProgram), the Planner compiles
// and loads it once and each Create only attaches it; Close releases the Planner's
// descriptor of it.
type Planner struct {
	spec Spec
	need Need
	l    *layout
	own  *Membership

	mu   sync.RWMutex  // held for reading while prog is attached, for writing by Close
	prog *ebpf.Program // the loaded device program, or nil
	made madeDirs      // the directories of spec.Parent its cgroups made
}

// NewPlanner validates spec and plans it for the calling user. When the plan has a
// device program, NewPlanner loads it, and the Planner should be Closed after its
// last Create.
func NewPlanner(spec *Spec) (*Planner, error) {
	need, err := Plan(spec, os.Geteuid())
	if err != nil {
		return nil, err
	}
	pl := &Planner{spec: *spec, need: need}
	if need.Version == 0 {
		return pl, nil
	}
	if pl.l, err = loadLayout(); err != nil {
		return nil, err
	}
	if pl.own, err = ReadMembership(0); err != nil {
		return nil, err
	}
	if need.DeviceProgram {
		if pl.prog, err = loadDeviceProgram(pl.spec.DeviceRules()); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// Close releases the Planner's device program, if any; its Create fails
// afterwards. Cgroups already created keep the program attached until they are
// removed: the kernel holds it for them.
func (pl *Planner) Close() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.prog != nil {
		pl.prog.Close()
		pl.prog = nil
	}
	return nil
}

// Need returns the plan: Version 0 means no cgroup is created.
func (pl *Planner) Need() Need { return pl.need }

// Create creates the cgroup called name, as the package-level Create does.
func (pl *Planner) Create(name string) (*Cgroup, error) {
	if pl.spec.Path != "" {
		name = path.Base(pl.spec.Path)
	} else if err := validName(name); err != nil {
		return nil, err
	}
	if pl.need.Version == 0 {
		return nil, nil
	}
	var prog *ebpf.Program
	if pl.need.DeviceProgram {
		pl.mu.RLock()
		defer pl.mu.RUnlock() // the program stays open while it is attached
		if prog = pl.prog; prog == nil {
			return nil, fileError("attach device program", "", "", os.ErrClosed)
		}
	}
	c := &Cgroup{name: name, version: pl.need.Version, v1: make(map[string]string), v2fd: -1, made: &pl.made}
	if err := c.create(&pl.spec, pl.need, pl.l, pl.own, prog); err != nil {
		c.removeDirs(time.Second)
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cgroup) create(spec *Spec, need Need, l *layout, own *Membership, prog *ebpf.Program) error {
	r := spec.Resources
	if r == nil {
		r = &Resources{}
	}
	if need.Version == 1 {
		for _, ctrl := range need.Controllers {
			h := l.v1[ctrl]
			cgpath := spec.PathFor(own.V1[ctrl], c.name)
			dir := h.dir(cgpath)
			c.v1[ctrl] = dir
			if slices.Contains(c.dirs, dir) {
				continue // a hierarchy with several controllers, such as cpu,cpuacct
			}
			created, ancestors, err := makeDirs(h, cgpath, shares(l, h, "cpuset"), nil, spec.Path != "")
			c.keepAncestors(spec, ancestors)
			c.note(dir, created, err)
			if err != nil {
				return err
			}
		}
		if err := applyV1(c.v1, r, spec.DeviceRules()); err != nil {
			return err
		}
	}
	if need.Version == 2 || need.Unified {
		cgpath := spec.PathFor(own.V2, c.name)
		var enable []string
		if need.Version == 2 {
			enable = need.Controllers
		}
		created, ancestors, err := makeDirs(l.v2, cgpath, false, enable, spec.Path != "")
		c.keepAncestors(spec, ancestors)
		if c.note(l.v2.dir(cgpath), created, err) {
			c.v2dir = l.v2.dir(cgpath)
		}
		if err != nil {
			return err
		}
		// Before any process can join: the program guards the first open.
		if prog != nil {
			if err := attachDeviceProgram(prog, c.v2dir); err != nil {
				return err
			}
		}
		if need.Version == 2 {
			if err := applyV2(c.v2dir, r); err != nil {
				return err
			}
		}
		fd, err := unix.Open(c.v2dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fileError("open", c.v2dir, "", err)
		}
		c.v2fd = fd
	}
	for _, dir := range c.dirs {
		if dir == c.v2dir {
			continue // clone3 places the child there (CloneFD)
		}
		p := filepath.Join(dir, "tasks")
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fileError("open", p, "", err)
		}
		c.joins = append(c.joins, fd)
	}
	return nil
}

// note records dir, which makeDirs created or, without an error, found and
// joined, and reports whether it is the cgroup's.
func (c *Cgroup) note(dir string, created bool, err error) bool {
	switch {
	case created:
	case err == nil:
		c.joined = append(c.joined, dir)
	default:
		return false
	}
	c.dirs = append(c.dirs, dir)
	return true
}

// shares reports whether controller ctrl is mounted in hierarchy h too.
func shares(l *layout, h *hierarchy, ctrl string) bool { return l.v1[ctrl] == h }

// makeDirs creates the directory of cgroup path cgpath in h and any missing
// ancestors, and returns the ancestors it created, outermost first. The last element
// must not exist yet. With cpuset, each new directory gets its parent's cpuset.cpus
// and cpuset.mems (a new v1 cpuset is empty and admits no process). With enable,
// each level's cgroup.subtree_control enables those v2 controllers for its
// children. With join, the last element may exist: it is then joined, not
// created. An ancestor that another sandbox's end removed between two steps
// (ENOENT) is made again.
func makeDirs(h *hierarchy, cgpath string, cpuset bool, enable []string, join bool) (created bool, ancestors []string, err error) {
	for try := 0; ; try++ {
		created, ancestors, err = makeDirsOnce(h, cgpath, cpuset, enable, join)
		if try < 5 && errors.Is(err, unix.ENOENT) {
			continue
		}
		return created, ancestors, err
	}
}

func makeDirsOnce(h *hierarchy, cgpath string, cpuset bool, enable []string, join bool) (created bool, ancestors []string, err error) {
	target := h.dir(cgpath)
	rel, err := filepath.Rel(h.mountpoint, target)
	if err != nil || strings.HasPrefix(rel, "..") {
		return false, nil, &ResourceError{Field: "parent", Value: cgpath, Reason: "outside the hierarchy mounted at " + h.mountpoint}
	}
	parent := h.mountpoint
	elems := strings.Split(rel, "/")
	for i, el := range elems {
		dir := filepath.Join(parent, el)
		if len(enable) > 0 {
			if err := enableControllers(parent, enable); err != nil {
				return false, ancestors, err
			}
		}
		last := i == len(elems)-1
		err := os.Mkdir(dir, 0o755)
		switch {
		case err == nil && last:
			created = true
		case err == nil:
			ancestors = append(ancestors, dir)
		case (!last || join) && errors.Is(err, os.ErrExist):
		default:
			return false, ancestors, fileError("mkdir", dir, "", unwrapPath(err))
		}
		if cpuset {
			if err := inheritCpuset(parent, dir); err != nil {
				return created, ancestors, err
			}
		}
		parent = dir
	}
	return created, ancestors, nil
}

// inheritCpuset gives the v1 cpuset dir its parent's cpus and mems where it has
// none.
func inheritCpuset(parent, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		if cur, _ := readFile(filepath.Join(dir, f)); len(strings.TrimSpace(string(cur))) > 0 {
			continue
		}
		b, err := readFile(filepath.Join(parent, f))
		if err != nil {
			return fileError("read", filepath.Join(parent, f), "", unwrapPath(err))
		}
		if err := writeFile(filepath.Join(dir, f), strings.TrimSpace(string(b))); err != nil {
			return err
		}
	}
	return nil
}

// enableControllers turns on the v2 controllers in dir's cgroup.subtree_control that
// are not on yet.
func enableControllers(dir string, ctrls []string) error {
	on := readFields(filepath.Join(dir, "cgroup.subtree_control"))
	var add []string
	for _, c := range ctrls {
		if !slices.Contains(on, c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	return writeFile(filepath.Join(dir, "cgroup.subtree_control"), strings.Join(add, " "))
}

// applyV1 writes the limits and device rules into the v1 directories.
func applyV1(dirs map[string]string, r *Resources, devices []DeviceRule) error {
	if d := dirs["memory"]; d != "" && r.Memory > 0 {
		if err := writeFile(filepath.Join(d, "memory.limit_in_bytes"), strconv.FormatInt(r.Memory, 10)); err != nil {
			return err
		}
		swap := r.MemorySwap
		if swap == 0 {
			swap = r.Memory
		}
		memsw := filepath.Join(d, "memory.memsw.limit_in_bytes")
		if _, err := os.Stat(memsw); err == nil {
			if err := writeFile(memsw, strconv.FormatInt(swap, 10)); err != nil {
				return err
			}
		} else if r.MemorySwap > 0 {
			return unsupported("memorySwap", "the kernel does not account swap (no memory.memsw.limit_in_bytes)")
		}
	}
	if d := dirs["pids"]; d != "" && r.Pids > 0 {
		if err := writeFile(filepath.Join(d, "pids.max"), strconv.FormatInt(r.Pids, 10)); err != nil {
			return err
		}
	}
	if d := dirs["cpu"]; d != "" {
		quota, period := r.cpuMax()
		if quota > 0 || r.CPUPeriod != 0 {
			if err := writeFile(filepath.Join(d, "cpu.cfs_period_us"), strconv.FormatUint(period, 10)); err != nil {
				return err
			}
		}
		if quota > 0 {
			if err := writeFile(filepath.Join(d, "cpu.cfs_quota_us"), strconv.FormatInt(quota, 10)); err != nil {
				return err
			}
		}
		shares := r.CPUShares
		if r.CPUWeight != 0 {
			shares = weightToShares(r.CPUWeight)
		}
		if shares != 0 {
			if err := writeFile(filepath.Join(d, "cpu.shares"), strconv.FormatUint(shares, 10)); err != nil {
				return err
			}
		}
	}
	if d := dirs["cpuset"]; d != "" && r.Cpuset != "" {
		if err := writeFile(filepath.Join(d, "cpuset.cpus"), r.Cpuset); err != nil {
			return err
		}
	}
	if d := dirs["blkio"]; d != "" && r.IOWeight != 0 {
		f := filepath.Join(d, "blkio.weight")
		if _, err := os.Stat(f); err != nil {
			f = filepath.Join(d, "blkio.bfq.weight")
		}
		if _, err := os.Stat(f); err != nil {
			return unsupported("ioWeight", "no blkio.weight or blkio.bfq.weight (no proportional I/O scheduler)")
		}
		if err := writeFile(f, strconv.FormatUint(uint64(r.IOWeight), 10)); err != nil {
			return err
		}
	}
	if err := applyFineV1(dirs, r); err != nil {
		return err
	}
	if d := dirs["devices"]; d != "" {
		for _, rule := range devices {
			f := "devices.deny"
			if rule.Allow {
				f = "devices.allow"
			}
			if err := writeFile(filepath.Join(d, f), rule.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyV2 writes the limits into a v2 directory.
func applyV2(d string, r *Resources) error {
	var writes [][2]string
	if r.Memory > 0 {
		writes = append(writes, [2]string{"memory.max", strconv.FormatInt(r.Memory, 10)})
		switch {
		case r.MemorySwap == -1:
			writes = append(writes, [2]string{"memory.swap.max", "max"})
		default:
			swap := int64(0)
			if r.MemorySwap > 0 {
				swap = r.MemorySwap - r.Memory
			}
			writes = append(writes, [2]string{"memory.swap.max", strconv.FormatInt(swap, 10)})
		}
	}
	if r.Pids > 0 {
		writes = append(writes, [2]string{"pids.max", strconv.FormatInt(r.Pids, 10)})
	}
	if quota, period := r.cpuMax(); quota > 0 {
		writes = append(writes, [2]string{"cpu.max", strconv.FormatInt(quota, 10) + " " + strconv.FormatUint(period, 10)})
	}
	weight := r.CPUWeight
	if r.CPUShares != 0 {
		weight = sharesToWeight(r.CPUShares)
	}
	if weight != 0 {
		writes = append(writes, [2]string{"cpu.weight", strconv.FormatUint(weight, 10)})
	}
	if r.Cpuset != "" {
		writes = append(writes, [2]string{"cpuset.cpus", r.Cpuset})
	}
	if r.IOWeight != 0 {
		writes = append(writes, [2]string{"io.weight", "default " + strconv.FormatUint(uint64(r.IOWeight), 10)})
	}
	for _, w := range writes {
		f := filepath.Join(d, w[0])
		if w[0] == "memory.swap.max" {
			if _, err := os.Stat(f); err != nil {
				if r.MemorySwap > 0 {
					return unsupported("memorySwap", "no memory.swap.max")
				}
				continue
			}
		}
		if err := writeFile(f, w[1]); err != nil {
			return err
		}
	}
	return applyFineV2(d, r)
}

// writeFile writes data to an existing cgroup file in a single write.
func writeFile(p, data string) error {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileError("write", p, data, err)
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(data)); err != nil {
		return fileError("write", p, data, err)
	}
	return nil
}

// unwrapPath strips an *os.PathError, which fileError restates.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Name returns the name the cgroup was created with.
func (c *Cgroup) Name() string {
	if c == nil {
		return ""
	}
	return c.name
}

// Version returns 1 or 2, like Need.Version (0 for a nil Cgroup).
func (c *Cgroup) Version() int {
	if c == nil {
		return 0
	}
	return c.version
}

// Dirs returns the cgroup's directories: one per v1 hierarchy, then the v2 one,
// those it joined (Joined) among them.
func (c *Cgroup) Dirs() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.dirs)
}

// Created returns the directories of Dirs that the cgroup created: those Remove
// removes.
func (c *Cgroup) Created() []string {
	if c == nil {
		return nil
	}
	return slices.DeleteFunc(slices.Clone(c.dirs), func(d string) bool { return slices.Contains(c.joined, d) })
}

// Joined returns the directories of Dirs that existed before (a Spec's Path that
// an engine made first): the cgroup joined them, and Remove leaves them.
func (c *Cgroup) Joined() []string {
	if c == nil {
		return nil
	}
	return slices.Clone(c.joined)
}

// Dir returns the directory of v1 controller ctrl, or the v2 directory when ctrl is
// "" (empty when there is none).
func (c *Cgroup) Dir(ctrl string) string {
	if c == nil {
		return ""
	}
	if ctrl == "" {
		return c.v2dir
	}
	return c.v1[ctrl]
}

// JoinFDs returns the descriptors a sandbox's child writes "0" to, as its
// KindJoinCgroups step, before it enters or unshares any namespace: the "tasks"
// file of each v1 directory. Writing "0" there moves the writing thread; the child
// is a single-threaded process, so that moves all of it, and the kernel takes no
// global lock for a thread that moves itself. Writing cgroup.procs takes
// cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period: 5 to
// 15 ms a start on this project's machines, against 50 µs for "tasks". The v2
// directory has no descriptor here: clone3's CLONE_INTO_CGROUP places the child
// in it ([Cgroup.CloneFD]). They stay owned by c and are valid until Close.
func (c *Cgroup) JoinFDs() []int {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.joins...)
}

// CloneFD returns a descriptor of the v2 cgroup directory, for clone3's
// CLONE_INTO_CGROUP (SysProcAttr.CgroupFD), and whether there is one. It stays owned
// by c.
func (c *Cgroup) CloneFD() (int, bool) {
	if c == nil {
		return -1, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v2fd, c.v2fd >= 0
}

// Add moves process pid (all its threads) into every directory of the cgroup, from
// the host side.
func (c *Cgroup) Add(pid int) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fileError("write", c.name, "", os.ErrClosed)
	}
	for _, dir := range c.dirs {
		if err := writeFile(filepath.Join(dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the descriptors. The cgroup stays, with its device program attached;
// the descriptors of JoinFDs and CloneFD are then unusable.
func (c *Cgroup) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fd := range c.joins {
		unix.Close(fd)
	}
	c.joins = nil
	c.closed = true
	if c.v2fd >= 0 {
		unix.Close(c.v2fd)
		c.v2fd = -1
	}
	return nil
}

// Remove closes the descriptors and removes every directory that the cgroup
// created, retrying for up to ten seconds while its processes exit (call KillAll
// first). Directories already gone are not an error; parent directories and those
// it joined are left in place. The kernel
// releases an attached device program with the v2 directory.
func (c *Cgroup) Remove() error {
	if c == nil {
		return nil
	}
	c.Close()
	return c.removeDirs(10 * time.Second)
}

// keepAncestors notes the ancestors made for a Parent given in spec.
func (c *Cgroup) keepAncestors(spec *Spec, ancestors []string) {
	if spec.Parent != "" {
		c.made.add(ancestors)
	}
}

// removeAncestors removes the directories of the Parent that the Planner's
// cgroups made, those that are empty: another sandbox's cgroup in one keeps it,
// and the removal of that cgroup tries again.
func (c *Cgroup) removeAncestors() { c.made.removeEmpty() }

// madeDirs are directories that a Planner's cgroups created as ancestors of their
// own. A Cgroup made by Create is the only user of its Planner's.
type madeDirs struct {
	mu   sync.Mutex
	dirs []string
}

func (m *madeDirs) add(dirs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range dirs {
		if !slices.Contains(m.dirs, d) {
			m.dirs = append(m.dirs, d)
		}
	}
}

// removeEmpty removes the directories that are empty, innermost first, and
// forgets those that are gone.
func (m *madeDirs) removeEmpty() {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Longest first: a directory comes before its ancestors.
	slices.SortFunc(m.dirs, func(a, b string) int { return len(b) - len(a) })
	kept := m.dirs[:0]
	for _, d := range m.dirs {
		if err := unix.Rmdir(d); err != nil && err != unix.ENOENT {
			kept = append(kept, d)
		}
	}
	m.dirs = kept
}

func (c *Cgroup) removeDirs(patience time.Duration) error {
	deadline := time.Now().Add(patience)
	var first error
	for _, dir := range c.dirs {
		if slices.Contains(c.joined, dir) {
			continue
		}
		// Right after the last process was reaped, the kernel may still count it
		// for a few microseconds (its css_set is released after an RCU grace
		// period): retry quickly first, then back off.
		delay := 20 * time.Microsecond
		for {
			err := unix.Rmdir(dir)
			if err == nil || err == unix.ENOENT {
				break
			}
			if err == unix.EBUSY && time.Now().Before(deadline) {
				time.Sleep(delay)
				delay = min(2*delay, 50*time.Millisecond)
				continue
			}
			if first == nil {
				first = fileError("rmdir", dir, "", err)
			}
			break
		}
	}
	if first == nil {
		c.removeAncestors()
	}
	return first
}

// KillAll sends SIGKILL to every process in the cgroup. On v2 it writes
// cgroup.kill; on v1 it freezes the cgroup (so nothing forks meanwhile), kills every
// process listed in cgroup.procs and thaws it so the signals are delivered. It does
// not wait for the processes to exit.
func (c *Cgroup) KillAll() error {
	if c == nil {
		return nil
	}
	if c.v2dir != "" {
		err := writeFile(filepath.Join(c.v2dir, "cgroup.kill"), "1")
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
		if err == nil && c.version == 2 {
			return nil
		}
		if c.version == 2 { // before Linux 5.14: no cgroup.kill
			return killListed(c.v2dir)
		}
	}
	freezer := c.v1["freezer"]
	if freezer != "" {
		if err := freeze(freezer, "FROZEN"); err != nil {
			return err
		}
		defer writeFile(filepath.Join(freezer, "freezer.state"), "THAWED")
	}
	for _, dir := range c.dirs {
		if dir == c.v2dir {
			continue
		}
		if err := killListed(dir); err != nil {
			return err
		}
	}
	return nil
}

// freeze writes state to freezer.state and waits (up to a second) until the kernel
// reports it.
func freeze(dir, state string) error {
	f := filepath.Join(dir, "freezer.state")
	for range 1000 {
		if err := writeFile(f, state); err != nil {
			return err
		}
		b, err := readFile(f)
		if err != nil {
			return fileError("read", f, "", unwrapPath(err))
		}
		if strings.TrimSpace(string(b)) == state {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return nil // still FREEZING: kill anyway, SIGKILL needs no cooperation
}

// killListed sends SIGKILL to every pid in dir's cgroup.procs.
func killListed(dir string) error {
	pids, err := readPids(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && err != unix.ESRCH {
			return fileError("kill", strconv.Itoa(pid), "", err)
		}
	}
	return nil
}

// readPids reads a cgroup.procs file.
func readPids(p string) ([]int, error) {
	b, err := readFile(p)
	if err != nil {
		return nil, fileError("read", p, "", unwrapPath(err))
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Pids returns the processes in the cgroup (from the first directory).
func (c *Cgroup) Pids() ([]int, error) {
	if c == nil || len(c.dirs) == 0 {
		return nil, nil
	}
	return readPids(filepath.Join(c.dirs[0], "cgroup.procs"))
}

// FromDirs returns the cgroup whose directories are dirs (the Dirs of a cgroup
// that another process created, or that a process gave up), without
// descriptors: for Pids, KillAll, Remove, Freeze, Usage and Update. Each v1
// directory stands for the controllers of the hierarchy it lies in. No
// directory is a nil *Cgroup.
func FromDirs(dirs []string) *Cgroup {
	if len(dirs) == 0 {
		return nil
	}
	c := &Cgroup{v1: map[string]string{}, dirs: slices.Clone(dirs), made: &madeDirs{}, v2fd: -1, version: 2}
	for _, d := range dirs {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			c.v2dir = d
			continue
		}
		c.version = 1
		for _, ctrl := range v1ControllersOf(d) {
			c.v1[ctrl] = d
		}
	}
	c.name = filepath.Base(c.dirs[0])
	return c
}

// v1ControllersOf returns the v1 controllers of the hierarchy that directory d
// lies in, by the mount table; without one, "freezer" where d has freezer.state.
func v1ControllersOf(d string) []string {
	var ctrls []string
	if l, err := loadLayout(); err == nil {
		for ctrl, h := range l.v1 {
			if d == h.mountpoint || strings.HasPrefix(d, h.mountpoint+"/") {
				ctrls = append(ctrls, ctrl)
			}
		}
	}
	if len(ctrls) == 0 {
		if _, err := os.Stat(filepath.Join(d, "freezer.state")); err == nil {
			ctrls = append(ctrls, "freezer")
		}
	}
	return ctrls
}
