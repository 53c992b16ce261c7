package emit

import (
	"testing"
	"unsafe"

	"github.com/paddock-sandbox/paddock/internal/child"
	"github.com/paddock-sandbox/paddock/selinux"
)

func TestLabels(t *testing.T) {
	const label = "system_u:system_r:container_t:s0:c1,c2"
	l := selinux.Labels{Process: label, Mount: "system_u:object_r:container_file_t:s0:c1,c2"}
	var p child.Program
	Labels(&p, l, true)
	if len(p.Ops) != 1 || len(p.Steps) != 1 {
		t.Fatalf("got %d ops, want 1", len(p.Ops))
	}
	op := p.Ops[0]
	if op.Kind != child.KindWriteFile || p.Steps[0].Stage != "selinux" || p.Steps[0].What != "set exec label "+label {
		t.Fatalf("op %+v step %+v", op, p.Steps[0])
	}
	if got := cstring(&op.Args[0]); got != selinux.ExecAttrPath {
		t.Errorf("path %q, want %q", got, selinux.ExecAttrPath)
	}
	if got := bytesAt(&op.Args[1], op.Args[2]); got != label {
		t.Errorf("data %q, want %q", got, label)
	}
	var q child.Program
	Labels(&q, selinux.Labels{}, true)
	Labels(&q, l, false)
	if len(q.Ops) != 0 {
		t.Errorf("empty Labels, or SELinux disabled: %d ops, want none", len(q.Ops))
	}
}

// bytesAt returns the n bytes that an op argument points to, as a string.
func bytesAt(arg *uintptr, n uintptr) string {
	return string(unsafe.Slice(*(**byte)(unsafe.Pointer(arg)), n))
}
