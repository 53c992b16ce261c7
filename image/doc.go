// Package image runs OCI and Docker images: it reads an image from an OCI image
// layout directory, an OCI archive or a docker-archive tarball (what podman save
// and docker save write), unpacks its layers once into a content-addressed
// [Store], and hands the sandbox the unpacked layers as overlay lower layers and
// the image's configuration (entrypoint, command, environment, working directory,
// user) as a [Config].
//
// An image is a stack of layers, each a tar archive of the files that changed
// against the layers below it. A deletion is a whiteout entry, .wh.NAME beside the
// deleted NAME; a directory whose lower contents are all gone holds .wh..wh..opq.
// Overlayfs has its own form of both: a whiteout is a character device 0:0 (which
// the kernel lets any user create since Linux 5.8) and an opaque directory carries
// the extended attribute trusted.overlay.opaque="y", or user.overlay.opaque="y"
// for an overlay mounted with userxattr, as a sandbox in a user namespace mounts
// it (see package overlay). Unpacking turns the one form into the other, so that a
// layer directory is a ready lower layer, shared by every sandbox and image that
// uses it.
//
// Layers are stored by diff ID, the digest of the uncompressed tar stream, which
// the unpacker checks while it reads; the image's configuration, which lists the
// diff IDs, is checked against its own digest. A layer is unpacked into a private
// temporary directory and renamed into place once complete, under a lock per
// layer, so concurrent loads share the work and a failed unpack leaves nothing.
//
// Layers are hostile input. Every entry is created by descriptor, relative to the
// layer's directory, with openat2(2) RESOLVE_IN_ROOT and RESOLVE_NO_SYMLINKS: no
// symbolic link of the layer is ever followed, a path with ".." is refused, an
// absolute path is read as relative to the layer, and a file where a directory
// should be fails the unpack with a *LayerError naming the layer and the entry.
//
// Ownership: a store written by root keeps each file's owner as the layer gives
// it. A store written by an unprivileged user cannot: its files are owned by that
// user, which a rootless sandbox maps to its root, so that the image's files
// appear owned by root inside (files of other owners appear root's too). Device
// nodes other than whiteouts are skipped there, as the kernel refuses to let an
// unprivileged user make them; a sandbox gets its devices from its own /dev.
package image
