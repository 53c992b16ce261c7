package cgroup

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// TestDeviceProgramCompiles checks the program's shape for the rules this package
// accepts: wildcards, type "a", partial access.
func TestDeviceProgramCompiles(t *testing.T) {
	rules := append(DefaultDevices(), DeviceRule{Allow: true, Type: "b", Major: 7, Minor: Wildcard, Access: "r"})
	matches, err := deviceMatches(rules)
	if err != nil {
		t.Fatal(err)
	}
	if !matches[0].matchesAll() || matches[0].allow {
		t.Errorf("deny-all rule converted to %+v", matches[0])
	}
	last := matches[len(matches)-1]
	if want := (deviceMatch{typ: unix.BPF_DEVCG_DEV_BLOCK, major: 7, minor: Wildcard, access: unix.BPF_DEVCG_ACC_WRITE}); last != want {
		t.Errorf("an allow of r alone is followed by %+v, want %+v", last, want)
	}
	insts, err := deviceProgram(rules)
	if err != nil {
		t.Fatal(err)
	}
	// The deny-all rule ends the program: no block for what no rule matched.
	if n, deny := len(insts), asm.Mov.Imm32(asm.R0, 0); insts[n-2].OpCode != deny.OpCode || insts[n-2].Dst != asm.R0 ||
		insts[n-2].Constant != 0 || insts[n-1].OpCode != asm.Return().OpCode || insts[n-2].Symbol() == blockLabel(-1) {
		t.Errorf("program ends with %v %v, want the deny-all verdict", insts[n-2], insts[n-1])
	}
	labels, err := insts.SymbolOffsets()
	if err != nil {
		t.Fatal(err)
	}
	for i, ins := range insts {
		if ref := ins.Reference(); ref != "" {
			if _, ok := labels[ref]; !ok || labels[ref] <= i {
				t.Errorf("instruction %d (%v) jumps to %q, which is not a later instruction", i, ins, ref)
			}
		}
	}
}

// TestDeviceProgramRefuses: rules the kernel's u32 numbers or access bits cannot
// express are an error, not a program.
func TestDeviceProgramRefuses(t *testing.T) {
	for _, r := range []DeviceRule{
		{Allow: true, Type: "c", Major: math.MaxUint32 + 1, Minor: 0, Access: "r"},
		{Allow: true, Type: "c", Major: 1, Minor: math.MaxUint32 + 1, Access: "r"},
		{Allow: true, Type: "c", Major: 1, Minor: 3, Access: "x"},
		{Allow: true, Type: "p", Major: 1, Minor: 3, Access: "r"},
	} {
		if _, err := deviceProgram([]DeviceRule{r}); err == nil {
			t.Errorf("%v compiled", r)
		}
	}
	if prog, err := loadDeviceProgram([]DeviceRule{{Type: "c", Major: 1, Minor: 3, Access: "?"}}); err == nil {
		prog.Close()
		t.Error("loadDeviceProgram loaded a bad rule")
	}
}

// deviceUnderTest is a device node the verdict test creates and asks about.
type deviceUnderTest struct {
	typ          string // "b" or "c"
	major, minor int64
}

func (d deviceUnderTest) String() string { return fmt.Sprintf("%s %d:%d", d.typ, d.major, d.minor) }

// expectedVerdict is the v1 controller's answer, which the program must give for
// rule lists where no two rules for the same devices grant r and w separately: the
// last rule that matches decides and what none matches is denied; a rule matches a
// device of its type ("a": any) and numbers (Wildcard: any); an allow rule matches
// a request its access contains, a deny rule one its access shares a letter with.
func expectedVerdict(rules []DeviceRule, d deviceUnderTest, access string) bool {
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if r.Type == "a" {
			return r.Allow
		}
		if r.Type != d.typ || (r.Major != Wildcard && r.Major != d.major) || (r.Minor != Wildcard && r.Minor != d.minor) {
			continue
		}
		contains := !strings.ContainsFunc(access, func(c rune) bool { return !strings.ContainsRune(r.Access, c) })
		shares := strings.ContainsAny(access, r.Access)
		if (r.Allow && contains) || (!r.Allow && shares) {
			return r.Allow
		}
	}
	return false
}

