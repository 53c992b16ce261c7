// Command peers writes the section of BENCHMARKS.md on package sandbox's
// BenchmarkPeers: Start+Wait of a prebuilt Template beside os/exec of
// bubblewrap, crun and runc with the same isolation, as a Go service that
// sandboxes a command would compare them.
//
//	peers -md BENCHMARKS.md -root R.txt [-rootless L.txt] [-runs N] [-rounds R]
//
// R.txt and L.txt are the output of `sandbox.test -test.v -test.run '^$'
// -test.bench '^BenchmarkPeers$'`, run as root and as uid 65534 (bench/peers.sh
// runs both, round after round, into one file each). Each sub-benchmark's
// figure is the median of its rounds' ns/op; its "probe:" line (what its
// sandbox reported of itself) and a skip's reason are shown beside it. The section under its heading is replaced, or
// appended where the file has none.
package main
