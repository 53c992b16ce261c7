package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The suite's module and the versions it builds with. v0.9.0 (2019) predates
// Go modules' go.sum of its dependencies, so they are pinned here, in a
// throwaway module made in a temporary directory at each run.
const (
	suiteModule  = "github.com/opencontainers/runtime-tools"
	suiteVersion = "v0.9.0"
)

// suiteRequires are the suite's direct dependencies at the versions it was
// written against, and the indirect ones at versions known to build it.
var suiteRequires = []string{
	suiteModule + " " + suiteVersion,
	"github.com/opencontainers/runtime-spec v1.0.2",
	"github.com/syndtr/gocapability v0.0.0-20180916011248-d98352740cb2",
	"github.com/opencontainers/selinux v1.2.2",
	"github.com/urfave/cli v1.22.1",
	"github.com/blang/semver v3.5.1+incompatible",
	"github.com/hashicorp/go-multierror v1.1.1",
	"github.com/mndrix/tap-go v0.0.0-20171203230836-629fa407e90b",
	"github.com/mrunalp/fileutils v0.5.1",
	"github.com/satori/go.uuid v1.2.0",
	"github.com/sirupsen/logrus v1.10.2",
	"github.com/xeipuuv/gojsonschema v1.2.0",
	"golang.org/x/sys v0.50.0",
}

// suite is the built suite: its validation programs, by name, and the
// directory each runs in (runtimetest and the root filesystem's tarball).
type suite struct {
	bin   string   // the directory of the built programs, NAME.t
	work  string   // the working directory the programs need
	files []string // the programs' names, sorted
}

// buildSuite makes a module in tmp that requires the suite, builds runtimetest
// and every validation program, and lays out the working directory.
func buildSuite(tmp string) (*suite, error) {
	mod := filepath.Join(tmp, "suite")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return nil, err
	}
	gomod := "module conformance.invalid/suite\n\ngo 1.19\n\nrequire (\n\t" + strings.Join(suiteRequires, "\n\t") + "\n)\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		return nil, err
	}
	if _, err := goCmd(mod, "mod", "download", suiteModule); err != nil {
		return nil, err
	}
	src, err := goCmd(mod, "list", "-m", "-f", "{{.Dir}}", suiteModule)
	if err != nil {
		return nil, err
	}
	src = strings.TrimSpace(src)
	files, err := validationFiles(filepath.Join(src, "validation"))
	if err != nil {
		return nil, err
	}
	s := &suite{bin: filepath.Join(tmp, "bin"), work: filepath.Join(tmp, "work"), files: files}
	pkgs := []string{suiteModule + "/cmd/runtimetest"}
	for _, f := range files {
		pkgs = append(pkgs, suiteModule+"/validation/"+f)
	}
	if _, err := goCmd(mod, append([]string{"build", "-o", s.bin + "/"}, pkgs...)...); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.work, 0o755); err != nil {
		return nil, err
	}
	if err := copyFile(filepath.Join(s.bin, "runtimetest"), filepath.Join(s.work, "runtimetest"), 0o755); err != nil {
		return nil, err
	}
	tarball := "rootfs-amd64.tar.gz"
	return s, copyFile(filepath.Join(src, tarball), filepath.Join(s.work, tarball), 0o644)
}

// validationFiles lists the validation programs: each directory of dir with
// Go files, other than the shared util package.
func validationFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "util" {
			continue
		}
		if m, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.go")); len(m) > 0 {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no validation programs in %s", dir)
	}
	return out, nil
}

// goCmd runs the go command in dir with the module mode the suite needs and
// returns its standard output.
func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// copyFile copies src to dst with mode perm.
func copyFile(src, dst string, perm os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, perm)
}
