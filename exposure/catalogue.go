package exposure

import (
	_ "embed"
	"fmt"
	"os"
	"sync"
)

//go:embed catalogue.json
var catalogueJSON []byte

var catalogue = sync.OnceValues(func() ([]Flaw, error) { return ParseJSON(catalogueJSON) })

// Catalogue returns the built-in flaws (a fresh copy each call). It panics if the
// embedded file is invalid, which tests rule out.
func Catalogue() []Flaw {
	fs, err := catalogue()
	if err != nil {
		panic(fmt.Sprintf("exposure: embedded catalogue: %v", err))
	}
	return append([]Flaw(nil), fs...)
}

// CatalogueJSON returns the embedded catalogue file, a template for users' own.
func CatalogueJSON() []byte { return append([]byte(nil), catalogueJSON...) }

// LoadFile reads a flaw file (see ParseJSON).
func LoadFile(name string) ([]Flaw, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseJSON(data)
}

// Merge returns base with extra applied: an extra flaw replaces the base flaw
// with the same ID in place; the others are appended in order.
func Merge(base, extra []Flaw) []Flaw {
	out := append([]Flaw(nil), base...)
	at := map[string]int{}
	for i, f := range out {
		at[f.ID] = i
	}
	for _, f := range extra {
		if i, ok := at[f.ID]; ok {
			out[i] = f
			continue
		}
		at[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}
