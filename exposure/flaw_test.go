package exposure

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCatalogueValid(t *testing.T) {
	fs, err := ParseJSON(CatalogueJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 60 {
		t.Errorf("catalogue has %d flaws, want at least 60", len(fs))
	}
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			t.Error(err)
		}
		if f.Summary == "" || f.Name == "" {
			t.Errorf("%s: no name or summary", f.ID)
		}
		if len(f.Sources) == 0 {
			t.Errorf("%s: no source", f.ID)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := `{"id": "X-1", "kind": "kernel", "sources": ["https://example.org/x"]`
	for _, tc := range []struct {
		name, file  string
		index       int
		id, field   string
		errContains string
	}{
		{"not json", `{"flaws": [`, -1, "", "", "unexpected EOF"},
		{"no flaws", `{}`, -1, "", "flaws", "missing"},
		{"unknown top field", `{"flaw": []}`, -1, "", "flaw", "unknown field"},
		{"unknown field", `{"flaws": [` + good + `}, {"id": "X-2", "kind": "kernel", "capabilitys": []}]}`, 1, "X-2", "capabilitys", "unknown field"},
		{"wrong type", `{"flaws": [{"id": "X-3", "kind": "kernel", "gainOnExec": "yes"}]}`, 0, "X-3", "gainOnExec", "cannot unmarshal"},
		{"no id", `{"flaws": [{"kind": "kernel", "sources": ["https://a"]}]}`, 0, "", "id", "empty"},
		{"bad kind", `{"flaws": [{"id": "X-4", "kind": "hardware", "sources": ["https://a"]}]}`, 0, "X-4", "kind", "hardware"},
		{"bad cap", `{"flaws": [` + good + `, "capabilities": [{"cap": "CAP_FLY", "scope": "any", "over": "net"}]}]}`, 0, "X-1", "capabilities[0].cap", "unknown capability"},
		{"bad scope", `{"flaws": [` + good + `, "capabilities": [{"cap": "CAP_NET_ADMIN", "scope": "some"}]}]}`, 0, "X-1", "capabilities[0].scope", "some"},
		{"any without over", `{"flaws": [` + good + `, "capabilities": [{"cap": "CAP_NET_ADMIN", "scope": "any"}]}]}`, 0, "X-1", "capabilities[0].over", "namespace kind"},
		{"bad syscall", `{"flaws": [` + good + `, "syscalls": [{"name": "write"}, {"name": "frobnicate"}]}]}`, 0, "X-1", "syscalls[1].name", "frobnicate"},
		{"bad alternative", `{"flaws": [` + good + `, "syscalls": [{"anyOf": [{"name": "pipe"}, {"name": "pipe3"}]}]}]}`, 0, "X-1", "syscalls[0].anyOf[1].name", "pipe3"},
		{"name and anyOf", `{"flaws": [` + good + `, "syscalls": [{"name": "pipe", "anyOf": [{"name": "pipe2"}]}]}]}`, 0, "X-1", "syscalls[0]", "either"},
		{"bad constant", `{"flaws": [` + good + `, "syscalls": [{"name": "socket", "args": [{"index": 0, "value": "AF_PIGEON"}]}]}]}`, 0, "X-1", "syscalls[0].args[0].value", "AF_PIGEON"},
		{"bad index", `{"flaws": [` + good + `, "syscalls": [{"name": "socket", "args": [{"index": 6, "value": 1}]}]}]}`, 0, "X-1", "syscalls[0].args[0].index", "0-5"},
		{"bad abi", `{"flaws": [` + good + `, "syscalls": [{"name": "socket", "abi": "arm"}]}]}`, 0, "X-1", "syscalls[0].abi", "arm"},
		{"bad path", `{"flaws": [` + good + `, "paths": [{"path": "proc/x", "access": "read"}]}]}`, 0, "X-1", "paths[0].path", "absolute"},
		{"bad access", `{"flaws": [` + good + `, "paths": [{"path": "/proc/x", "access": "exec"}]}]}`, 0, "X-1", "paths[0].access", "exec"},
		{"bad device", `{"flaws": [` + good + `, "devices": [{"path": "/dev/fuse", "type": "x", "access": "read"}]}]}`, 0, "X-1", "devices[0].type", "c or b"},
		{"bad namespace", `{"flaws": [` + good + `, "namespaces": ["mount"]}]}`, 0, "X-1", "namespaces[0]", "mount"},
		{"bad version", `{"flaws": [` + good + `, "versions": {"fixed": ["five"]}}]}`, 0, "X-1", "versions.fixed[0]", "five"},
		{"no source", `{"flaws": [{"id": "X-5", "kind": "kernel"}]}`, 0, "X-5", "sources", "source"},
		{"bad source", `{"flaws": [{"id": "X-6", "kind": "kernel", "sources": ["my memory"]}]}`, 0, "X-6", "sources[0]", "URL"},
		{"duplicate", `{"flaws": [` + good + `}, ` + good + `}]}`, 1, "X-1", "id", "duplicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidFlaw) {
				t.Errorf("%v does not match ErrInvalidFlaw", err)
			}
			var fe *FlawError
			if !errors.As(err, &fe) {
				t.Fatalf("%T is not a *FlawError", err)
			}
			if fe.Index != tc.index || fe.ID != tc.id || fe.Field != tc.field {
				t.Errorf("got index %d id %q field %q, want %d %q %q (%v)", fe.Index, fe.ID, fe.Field, tc.index, tc.id, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("%q does not contain %q", err, tc.errContains)
			}
			if tc.field != "" && !strings.Contains(err.Error(), tc.field) {
				t.Errorf("%q does not name field %q", err, tc.field)
			}
		})
	}
}

