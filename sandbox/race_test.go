//go:build race

package sandbox_test

// raceEnabled says the test binary has the race detector, under which sync.Pool
// drops items at random by design.
const raceEnabled = true
