// Package selinux gives a sandbox the SELinux labels that Podman and Docker give a container.
//
// SELinux is type enforcement: every process and every file carries a label
// user:role:type:level, and the loaded policy says which process types may do what to which
// file types. A container process runs as container_t and may write only files labelled
// container_file_t (its root filesystem, its tmpfs and overlay mounts), so a process that
// escapes its mount namespace still cannot touch the host's files. A privileged sandbox runs
// as spc_t ("super privileged container"), which the policy leaves nearly unconfined.
//
// Type enforcement alone does not separate two containers, which share container_t. MCS (multi
// category security) adds that: the level "s0:c1,c2" names a set of categories, and the policy
// lets a process touch an object only when the process's categories include the object's.
// Each sandbox therefore gets its own pair of categories out of c0..c1023 (an Allocator hands
// them out, like go-selinux and Podman do), on its process label and on its file label alike:
// sandbox A (s0:c1,c2) cannot read the files of sandbox B (s0:c3,c4), although both are
// container_t and container_file_t. 1024 categories give 523776 distinct pairs.
//
// The child applies the process label by writing it to /proc/thread-self/attr/exec just
// before execve (see ExecAttrPath); the kernel switches the label at exec. File labels are
// given to the sandbox's tmpfs and overlay mounts with the context= mount option (see
// MountOption).
//
// On a host where SELinux is disabled, labelling is a no-op; but a Spec that asks for a
// specific label (type, level, user, role or file type) fails with ErrNotSupported rather
// than run unlabelled without saying so.
package selinux
