// Package oci turns the configuration of an OCI runtime bundle (its config.json,
// in the types of github.com/opencontainers/runtime-spec/specs-go) into a sandbox
// Spec and the Command its process runs: the first piece of an OCI runtime that
// container engines (Podman, containerd, Kubernetes through CRI) can drive.
//
// An OCI runtime does exactly what the configuration says and nothing else: it
// mounts only the mounts listed, masks only the paths listed, creates only the
// namespaces listed and grants only the capabilities listed. Convert therefore
// starts from an empty Spec, not from a preset: no default mounts, no default
// masks, no seccomp filter and no SELinux label unless the configuration asks
// for them.
//
// Whatever the configuration asks for that Paddock cannot honour fails with a
// *FieldError naming the field in the OCI JSON path form ("process.oomScoreAdj",
// "linux.sysctl", "mounts[3].options"): it matches sandbox.ErrNotSupported where
// Paddock (or this host) lacks the feature, and sandbox.ErrInvalidSpec where the
// configuration itself is wrong. Nothing is dropped silently. Properties that
// the runtime spec does not define at all are the exception the spec makes:
// ReadConfig ignores them, as a runtime must, and UnknownFields names them for
// the runtime to report. What Convert
// accepts is checked again, against the host and the caller, by
// sandbox.Builder.Build, whose errors name the Spec's fields.
package oci
