package landlock

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// requireLandlock skips when the kernel has no Landlock and fails on any other error.
func requireLandlock(t *testing.T) int {
	t.Helper()
	abi, err := ABI()
	if errors.Is(err, ErrNotSupported) {
		t.Skipf("kernel Landlock: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	return abi
}

func TestABI(t *testing.T) {
	abi := requireLandlock(t)
	if abi < 1 {
		t.Fatalf("ABI = %d", abi)
	}
	again, err := ABI()
	if err != nil || again != abi {
		t.Fatalf("second ABI() = %d, %v; want %d", again, err, abi)
	}
	t.Logf("Landlock ABI %d", abi)
}

func TestHandledAccessFS(t *testing.T) {
	cases := []struct {
		abi  int
		want uint64
	}{
		{0, 0},
		{1, 1<<13 - 1},
		{2, 1<<14 - 1},
		{3, 1<<15 - 1},
		{4, 1<<15 - 1},
		{5, 1<<16 - 1},
		{7, 1<<16 - 1},
		{9, 1<<16 - 1}, // RESOLVE_UNIX (ABI 9) is not handled: MaxKnownABI is 7
	}
	for _, c := range cases {
		if got := HandledAccessFS(c.abi); got != c.want {
			t.Errorf("HandledAccessFS(%d) = %#x, want %#x", c.abi, got, c.want)
		}
	}
	if r := (Read | Write | Execute).Rights(); r != 1<<16-1 {
		t.Errorf("rwx rights = %#x, want every right up to ABI 7", r)
	}
	if r := Read.Rights(); r != unix.LANDLOCK_ACCESS_FS_READ_FILE|unix.LANDLOCK_ACCESS_FS_READ_DIR {
		t.Errorf("ro rights = %#x", r)
	}
}

func TestFileAccessFS(t *testing.T) {
	for abi := 0; abi <= 9; abi++ {
		got, handled := FileAccessFS(abi), HandledAccessFS(abi)
		if got&^handled != 0 || got&unix.LANDLOCK_ACCESS_FS_READ_DIR != 0 {
			t.Errorf("FileAccessFS(%d) = %#x: outside %#x, or a directory right", abi, got, handled)
		}
		if abi >= 1 && got&unix.LANDLOCK_ACCESS_FS_READ_FILE == 0 {
			t.Errorf("FileAccessFS(%d) = %#x lacks READ_FILE", abi, got)
		}
	}
}

func TestResolveThisHost(t *testing.T) {
	if abi, err := (Spec{}).Resolve(); err != nil || abi != 0 {
		t.Fatalf("zero Spec: %d, %v; want 0, nil", abi, err)
	}
	if _, err := (Spec{Rules: []Rule{{"tmp", Read}}}).Resolve(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("invalid Spec: %v", err)
	}
	s := Spec{Rules: []Rule{{"/", Read | Execute}}, Strict: true}
	want, abiErr := ABI()
	abi, err := s.Resolve()
	switch {
	case errors.Is(abiErr, ErrNotSupported):
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("strict Resolve without Landlock = %v, want ErrNotSupported", err)
		}
		s.Strict = false
		if abi, err := s.Resolve(); err != nil || abi != 0 {
			t.Errorf("best-effort Resolve without Landlock = %d, %v; want 0, nil", abi, err)
		}
	case abiErr != nil:
		t.Fatal(abiErr)
	case err != nil || abi != want:
		t.Errorf("Resolve = %d, %v; want ABI %d", abi, err, want)
	}
}
