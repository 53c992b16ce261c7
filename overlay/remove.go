package overlay

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// RemoveAll removes an upper or work directory that an unprivileged caller created.
// Overlayfs leaves a "work" subdirectory with mode 0 in its work directory, which
// os.RemoveAll cannot enter without CAP_DAC_OVERRIDE; RemoveAll first grants the
// owner access to every directory. A missing path is not an error.
func RemoveAll(path string) error {
	if err := openUp(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.RemoveAll(path)
}

// openUp makes dir and every directory below it rwx for its owner.
func openUp(dir string) error {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() {
		return err
	}
	if st.Mode().Perm()&0o700 != 0o700 {
		if err := os.Chmod(dir, st.Mode().Perm()|0o700); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := openUp(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
