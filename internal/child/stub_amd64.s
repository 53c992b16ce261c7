// The declarations in this package that have no Go body are linked to the runtime's
// fork hooks; this file lets the compiler accept them.
