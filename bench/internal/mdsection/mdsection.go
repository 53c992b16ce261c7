// Package mdsection replaces one level-2 section of a Markdown file, for the
// bench tools that each write their own section of BENCHMARKS.md.
package mdsection

import (
	"errors"
	"os"
	"strings"
)

// Replace puts section, which starts with the line heading ("## ..."), in
// place of the section under heading in the Markdown file md, up to the next
// "## " heading, or appends it when md has none (or does not exist yet).
func Replace(md, heading, section string) error {
	old, err := os.ReadFile(md)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := string(old)
	if i := strings.Index(doc, "\n"+heading+"\n"); i >= 0 {
		rest := doc[i+1+len(heading):]
		end := ""
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = rest[j+1:]
		}
		doc = doc[:i+1] + section + "\n" + end
	} else {
		if doc != "" && !strings.HasSuffix(doc, "\n\n") {
			doc += "\n"
		}
		doc += section
	}
	return os.WriteFile(md, []byte(doc), 0o644)
}
