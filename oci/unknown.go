package oci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// UnknownFields returns the JSON paths ("process.wings", "mounts[2].flavour")
// of the properties of the bundle's configuration that the runtime-spec types
// do not know, sorted. ReadConfig ignores them, as the spec requires of a
// runtime ("MUST ignore unknown properties"); a runtime reports them so that
// a misspelt or newer field is not dropped unseen.
func UnknownFields(bundle string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(bundle, ConfigName))
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, invalidErr(ConfigName, err)
	}
	var out []string
	unknown(v, reflect.TypeOf(specs.Spec{}), "", &out)
	sort.Strings(out)
	return out, nil
}

// unknown appends to out the paths below path of the properties of v, a
// decoded JSON value, that the type t does not know.
func unknown(v any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, _ := v.(map[string]any)
		fields := jsonFields(t)
		for k, e := range m {
			ft, ok := fields[strings.ToLower(k)] // encoding/json matches names without case
			if !ok {
				*out = append(*out, joinPath(path, k))
				continue
			}
			unknown(e, ft, joinPath(path, k), out)
		}
	case reflect.Slice, reflect.Array:
		a, _ := v.([]any)
		for i, e := range a {
			unknown(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		m, _ := v.(map[string]any)
		for k, e := range m {
			unknown(e, t.Elem(), joinPath(path, k), out)
		}
	}
}

// jsonFields maps the lower-cased JSON names of struct type t's fields,
// those of embedded structs included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || (!f.IsExported() && !f.Anonymous):
			continue
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for k, ft := range jsonFields(f.Type) {
				out[k] = ft
			}
			continue
		case name == "":
			name = f.Name
		}
		out[strings.ToLower(name)] = f.Type
	}
	return out
}

// joinPath appends the property name to a JSON path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
