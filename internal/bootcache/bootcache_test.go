package bootcache_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/paddock-sandbox/paddock/internal/bootcache"
	"github.com/paddock-sandbox/paddock/internal/testutil"
)

// TestMain fails the run if the tests leave anything behind on the host.
func TestMain(m *testing.M) { testutil.Main(m) }

// useTemp points the cache at a new directory of the test's and turns it on.
func useTemp(t *testing.T) string {
	t.Helper()
	t.Setenv(EnvOff, "")
	d := t.TempDir()
	t.Cleanup(UseDir(d))
	return d
}

// playBoot makes the cache believe it runs on kernel release on boot boot.
func playBoot(t *testing.T, release, boot string) {
	t.Helper()
	t.Cleanup(PlayBoot(release, boot))
}

// TestRoundTrip: what Store keeps, Load returns, from a file only the caller may
// read; an entry never stored misses.
func TestRoundTrip(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		d := useTemp(t)
		if _, ok := Load("probe"); ok {
			t.Fatal("an entry never stored was found")
		}
		Store("probe", "ok")
		if v, ok := Load("probe"); !ok || v != "ok" {
			t.Fatalf("Load after Store: %q, %v", v, ok)
		}
		st, err := os.Stat(filepath.Join(d, "probe"))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("the entry's mode is %v, want 0600", st.Mode().Perm())
		}
		Store("probe", "no 1 2")
		if v, _ := Load("probe"); v != "no 1 2" {
			t.Errorf("a second Store: Load returns %q", v)
		}
		ents, _ := os.ReadDir(d)
		if len(ents) != 1 {
			t.Errorf("the directory holds %d entries, want only the cache file", len(ents))
		}
	})
}

// TestOtherBoot: an entry of another boot or kernel misses, and the Store that
// follows replaces it.
func TestOtherBoot(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		useTemp(t)
		playBoot(t, "6.18.0", "boot-a")
		Store("probe", "ok")
		playBoot(t, "6.18.0", "boot-b")
		if _, ok := Load("probe"); ok {
			t.Error("an entry of another boot was found")
		}
		playBoot(t, "6.19.0", "boot-a")
		if _, ok := Load("probe"); ok {
			t.Error("an entry of another kernel was found")
		}
		Store("probe", "no 1 1")
		if v, ok := Load("probe"); !ok || v != "no 1 1" {
			t.Errorf("after the new kernel's Store: %q, %v", v, ok)
		}
		playBoot(t, "6.18.0", "boot-a")
		if _, ok := Load("probe"); ok {
			t.Error("the replaced entry of the old kernel was found")
		}
	})
}

// TestBadFiles: a corrupt, truncated, oversized, open or linked entry misses, and
// a Store replaces it with one that Load accepts. As root, so does an entry of
// another user (a user cannot give a file away, so that half runs as root only).
func TestBadFiles(t *testing.T) {
	testutil.Modes(t, func(t *testing.T) {
		d := useTemp(t)
		path := filepath.Join(d, "probe")
		Store("probe", "ok")
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "target")
		cases := map[string]func() error{
			"corrupt":   func() error { return os.WriteFile(path, []byte("garbage\n"), 0o600) },
			"truncated": func() error { return os.WriteFile(path, good[:len(good)-1], 0o600) },
			"two values": func() error {
				return os.WriteFile(path, append(good, "ok\n"...), 0o600)
			},
			"oversized": func() error {
				return os.WriteFile(path, append(good[:len(good)-3:len(good)-3], strings.Repeat("x", MaxSize)+"\n"...), 0o600)
			},
			"readable by others": func() error {
				if err := os.WriteFile(path, good, 0o600); err != nil {
					return err
				}
				return os.Chmod(path, 0o644)
			},
			"symbolic link": func() error {
				if err := os.WriteFile(target, good, 0o600); err != nil {
					return err
				}
				return os.Symlink(target, path)
			},
		}
		if os.Geteuid() == 0 {
			cases["another user's"] = func() error {
				if err := os.WriteFile(path, good, 0o600); err != nil {
					return err
				}
				return os.Chown(path, testutil.Nobody, testutil.Nobody)
			}
		}
		for name, plant := range cases {
			os.Remove(path)
			if err := plant(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v, ok := Load("probe"); ok {
				t.Errorf("%s: Load accepted it: %q", name, v)
			}
			Store("probe", "ok")
			if v, ok := Load("probe"); !ok || v != "ok" {
				t.Errorf("%s: not replaced by Store: %q, %v", name, v, ok)
			}
		}
	})
}

// TestOff: with PADDOCK_PROBE_CACHE=off nothing is written or read; names and
// values the format cannot hold are refused.
func TestOff(t *testing.T) {
	d := useTemp(t)
	t.Setenv(EnvOff, "off")
	Store("probe", "ok")
	if ents, _ := os.ReadDir(d); len(ents) != 0 {
		t.Errorf("Store wrote %d entries with the cache off", len(ents))
	}
	t.Setenv(EnvOff, "")
	Store("probe", "ok")
	t.Setenv(EnvOff, "off")
	if _, ok := Load("probe"); ok {
		t.Error("Load found an entry with the cache off")
	}
	t.Setenv(EnvOff, "")
	for _, name := range []string{"", "../probe", "Probe", "a/b"} {
		Store(name, "ok")
		if _, ok := Load(name); ok {
			t.Errorf("name %q was accepted", name)
		}
	}
	for _, v := range []string{"", "two\nlines", "tab\there", strings.Repeat("x", 2000)} {
		Store("value", v)
		if _, ok := Load("value"); ok {
			t.Errorf("value %q was accepted", v)
		}
	}
}
