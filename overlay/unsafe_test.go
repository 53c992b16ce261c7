package overlay

import "unsafe"

// unsafePointer turns an op argument back into the pointer that the Program keeps
// alive.
func unsafePointer(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }
