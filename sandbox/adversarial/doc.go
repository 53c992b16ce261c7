// Package adversarial holds the adversarial battery: tests that attack a sandbox
// the way hostile input does, through its root filesystem, the IDs and sizes it is
// given, and the code it runs, so that the classes of holes it covers cannot come
// back. It has no code of its own; see its tests and SECURITY.md.
//
// Every test checks that the host is left as it was (a canary tree, the mount
// table, the layers of the root filesystem) and that each attack either fails
// with a typed error before the target runs or runs without reaching the host.
package adversarial
