// Command run starts a command in a Paddock sandbox, with the flags of podman run.
//
//	go run ./examples/run [flags] -- COMMAND [ARG...]
//
// Run as root it builds a rootful sandbox, run by any other user a rootless one.
// Without --rootfs the sandbox's root is the host's own "/" as a read-only lower
// layer: writes go to an ephemeral layer that vanishes with the sandbox. With
// --image oci:DIR (or oci-archive:FILE, docker-archive:FILE) the root is the
// image's layers, unpacked once into the image store (see package image), and
// the command, environment, working directory and user are the image's unless
// the command line gives its own.
//
// Exit codes follow podman: the command's own, 125 when the sandbox could not be
// set up, 126 when the command cannot be executed, 127 when it does not exist.
package main
