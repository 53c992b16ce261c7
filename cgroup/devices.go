package cgroup

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// DeviceEnforcement chooses the kernel mechanism that enforces the device rules.
//
// Cgroup v1 has the devices controller (devices.allow, devices.deny). Cgroup v2 has
// no device files: a BPF_CGROUP_DEVICE program attached to the cgroup decides each
// mknod and open of a device node. The kernel runs both checks, so on a hybrid host
// a program attached to the sandbox's directory in the unified hierarchy is
// enforced beside (or instead of) the v1 controller.
type DeviceEnforcement string

// The enforcement choices.
const (
	// DevicesAuto uses one mechanism: the v1 devices controller where it is
	// mounted (v1 and hybrid hosts), otherwise a device program (v2 hosts, or a
	// hybrid host without the devices controller). On a hybrid host the
	// controller is kept although the program alone creates and removes a cgroup
	// faster (no devices hierarchy to create, fill and join; see
	// BenchmarkCreateRemove): devices.list is what Inspect-based checks read, the
	// program needs a load per Planner, and the controller's semantics are the
	// reference the program imitates.
	DevicesAuto DeviceEnforcement = ""
	// DevicesProgram enforces the rules with a device program only, also on a
	// hybrid host, where the v1 devices controller is then left alone. A host
	// without a unified hierarchy cannot have it.
	DevicesProgram DeviceEnforcement = "program"
	// DevicesBoth enforces the rules with the v1 devices controller and a device
	// program on a hybrid host (defence in depth, at the cost of attaching a
	// program per cgroup); elsewhere it is DevicesAuto.
	DevicesBoth DeviceEnforcement = "both"
)

func (e DeviceEnforcement) valid() bool {
	return e == DevicesAuto || e == DevicesProgram || e == DevicesBoth
}

// loadDeviceProgram compiles rules to a device program (see deviceProgram) and
// loads it into the kernel.
func loadDeviceProgram(rules []DeviceRule) (*ebpf.Program, error) {
	insts, err := deviceProgram(rules)
	if err != nil {
		return nil, fileError("build device program", "", "", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.CGroupDevice,
		Instructions: insts,
		License:      deviceProgramLicense,
	})
	if err != nil {
		return nil, fileError("load device program", "", "", err)
	}
	return prog, nil
}

// attachDeviceProgram attaches prog to the v2 cgroup directory dir. The attachment
// lives as long as the cgroup: the kernel holds its own reference to the program
// and drops it when the directory is removed, so nothing is kept here.
// BPF_F_ALLOW_MULTI lets programs of ancestors run as well; every program must
// allow an access, so a sandbox's program can only narrow what its parent allows.
func attachDeviceProgram(prog *ebpf.Program, dir string) error {
	// BPF_PROG_ATTACH does not accept an O_PATH descriptor.
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileError("open", dir, "", err)
	}
	defer unix.Close(fd)
	err = link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  fd,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	})
	if err != nil {
		return fileError("attach device program to", dir, "", err)
	}
	return nil
}

// String returns the enforcement's name, "auto" for DevicesAuto.
func (e DeviceEnforcement) String() string {
	if e == DevicesAuto {
		return "auto"
	}
	return string(e)
}
