// Command report turns the JSON of bench/sidebyside (and optionally the output of
// `go test -bench` for package sandbox) into BENCHMARKS.md and an SVG bar chart.
//
//	report -rootful R.json [-rootless L.json] [-gobench-root G.txt] [-gobench-rootless H.txt] \
//	    [-probe-rootful P.txt] [-probe-rootless Q.txt] [-peers-root X.txt] [-peers-rootless Y.txt] \
//	    [-nosplit ok] -md BENCHMARKS.md -svg bench/chart.svg
//
// Its targets table judges each target of the start-latency work from these
// inputs alone: BenchmarkPool's rows against its own exec-true, BenchmarkPeers'
// pooled row (bench/peers.sh's rounds) against each peer, examples/run against
// bubblewrap side by side, and the outcome of internal/child's TestChildIsNosplit.
//
// It has no dependencies beyond the standard library: the chart is written as
// plain SVG text.
package main
