// Command images manages Paddock's image store: the layers that images were
// unpacked into, shared by every image that uses them.
//
//	go run ./examples/images [--store DIR] load REF...   unpack images (oci:DIR, oci-archive:FILE, docker-archive:FILE)
//	go run ./examples/images [--store DIR] list          the images, then the layers and their users
//	go run ./examples/images [--store DIR] rm IMAGE...   forget images (by ID, ID prefix or reference)
//	go run ./examples/images [--store DIR] prune         remove the layers that no image uses
//
// The store is /var/lib/paddock for root and $XDG_DATA_HOME/paddock (or
// ~/.local/share/paddock) for another user, unless --store names one. Prune
// does not know of running sandboxes: remove an image only when none runs on it.
package main
