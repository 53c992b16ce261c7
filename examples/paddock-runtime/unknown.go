package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/paddock-sandbox/paddock/oci"
)

// warnUnknown reports on standard error the properties of the bundle's
// configuration that the runtime-spec types do not know: the spec has a
// runtime ignore them, and a misspelt or newer field should not go unseen.
func warnUnknown(bundle string) {
	if u, err := oci.UnknownFields(bundle); err == nil && len(u) > 0 {
		fmt.Fprintf(os.Stderr, "paddock-runtime: warning: %s: ignoring properties the runtime spec does not define: %s\n", oci.ConfigName, strings.Join(u, ", "))
	}
}