// TestDeviceProgramVerdicts loads programs for an allow list and a deny list,
// attaches each as the only device enforcement of a cgroup, and has a probe inside
// it open device nodes for reading, writing and both, and create them: a request
// is refused with EPERM exactly where the rules deny it. Majors 60 and 61 are for
// local use: no driver answers them, so opens the program lets through fail with
// ENXIO and no device is touched.
func TestDeviceProgramVerdicts(t *testing.T) {
	requireDeviceProgram(t)
	requireUnregisteredMajors(t, 60, 61)
	const w = Wildcard
	devs := []deviceUnderTest{{"c", 1, 3}, {"c", 1, 5}, {"c", 1, 7}, {"c", 1, 8}, {"c", 1, 9},
		{"c", 60, 0}, {"c", 60, 2}, {"b", 60, 0}, {"b", 60, 1}, {"b", 61, 2}}
	lists := map[string][]DeviceRule{
		"allow-list": {
			{Type: "a"},
			{Allow: true, Type: "c", Major: 1, Minor: w, Access: "m"},
			{Allow: true, Type: "c", Major: 1, Minor: 3, Access: "rw"},
			{Allow: true, Type: "c", Major: 1, Minor: 5, Access: "r"},
			{Allow: true, Type: "c", Major: 1, Minor: 7, Access: "w"},
			{Allow: true, Type: "c", Major: 1, Minor: 9, Access: "rwm"},
			{Type: "c", Major: 1, Minor: 9, Access: "w"},
			{Allow: true, Type: "b", Major: 60, Minor: w, Access: "rwm"},
			{Type: "b", Major: 60, Minor: 1, Access: "mrw"},
			{Allow: true, Type: "c", Major: w, Minor: 2, Access: "r"},
		},
		"deny-list": {
			{Allow: true, Type: "a"},
			{Type: "c", Major: 1, Minor: 5, Access: "rwm"},
			{Type: "c", Major: 1, Minor: 8, Access: "w"},
			{Type: "b", Major: w, Minor: w, Access: "m"},
			{Allow: true, Type: "b", Major: 60, Minor: 0, Access: "m"},
			{Type: "c", Major: w, Minor: 2, Access: "rw"},
		},
	}
	for name, rules := range lists {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			makeDeviceNodes(t, dir, devs)
			spec := testSpec(t, nil)
			spec.DeviceEnforcement = DevicesProgram
			spec.Devices = rules
			c := create(t, spec, name)
			if n := attachedPrograms(t, c.Dir("")); n != 1 {
				t.Fatalf("%d device programs attached, want 1", n)
			}
			got := runAccessProbe(t, c, dir, devs)
			for i, d := range devs {
				if want := verdictLine(rules, d); got[i] != want {
					t.Errorf("got  %s\nwant %s", got[i], want)
				}
			}
			if err := c.Remove(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// probeAccesses are the requests the probe makes of each device, in order.
var probeAccesses = []string{"r", "w", "rw", "m"}

// verdictLine is the probe's line for d when the rules decide alone.
func verdictLine(rules []DeviceRule, d deviceUnderTest) string {
	fields := []string{d.String()}
	for _, a := range probeAccesses {
		v := "denied"
		if expectedVerdict(rules, d, a) {
			v = "ok"
		}
		fields = append(fields, a+"="+v)
	}
	return strings.Join(fields, " ")
}

// requireUnregisteredMajors skips when a driver of this kernel registered one of
// majors, whose nodes the verdict test opens.
func requireUnregisteredMajors(t *testing.T, majors ...int) {
	t.Helper()
	data, err := os.ReadFile("/proc/devices")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for _, m := range majors {
			if len(f) == 2 && f[0] == strconv.Itoa(m) {
				t.Skipf("major %d is registered by %s on this kernel", m, f[1])
			}
		}
	}
}

// makeDeviceNodes creates a node for each device in dir and checks that the
// test's own cgroup lets every request through: otherwise a refusal inside the
// sandbox's cgroup would prove nothing.
func makeDeviceNodes(t *testing.T, dir string, devs []deviceUnderTest) {
	t.Helper()
	for _, d := range devs {
		node := filepath.Join(dir, nodeName(d))
		if err := unix.Mknod(node, deviceMode(d)|0o600, int(unix.Mkdev(uint32(d.major), uint32(d.minor)))); err != nil {
			t.Skipf("mknod %v here: %v", d, err)
		}
		for _, a := range probeAccesses[:3] {
			if err := openFor(node, a); err == unix.EPERM || err == unix.EACCES {
				t.Skipf("opening %v for %s outside the sandbox's cgroup: %v", d, a, err)
			}
		}
	}
}

func nodeName(d deviceUnderTest) string { return fmt.Sprintf("%s%d_%d", d.typ, d.major, d.minor) }

func deviceMode(d deviceUnderTest) uint32 {
	if d.typ == "b" {
		return unix.S_IFBLK
	}
	return unix.S_IFCHR
}

// openFor opens node for access "r", "w" or "rw" and closes it.
func openFor(node, access string) error {
	flags := map[string]int{"r": unix.O_RDONLY, "w": unix.O_WRONLY, "rw": unix.O_RDWR}[access]
	fd, err := unix.Open(node, flags|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err
}

// runAccessProbe runs accessProbe inside c on the nodes made in dir and returns its
// lines, one per device.
func runAccessProbe(t *testing.T, c *Cgroup, dir string, devs []deviceUnderTest) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var spec []string
	for _, d := range devs {
		spec = append(spec, fmt.Sprintf("%s:%d:%d", d.typ, d.major, d.minor))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), probeEnv+"="+probeAccess, "PROBE_DIR="+dir, "PROBE_DEVICES="+strings.Join(spec, ","))
	out, err := runInCgroup(t, c, cmd)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != len(devs) {
		t.Fatalf("probe: %v, output %q", err, out)
	}
	return lines
}

// accessProbe waits for a line on stdin (the parent places it in the cgroup
// meanwhile), then, for each device of PROBE_DEVICES, opens its node in PROBE_DIR
// for reading, writing and both and creates a second node of it. It prints a line
// per device, e.g. "c 1:3 r=ok w=ok rw=denied m=ok", where denied means EPERM and
// ok success or a driver's refusal.
func accessProbe() int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	dir := os.Getenv("PROBE_DIR")
	verdict := func(err error) string {
		if err == unix.EPERM {
			return "denied"
		}
		return "ok"
	}
	for _, s := range strings.Split(os.Getenv("PROBE_DEVICES"), ",") {
		var d deviceUnderTest
		parts := strings.Split(s, ":")
		d.typ = parts[0]
		d.major, _ = strconv.ParseInt(parts[1], 10, 64)
		d.minor, _ = strconv.ParseInt(parts[2], 10, 64)
		fields := []string{d.String()}
		for _, a := range probeAccesses[:3] {
			fields = append(fields, a+"="+verdict(openFor(filepath.Join(dir, nodeName(d)), a)))
		}
		made := filepath.Join(dir, "made-"+nodeName(d))
		err := unix.Mknod(made, deviceMode(d)|0o600, int(unix.Mkdev(uint32(d.major), uint32(d.minor))))
		if err == nil {
			os.Remove(made)
		}
		fields = append(fields, "m="+verdict(err))
		fmt.Println(strings.Join(fields, " "))
	}
	return 0
}
