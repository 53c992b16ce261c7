package mounts

// An Action is what a Step has the child do.
type Action string

// The actions of a Step. A path of an in-root step (Step.InRoot) is resolved by the
// child inside the root that the last ActOpenRoot opened; any other path is one of
// the child's own mount namespace, as the kernel resolves it.
const (
	// ActMount mounts a new filesystem (Source, FSType, Flags, Data) on Path; out
	// of the root it is a plain mount(2) call, which also serves to change the
	// propagation of a mount of the child's own ("none", with MS_SHARED).
	ActMount Action = "mount"
	// ActBind binds the host path Source on Path: in the root, a copy of the tree
	// (MS_REC: with the mounts beneath it) with the other Flags set on the copy
	// before it is attached; out of the root, mount(2) with Flags.
	ActBind Action = "bind"
	// ActAttach attaches on Path the copy of a host tree that the parent makes
	// for each start (Tree).
	ActAttach Action = "attach"
	// ActSetAttr sets Flags (ro, nosuid, ...) on the mount at Path.
	ActSetAttr Action = "setattr"
	// ActReadOnly binds a read-only copy of the mount tree at Path on itself.
	ActReadOnly Action = "readonly"
	// ActPropagation gives the mount at Path the propagation type in Flags
	// (MS_PRIVATE, MS_SLAVE, MS_SHARED, with MS_REC for the mounts beneath it).
	ActPropagation Action = "propagation"
	// ActMkdir makes the directory Path with the permissions Mode.
	ActMkdir Action = "mkdir"
	// ActSymlink makes Path a symbolic link to Source.
	ActSymlink Action = "symlink"
	// ActMknod makes Path the node Major:Minor with permissions Mode: a character
	// device, or the file type in Mode's S_IFMT bits (a Node's block device or FIFO).
	ActMknod Action = "mknod"
	// ActEmptyTmpfs makes the empty, read-only, detached tmpfs that ActHide and
	// ActMask bind copies of.
	ActEmptyTmpfs Action = "empty-tmpfs"
	// ActMaskSource keeps Path, which must be the character device Major:Minor
	// (/dev/null, 1:3), as the source of the masks of files.
	ActMaskSource Action = "mask-source"
	// ActMask hides Path: a directory under a copy of the empty tmpfs, anything
	// else under the mask source.
	ActMask Action = "mask"
	// ActHide binds a copy of the empty tmpfs on the directory Path.
	ActHide Action = "hide"
	// ActOpenRoot opens Path as the root of the in-root steps that follow.
	ActOpenRoot Action = "open-root"
	// ActChdir changes the working directory to Path.
	ActChdir Action = "chdir"
	// ActPivotRoot makes Path (".", the working directory) the root, with the
	// old root stacked on it.
	ActPivotRoot Action = "pivot-root"
	// ActDetach detaches the mount at Path (umount2 with MNT_DETACH).
	ActDetach Action = "detach"
	// ActMove moves the mount at Source to Path (MS_MOVE).
	ActMove Action = "move"
	// ActChroot changes the root to Path.
	ActChroot Action = "chroot"
	// ActCheckpoint waits for the parent, which works in the child's namespaces
	// (runs fuse-overlayfs) and then releases it. Fork mode only.
	ActCheckpoint Action = "checkpoint"
	// ActWriteProc writes Source to the file at Path inside the root, which must
	// be a file of a procfs (a sysctl under /proc/sys): the child opens it
	// without following any link and checks its filesystem before it writes.
	ActWriteProc Action = "write-proc"
)

// Create says what an in-root step creates of its path where it is missing.
type Create string

// The ways of creating a missing in-root path.
const (
	// CreateNone creates nothing: a missing path fails (or is skipped, with
	// SkipMissing).
	CreateNone Create = ""
	// CreateDir creates the missing directories, the last one included.
	CreateDir Create = "dir"
	// CreateFile creates the missing directories and an empty file.
	CreateFile Create = "file"
	// CreateParent creates the missing parent directories; the step makes the
	// last component.
	CreateParent Create = "parent"
)

// A Step is one mount action of the child, as data: what Plan and
// overlay.Spec.Plan resolve a Spec to, in the order the child runs them. It holds
// exactly what the child's step needs, and What, the words that name the step in
// errors (a failing start's ChildError) and in a printed plan.
type Step struct {
	Action Action `json:"action"`
	// Stage names the part of the setup the step belongs to in errors: "mount",
	// "root filesystem".
	Stage string `json:"stage"`
	What  string `json:"what"`
	// Path is the step's target. InRoot says the child resolves it inside the
	// root (see package doc), creating what is missing as Create says.
	Path   string `json:"path,omitempty"`
	InRoot bool   `json:"inRoot,omitempty"`
	Create Create `json:"create,omitempty"`
	// Source is the source of a mount, a bind or a move, or a symbolic link's
	// value.
	Source string `json:"source,omitempty"`
	FSType string `json:"type,omitempty"`
	// Flags are mount(2) flags (MS_*); FlagText spells them for people.
	Flags    uintptr `json:"flags,omitempty"`
	FlagText string  `json:"flagText,omitempty"`
	Data     string  `json:"data,omitempty"`
	// Mode holds the permissions of a directory or a device node.
	Mode  uint32 `json:"mode,omitempty"`
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Tree is the copy that ActAttach attaches.
	Tree *Tree `json:"tree,omitempty"`
	// SkipMissing makes a step whose path is missing a no-op; IgnoreExist makes
	// one whose path exists a success; SkipDenied skips a path the child may not
	// enter; SkipInvalid a step the kernel refuses with EINVAL.
	SkipMissing bool `json:"skipMissing,omitempty"`
	IgnoreExist bool `json:"ignoreExist,omitempty"`
	SkipDenied  bool `json:"skipDenied,omitempty"`
	SkipInvalid bool `json:"skipInvalid,omitempty"`
}

// A Tree is a copy of a host mount tree that the parent makes for each start
// (open_tree), with Flags set on it (on every mount of it with MS_REC), idmapped
// with the child's user namespace where IDMap says so, once that has its maps: an
// idmapped mount needs CAP_SYS_ADMIN over the filesystem, which the child lacks.
// The copies are numbered in the order of their steps.
type Tree struct {
	Source   string  `json:"source"`
	Flags    uintptr `json:"flags,omitempty"`
	FlagText string  `json:"flagText,omitempty"`
	IDMap    bool    `json:"idmap,omitempty"`
	// What names the copy in the parent's errors.
	What string `json:"what"`
}
