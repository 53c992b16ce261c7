package landlock

// Resolve validates s and returns the Landlock ABI at which the child enforces it:
// the running kernel's (see ABI), or 0 when nothing is enforced: s has no rules, or
// the kernel has no Landlock and s.Strict is not set. When s.Strict is set, a kernel
// without Landlock is the error of ABI, matching ErrNotSupported. Invalid specs
// fail with the error of Validate.
func (s Spec) Resolve() (int, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if len(s.Rules) == 0 {
		return 0, nil
	}
	abi, err := ABI()
	if err != nil {
		if s.Strict {
			return 0, err
		}
		return 0, nil
	}
	return abi, nil
}

// FileAccessFS returns the rights that a rule on a file (not a directory) may grant
// at ABI abi: those of HandledAccessFS(abi) that apply to files. The child masks a
// file rule's access with it, as the kernel refuses directory rights on a file.
func FileAccessFS(abi int) uint64 { return fileRights & HandledAccessFS(abi) }
