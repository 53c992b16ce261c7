package exposure

import (
	"fmt"
	"regexp"
)

// A KernelNeed is a kernel build option the flaw needs: the code it is in, or
// code on its way there (a classifier, a netfilter expression, a filesystem).
// Kernels are built without many of them, or with them as modules that an
// unprivileged process can only have loaded on demand.
type KernelNeed struct {
	// Config is the Kconfig option, "CONFIG_NET_CLS_U32" form.
	Config string `json:"config"`
	// Module is the module the option builds when it is set to m ("cls_u32");
	// empty for an option that is never a module of its own.
	Module string `json:"module,omitempty"`
	// Why says what the code is for.
	Why string `json:"why,omitempty"`
}

// A Trigger is something that must happen outside the sandbox for a runtime
// flaw to fire.
type Trigger string

// The triggers.
const (
	// TriggerExec: the operator runs a process in the running sandbox through
	// the runtime (docker exec, runc exec).
	TriggerExec Trigger = "exec"
	// TriggerCopy: the operator copies files into or out of the sandbox through
	// the engine (docker cp).
	TriggerCopy Trigger = "cp"
	// TriggerImage: the sandbox runs an image, or a root filesystem, that the
	// attacker supplied.
	TriggerImage Trigger = "image"
	// TriggerPull: the engine unpacks an image the attacker supplied (pull, load
	// or build) before any sandbox runs.
	TriggerPull Trigger = "pull"
	// TriggerVolume: a volume the sandbox shares with another one the attacker
	// controls is mounted when a sandbox is created.
	TriggerVolume Trigger = "volume"
	// TriggerStart: any start of the sandbox by an affected runtime.
	TriggerStart Trigger = "start"
)

// triggerWords describes each trigger in a verdict.
var triggerWords = map[Trigger]string{
	TriggerExec:   "the operator runs a process in the sandbox through the runtime (exec)",
	TriggerCopy:   "the operator copies files into or out of the sandbox through the engine (cp)",
	TriggerImage:  "the sandbox runs an image the attacker supplied",
	TriggerPull:   "the engine unpacks an image the attacker supplied (pull, load or build)",
	TriggerVolume: "a volume shared with another sandbox the attacker controls is mounted",
	TriggerStart:  "an affected runtime starts the sandbox",
}

var (
	configName = regexp.MustCompile(`^CONFIG_[A-Z0-9_]+$`)
	moduleName = regexp.MustCompile(`^[a-z0-9_]+$`)
)

// validateConditions checks the kernel options and the triggers of f.
func (f *Flaw) validateConditions() *FlawError {
	for i, k := range f.KernelConfig {
		p := fmt.Sprintf("kernelConfig[%d]", i)
		if !configName.MatchString(k.Config) {
			return fieldErr(p+".config", "%q is not a CONFIG_ option name", k.Config)
		}
		if k.Module != "" && !moduleName.MatchString(k.Module) {
			return fieldErr(p+".module", "%q is not a module name (lower case, digits, _)", k.Module)
		}
	}
	for i, t := range f.Triggers {
		if _, ok := triggerWords[t]; !ok {
			return fieldErr(fmt.Sprintf("triggers[%d]", i), "%q is not exec, cp, image, pull, volume or start", t)
		}
		if f.Kind != "runtime" {
			return fieldErr(fmt.Sprintf("triggers[%d]", i), "only runtime flaws have triggers")
		}
	}
	return nil
}
