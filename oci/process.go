package oci

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/paddock-sandbox/paddock/caps"
	"github.com/paddock-sandbox/paddock/namespace"
	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/sandbox/spec"
)

// process converts the process: its command, environment, terminal, user,
// capabilities, resource limits and the attributes Paddock can or cannot set.
func (c *converter) process() error {
	p := c.cfg.Process
	if p == nil {
		return invalid("process", "no process")
	}
	for _, step := range []func(*specs.Process) error{
		c.command, c.user, c.capabilities, c.rlimits, c.processAttrs,
	} {
		if err := step(p); err != nil {
			return err
		}
	}
	c.spec.NoNewPrivileges = p.NoNewPrivileges
	return nil
}

// command sets the arguments, environment, working directory and terminal.
func (c *converter) command(p *specs.Process) error {
	if len(p.Args) == 0 {
		return invalid("process.args", "no arguments: nothing to run")
	}
	if p.CommandLine != "" {
		return unsupported("process.commandLine", "a Windows field")
	}
	if !filepath.IsAbs(p.Cwd) {
		return invalid("process.cwd", "%q is not an absolute path", p.Cwd)
	}
	env := append([]string{}, p.Env...) // not nil: an empty environment is empty
	c.spec.Env, c.spec.Workdir = env, filepath.Clean(p.Cwd)
	c.cmd.Args, c.cmd.Env, c.cmd.Terminal = append([]string(nil), p.Args...), env, p.Terminal
	if b := p.ConsoleSize; b != nil {
		if !p.Terminal {
			return invalid("process.consoleSize", "a console size without a terminal")
		}
		if b.Height > 0xffff || b.Width > 0xffff {
			return invalid("process.consoleSize", "%dx%d is larger than a terminal can be", b.Width, b.Height)
		}
		c.cmd.TerminalSize = sandbox.WindowSize{Rows: uint16(b.Height), Cols: uint16(b.Width)}
	}
	return nil
}

// user sets the user, its groups and the umask.
func (c *converter) user(p *specs.Process) error {
	u := p.User
	if u.Username != "" {
		return unsupported("process.user.username", "a Windows field")
	}
	c.spec.User = &sandbox.User{UID: u.UID, GID: u.GID, Groups: append([]uint32(nil), u.AdditionalGids...)}
	if u.Umask != nil {
		if *u.Umask > 0o777 {
			return invalid("process.user.umask", "%#o has bits beyond 0777", *u.Umask)
		}
		m := *u.Umask
		c.spec.Umask = &m
	}
	return nil
}

// capabilities sets the five capability sets. Without them (null), the process
// keeps what it has, as a runtime that does not touch them leaves it: every
// capability the caller can pass on, none inheritable or ambient.
func (c *converter) capabilities(p *specs.Process) error {
	pc := p.Capabilities
	if pc == nil {
		all := []string{"ALL"}
		c.spec.Caps = caps.Spec{Bounding: all, Effective: all, Permitted: all}
		return nil
	}
	sets := []struct {
		name  string
		names []string
		set   caps.Set
	}{
		{"bounding", pc.Bounding, 0}, {"effective", pc.Effective, 0}, {"permitted", pc.Permitted, 0},
		{"inheritable", pc.Inheritable, 0}, {"ambient", pc.Ambient, 0},
	}
	for i := range sets {
		s, err := capSet("process.capabilities."+sets[i].name, sets[i].names)
		if err != nil {
			return err
		}
		sets[i].set = s
	}
	if err := checkAmbient(pc.Ambient, sets[2].set&sets[3].set); err != nil {
		return err
	}
	c.spec.Caps = caps.Spec{Bounding: pc.Bounding, Effective: pc.Effective, Permitted: pc.Permitted,
		Inheritable: pc.Inheritable, Ambient: pc.Ambient}
	return nil
}

// capSet parses the capability names of one set; a name this kernel does not
// know cannot be granted.
func capSet(field string, names []string) (caps.Set, error) {
	var s caps.Set
	for i, n := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		cp, err := caps.Parse(n)
		if err != nil {
			return 0, invalidErr(f, err)
		}
		if cp > caps.Last() {
			return 0, unsupported(f, "%s is unknown to this kernel (its last capability is %s)", cp, caps.Last())
		}
		s = s.Add(cp)
	}
	return s, nil
}

