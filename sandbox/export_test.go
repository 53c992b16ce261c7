package sandbox

// PoolBufLen is the size of a warm child's command buffer.
const PoolBufLen = poolBufLen

// SetWarmForkOnly makes the pools made from now on keep fork-mode children
// (on) or choose (off), for the tests and benchmarks that compare the modes.
func SetWarmForkOnly(on bool) { warmForkOnly.Store(on) }
