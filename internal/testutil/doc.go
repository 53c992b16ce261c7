// Package testutil runs tests the way Paddock's users run sandboxes: as root, and
// again as an unprivileged user by re-executing the test binary under another uid,
// so that the rootless code paths are the real ones and never skipped.
package testutil