func TestLoadFileAndMerge(t *testing.T) {
	name := filepath.Join(t.TempDir(), "extra.json")
	extra := `{"flaws": [
	 {"id": "CVE-2022-0847", "kind": "kernel", "summary": "replaced", "sources": ["https://example.org/a"]},
	 {"id": "LOCAL-1", "kind": "technique", "syscalls": [{"name": "unshare", "args": [{"index": 0, "value": "CLONE_NEWUSER|CLONE_NEWNET"}]}], "sources": ["https://example.org/b"]}]}`
	if err := os.WriteFile(name, []byte(extra), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, err := LoadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if got := fs[1].Syscalls[0].Args[0].Value.N; got != cloneNewUser|cloneNewNet {
		t.Errorf("value %#x", got)
	}
	all := Merge(Catalogue(), fs)
	if len(all) != len(Catalogue())+1 || all[0].Summary != "replaced" || all[len(all)-1].ID != "LOCAL-1" {
		t.Errorf("merge: %d flaws, first %q, last %q", len(all), all[0].Summary, all[len(all)-1].ID)
	}
	// The new flaw is judged like any other: Docker's profile refuses unshare.
	if v := Evaluate(RootfulDefault(), all[len(all)-1]); v.String() != "mitigated (seccomp)" {
		t.Errorf("LOCAL-1: %s", v)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestVersions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		bad  bool
	}{{"6.18", Version{6, 18, 0}, false}, {"6.1.0-18-amd64", Version{6, 1, 0}, false}, {"5.10.102", Version{5, 10, 102}, false}, {"6", Version{}, true}, {"x.1", Version{}, true}} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseVersion(%q) = %v, %v", tc.in, got, err)
		}
	}
	dirtyPipe := VersionRange{Introduced: "5.8", Fixed: []string{"5.17", "5.16.11", "5.15.25", "5.10.102"}}
	for v, want := range map[string]bool{"5.7.19": false, "5.8": true, "5.10.101": true, "5.10.102": false, "5.15.24": true, "5.15.25": false, "5.16.10": true, "5.16.11": false, "5.17": false, "6.18.3": false, "5.11.22": true} {
		k, _ := ParseVersion(v)
		if got := dirtyPipe.Affected(k); got != want {
			t.Errorf("Dirty Pipe on %s: affected %v, want %v", v, got, want)
		}
	}
}

func TestSyscallTable(t *testing.T) {
	for _, n := range Syscalls() {
		if syscalls[n].amd64 < 0 || syscalls[n].i386 <= 0 && n != "read" {
			t.Errorf("%s: bad numbers %+v", n, syscalls[n])
		}
	}
}
