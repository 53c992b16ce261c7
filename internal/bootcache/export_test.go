package bootcache

// MaxSize is maxSize, for the tests.
const MaxSize = maxSize

// PlayBoot makes the cache believe it runs on kernel release on boot boot, and
// returns a function that restores the truth.
func PlayBoot(release, boot string) (restore func()) {
	old := identity
	identity = func() (string, string, bool) { return release, boot, true }
	return func() { identity = old }
}
