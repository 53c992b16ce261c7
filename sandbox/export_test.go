package sandbox

import "time"

// PoolBufLen is the size of a warm child's command buffer.
const PoolBufLen = poolBufLen

// SetWarmForkOnly makes the pools made from now on keep fork-mode children
// (on) or choose (off), for the tests and benchmarks that compare the modes.
func SetWarmForkOnly(on bool) { warmForkOnly.Store(on) }

// SetRefillDelay delays the refill after each pooled start by d (0: none).
func SetRefillDelay(d time.Duration) { refillDelay.Store(int64(d)) }