// checkAmbient refuses an ambient capability that is not both permitted and
// inheritable, which the kernel refuses to raise (runc's own template asks for
// such ones, and runc only warns).
func checkAmbient(names []string, allowed caps.Set) error {
	for i, n := range names {
		cp, _ := caps.Parse(n) // parsed by capSet
		if !allowed.Has(cp) {
			return invalid(fmt.Sprintf("process.capabilities.ambient[%d]", i),
				"%s is not both permitted and inheritable: the kernel refuses to raise it into the ambient set", cp)
		}
	}
	return nil
}

// rlimits sets the resource limits; a resource listed twice is an error.
func (c *converter) rlimits(p *specs.Process) error {
	seen := map[int]bool{}
	for i, r := range p.Rlimits {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		res, ok := spec.RlimitResource(r.Type)
		if !ok {
			return invalid(field+".type", "unknown resource %q", r.Type)
		}
		if seen[res] {
			return invalid(field+".type", "%s listed twice", r.Type)
		}
		seen[res] = true
		if r.Soft > r.Hard {
			return invalid(field, "soft limit %d above hard limit %d", r.Soft, r.Hard)
		}
		c.spec.Rlimits = append(c.spec.Rlimits, sandbox.Rlimit{Type: r.Type, Soft: r.Soft, Hard: r.Hard})
	}
	return nil
}

// processAttrs sets the OOM score adjustment, the scheduler, the I/O priority
// and the CPU affinity, and refuses an AppArmor profile.
func (c *converter) processAttrs(p *specs.Process) error {
	if p.OOMScoreAdj != nil {
		if err := c.oomScoreAdj(*p.OOMScoreAdj); err != nil {
			return err
		}
	}
	if sc := p.Scheduler; sc != nil {
		flags := make([]string, len(sc.Flags))
		for i, f := range sc.Flags {
			flags[i] = string(f)
		}
		c.spec.Scheduler = &sandbox.Scheduler{Policy: string(sc.Policy), Nice: sc.Nice, Priority: sc.Priority, Flags: flags,
			Runtime: sc.Runtime, Deadline: sc.Deadline, Period: sc.Period}
	}
	if io := p.IOPriority; io != nil {
		c.spec.IOPriority = &sandbox.IOPriority{Class: string(io.Class), Priority: io.Priority}
	}
	if a := p.ExecCPUAffinity; a != nil {
		c.spec.CPUAffinity = &sandbox.CPUAffinity{Initial: a.Initial, Final: a.Final}
	}
	if err := c.checkSched(); err != nil {
		return err
	}
	switch {
	case p.ApparmorProfile != "":
		if !apparmorEnabled() {
			return unsupported("process.apparmorProfile", "AppArmor is not enabled on this host")
		}
		return unsupported("process.apparmorProfile", "Paddock cannot apply AppArmor profiles")
	}
	return nil
}

// oomScoreAdj sets the OOM score adjustment where the sandbox's child can: a
// lower score than the caller's needs CAP_SYS_RESOURCE over the host.
func (c *converter) oomScoreAdj(v int) error {
	if err := spec.CheckOOMScoreAdj(v, c.spec.Namespaces.Mode(namespace.User) != namespace.Host); err != nil {
		return &FieldError{Field: "process.oomScoreAdj", Err: err}
	}
	c.spec.OOMScoreAdj = &v
	return nil
}

// checkSched checks the scheduler, the I/O priority and the CPU affinity as
// Build will, and names the configuration's field of what is wrong or cannot
// be had here (a realtime policy without CAP_SYS_NICE over the host).
func (c *converter) checkSched() error {
	if c.spec.Scheduler == nil && c.spec.IOPriority == nil && c.spec.CPUAffinity == nil {
		return nil
	}
	t := &sandbox.Spec{Namespaces: c.spec.Namespaces, Scheduler: c.spec.Scheduler, IOPriority: c.spec.IOPriority, CPUAffinity: c.spec.CPUAffinity}
	var se *sandbox.SpecError
	if err := t.CheckSched(); errors.As(err, &se) {
		field := "process." + strings.Replace(se.Field, "cpuAffinity", "execCPUAffinity", 1)
		if se.NotSupported {
			return &FieldError{Field: field, Err: fmt.Errorf("%w: %w", sandbox.ErrNotSupported, se.Err)}
		}
		return invalidErr(field, se.Err)
	}
	return nil
}
