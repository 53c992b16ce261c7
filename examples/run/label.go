package main

import (
	"fmt"
	"strings"

	"github.com/paddock-sandbox/paddock/sandbox"
	"github.com/paddock-sandbox/paddock/selinux"
)

// labelOpt reads podman's --security-opt label=type:T,level:L|disable.
func labelOpt(value string) (sandbox.Option, error) {
	spec, err := selinux.ParseOptions(strings.Split(value, ","))
	if err != nil {
		return nil, fmt.Errorf("--security-opt label=%s: %w", value, err)
	}
	return func(s *sandbox.Spec) { s.Label = spec }, nil
}
