package oci

import (
	"bytes"
	"os"
)

// apparmorEnabled reports whether the AppArmor module is loaded and enabled.
func apparmorEnabled() bool {
	data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(data, []byte("Y"))
}
