//go:build !linux || !amd64

package child

// Paddock builds only for linux/amd64: the child's vfork trampoline and deadline
// timer are amd64 assembly, the sandbox's init is amd64 machine code, and no other
// platform is tested. On any other platform the build stops here, at an
// identifier that says so.
var _ = paddock_supports_only_linux_amd64
