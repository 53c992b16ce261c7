// Command flawcheck prints the matrix of known kernel and runtime flaws against
// the five reference sandbox configurations: each cell is "exposed" or
// "mitigated (layer, ...)", listing the layers that stop the flaw on their own.
//
//	flawcheck [--markdown | --json] [--flaws FILE] [--kernel RELEASE] [--why ID]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/paddock-sandbox/paddock/sandbox/exposure"
)

func main() {
	markdown := flag.Bool("markdown", false, "print a Markdown table")
	asJSON := flag.Bool("json", false, "print the verdicts as JSON, with their reasoning")
	file := flag.String("flaws", "", "JSON file of extra flaws (same form as the built-in catalogue)")
	kernel := flag.String("kernel", "", "kernel release to judge against (default: unknown, assumed affected)")
	why := flag.String("why", "", "print the reasoning for one flaw ID against every configuration")
	flag.Parse()

	flaws := exposure.Catalogue()
	if *file != "" {
		extra, err := exposure.LoadFile(*file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "flawcheck:", err)
			os.Exit(1)
		}
		flaws = exposure.Merge(flaws, extra)
	}
	presets := exposure.Presets()
	for i := range presets {
		presets[i].Kernel = *kernel
	}

	if *why != "" {
		for _, f := range flaws {
			if f.ID != *why {
				continue
			}
			for _, m := range presets {
				v := exposure.Evaluate(m, f)
				fmt.Printf("== %s on %s: %s\n", f.ID, m.Name, v)
				for _, s := range v.Steps {
					fmt.Println("   -", s)
				}
			}
			return
		}
		fmt.Fprintf(os.Stderr, "flawcheck: no flaw %q\n", *why)
		os.Exit(1)
	}

	type row struct {
		ID, Name string
		Verdicts []exposure.Verdict
	}
	rows := make([]row, len(flaws))
	for i, f := range flaws {
		rows[i] = row{ID: f.ID, Name: f.Name, Verdicts: make([]exposure.Verdict, len(presets))}
		for j, m := range presets {
			rows[i].Verdicts[j] = exposure.Evaluate(m, f)
		}
	}

	switch {
	case *asJSON:
		type cell struct {
			Config string `json:"config"`
			exposure.Verdict
		}
		type out struct {
			ID    string `json:"id"`
			Name  string `json:"name,omitempty"`
			Cells []cell `json:"verdicts"`
		}
		var all []out
		for _, r := range rows {
			o := out{ID: r.ID, Name: r.Name}
			for j, v := range r.Verdicts {
				o.Cells = append(o.Cells, cell{Config: presets[j].Name, Verdict: v})
			}
			all = append(all, o)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			fmt.Fprintln(os.Stderr, "flawcheck:", err)
			os.Exit(1)
		}
	case *markdown:
		head := []string{"flaw", "name"}
		for _, m := range presets {
			head = append(head, m.Name)
		}
		fmt.Println("| " + strings.Join(head, " | ") + " |")
		fmt.Println("|" + strings.Repeat(" --- |", len(head)))
		for _, r := range rows {
			cells := []string{r.ID, r.Name}
			for _, v := range r.Verdicts {
				cells = append(cells, v.String())
			}
			fmt.Println("| " + strings.Join(cells, " | ") + " |")
		}
	default:
		w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		head := []string{"FLAW"}
		for _, m := range presets {
			head = append(head, strings.ToUpper(m.Name))
		}
		fmt.Fprintln(w, strings.Join(head, "\t"))
		for _, r := range rows {
			cells := []string{r.ID}
			for _, v := range r.Verdicts {
				cells = append(cells, v.String())
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		w.Flush()
	}
}
