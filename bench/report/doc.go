// Command report turns the JSON of bench/sidebyside (and optionally the output of
// `go test -bench` for package sandbox) into BENCHMARKS.md and an SVG bar chart.
//
//	report -rootful R.json [-rootless L.json] [-gobench-root G.txt] [-gobench-rootless H.txt] \
//	    [-probe-rootful P.txt] [-probe-rootless Q.txt] -md BENCHMARKS.md -svg bench/chart.svg
//
// It has no dependencies beyond the standard library: the chart is written as
// plain SVG text.
package main
