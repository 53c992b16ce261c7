package exposure

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path"
	"strings"

	"github.com/paddock-sandbox/paddock/inspect"
)

// KernelCode is what a kernel is known to be built with: its build options and
// its modules. A missing entry is unknown unless the lists are complete.
type KernelCode struct {
	// Config maps options to "y", "m" or "n" ("# CONFIG_X is not set"), as
	// /proc/config.gz or /boot/config-RELEASE say; nil when neither is readable.
	// When Config is known, an option it does not name is not set.
	Config map[string]string `json:"config,omitempty"`
	// Modules maps module names to "loaded" (/sys/module), "builtin"
	// (modules.builtin) or "loadable" (modules.dep).
	Modules map[string]string `json:"modules,omitempty"`
	// ModulesListed is set when modules.builtin and modules.dep were both read: a
	// module in neither is then not built.
	ModulesListed bool `json:"modulesListed,omitempty"`
	// ModulesDisabled is kernel.modules_disabled = 1: no module can be loaded any
	// more, so one not loaded yet stays out.
	ModulesDisabled bool `json:"modulesDisabled,omitempty"`
}

// ReadKernelCode reads what the running kernel, of release (uname -r), is built
// with: /proc/config.gz, else /boot/config-RELEASE; /sys/module; and
// /lib/modules/RELEASE/modules.builtin and modules.dep. It returns nil when none
// of them is readable.
func ReadKernelCode(release string) *KernelCode {
	k := &KernelCode{Modules: map[string]string{}}
	k.Config = readConfig(release)
	found := k.Config != nil
	if ents, err := os.ReadDir("/sys/module"); err == nil {
		for _, e := range ents {
			k.Modules[e.Name()] = "loaded"
		}
	}
	dir := "/lib/modules/" + release
	builtin := k.readModuleList(dir+"/modules.builtin", "builtin")
	dep := k.readModuleList(dir+"/modules.dep", "loadable")
	k.ModulesListed = builtin && dep
	if b, err := os.ReadFile("/proc/sys/kernel/modules_disabled"); err == nil {
		k.ModulesDisabled = strings.TrimSpace(string(b)) == "1"
	}
	if !found && !builtin && !dep && len(k.Modules) == 0 {
		return nil
	}
	return k
}

// runningKernelCode is ReadKernelCode for a Plan made for kernel release: the
// running kernel's build when release is the running one, unknown otherwise.
func runningKernelCode(release string) *KernelCode {
	if running := inspect.KernelRelease(); release == "" || release != running {
		return nil
	}
	return ReadKernelCode(release)
}

// readConfig parses the kernel's build configuration, nil when unreadable.
func readConfig(release string) map[string]string {
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		if z, err := gzip.NewReader(f); err == nil {
			r = z
		}
	}
	if r == nil {
		f, err := os.Open("/boot/config-" + release)
		if err != nil {
			return nil
		}
		defer f.Close()
		r = f
	}
	return ParseKernelConfig(r)
}

// ParseKernelConfig reads a kernel .config: "CONFIG_X=y", "CONFIG_X=m", and
// "# CONFIG_X is not set" (recorded as "n"); other values are kept as written.
// It returns nil when r cannot be read.
func ParseKernelConfig(r io.Reader) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok = strings.CutSuffix(name, " is not set"); ok {
				out[name] = "n"
			}
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok && strings.HasPrefix(name, "CONFIG_") {
			out[name] = val
		}
	}
	if sc.Err() != nil {
		return nil
	}
	return out
}

// readModuleList adds the modules of a modules.builtin or modules.dep file
// (one path per line, "kernel/net/sched/cls_u32.ko[.xz]:" in the latter) and
// reports whether it was readable.
func (k *KernelCode) readModuleList(name, state string) bool {
	b, err := os.ReadFile(name)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		file, _, _ := strings.Cut(line, ":")
		if file == "" {
			continue
		}
		mod, _, _ := strings.Cut(path.Base(file), ".ko")
		mod = strings.ReplaceAll(mod, "-", "_")
		if _, seen := k.Modules[mod]; !seen {
			k.Modules[mod] = state
		}
	}
	return true
}

// state says whether the kernel has the code of n: "y" (built in or loaded),
// "m" (a module that can still be loaded), "n" (not built, or a module that can
// no longer be loaded) or "" (unknown), with the evidence.
func (k *KernelCode) state(n KernelNeed) (string, string) {
	if k == nil {
		return "", ""
	}
	mod := strings.ReplaceAll(n.Module, "-", "_")
	switch k.Modules[mod] {
	case "loaded":
		return "y", "module " + mod + " is loaded"
	case "builtin":
		return "y", mod + " is built in (modules.builtin)"
	}
	if k.Config != nil {
		v := k.Config[n.Config]
		switch {
		case v == "y":
			return "y", "built in (" + n.Config + "=y)"
		case v == "m" && k.ModulesDisabled:
			return "n", n.Config + "=m, but kernel.modules_disabled is 1 and the module is not loaded"
		case v == "m":
			return "m", n.Config + "=m: a module the kernel loads on demand"
		case v == "" || v == "n":
			return "n", n.Config + " is not set in the kernel's configuration"
		}
	}
	if mod != "" && k.Modules[mod] == "loadable" {
		if k.ModulesDisabled {
			return "n", "module " + mod + " is not loaded and kernel.modules_disabled is 1"
		}
		return "m", "module " + mod + " can be loaded on demand (modules.dep)"
	}
	if mod != "" && k.ModulesListed {
		return "n", "module " + mod + " is neither built in nor in modules.dep"
	}
	return "", ""
}

// keepCode copies m's kernel code into r when the kernel-config layer is kept.
func (r *Mechanisms) keepCode(m *Mechanisms, l Layer) {
	if l == LayerKernelConfig {
		r.KernelCode = m.KernelCode
	}
}

// kernelCode checks the kernel options the flaw needs against what the kernel
// is known to be built with; an unknown one is named, not guessed.
func (e *evaluator) kernelCode() bool {
	ok := true
	for _, n := range e.f.KernelConfig {
		what := n.Config
		if n.Module != "" {
			what += " (module " + n.Module + ")"
		}
		st, why := e.m.KernelCode.state(n)
		switch st {
		case "":
			e.sayf("The flaw needs %s; whether this kernel has it is unknown.", what)
		case "n":
			e.sayf("The flaw needs %s, which this kernel lacks: %s. [%s] stops it.", what, why, LayerKernelConfig)
			ok = false
		default:
			e.sayf("The kernel has %s: %s.", what, why)
		}
	}
	return ok
}

// triggers reports what must happen outside the sandbox for a runtime flaw.
func (e *evaluator) triggers() bool {
	if len(e.f.Triggers) == 0 {
		return true
	}
	w := make([]string, len(e.f.Triggers))
	for i, t := range e.f.Triggers {
		w[i] = triggerWords[t]
	}
	e.sayf("The flaw fires only when %s. That happens outside the sandbox, where none of its layers stands; the verdict assumes it happens.", strings.Join(w, ", and "))
	return true
}
