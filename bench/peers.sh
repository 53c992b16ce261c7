#!/usr/bin/env bash
# Start+Wait of a prebuilt Template beside os/exec of bubblewrap, crun and runc with
# the same isolation: package sandbox's BenchmarkPeers, as root (and, with
# --rootless, again as uid 65534); writes the section "The library beside exec'd peers (Go benchmarks)" of
# BENCHMARKS.md and nothing else.
#
#   bench/peers.sh [--rootless] [-n RUNS] [-rounds R] [-keep DIR]
#
# Each round is one run of the test binary, in which every sub-benchmark runs RUNS
# times in turn; the section gives each one's median over the R rounds, so that the
# phases of a shared machine weigh on all of them more alike than in one long run
# of each. With -keep, the raw outputs are also copied to DIR (root.txt, and
# rootless.txt with --rootless), for bench/run.sh's targets table.
#
# Run as root; bench/run.sh calls it. The benchmark builds its own busybox root,
# bundles and state directories in temporary directories and deletes every
# container it ran; this script's own files live in one temporary directory,
# removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rootless=0
runs=200
rounds=5
keep=
while [ $# -gt 0 ]; do
	case "$1" in
	--rootless) rootless=1 ;;
	-n) runs=$2; shift ;;
	-rounds) rounds=$2; shift ;;
	-keep) keep=$2; shift ;;
	*) echo "usage: bench/peers.sh [--rootless] [-n RUNS] [-rounds R] [-keep DIR]" >&2; exit 2 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "bench/peers.sh: run as root (the rootless run drops to uid 65534 itself)" >&2
	exit 2
fi
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
nobody=65534
for p in bubblewrap crun runc busybox-static util-linux; do
	dpkg -s "$p" >/dev/null 2>&1 || echo "bench/peers.sh: without the Debian package $p, its sub-benchmark skips" >&2
done

tmp=$(mktemp -d /tmp/paddock-peers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
go test -c -o "$tmp/sandbox.test" ./sandbox
go build -o "$tmp/peers" ./bench/peers
chmod 755 "$tmp/sandbox.test"
install -d -o $nobody -g $nobody "$tmp/out"

# $1 output, then the command that runs the test binary (setpriv for uid 65534).
# crun 1.8.1 refuses to run while the cgroup v2 mount of a hybrid host lists a
# controller: every sub-benchmark runs in a private mount namespace without it.
peers() {
	local out=$1 round
	shift
	: >"$out"
	for round in $(seq "$rounds"); do
		echo "-- round $round of $rounds"
		(cd "$tmp/out" && unshare --mount --propagation private sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh \
			"$@" "$tmp/sandbox.test" -test.v -test.run '^$' -test.bench '^BenchmarkPeers$' \
			-test.benchtime "${runs}x" -test.count 1) | tee -a "$out"
	done
}
echo "== BenchmarkPeers, as root ($rounds rounds of $runs runs)"
peers "$tmp/root.txt"
md_args=(-root "$tmp/root.txt")
if [ "$rootless" = 1 ]; then
	echo "== BenchmarkPeers, as uid $nobody ($rounds rounds of $runs runs)"
	peers "$tmp/rootless.txt" setpriv --reuid=$nobody --regid=$nobody --clear-groups
	md_args+=(-rootless "$tmp/rootless.txt")
fi
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	cp "$tmp/root.txt" "$keep/"
	if [ "$rootless" = 1 ]; then cp "$tmp/rootless.txt" "$keep/"; fi
fi
"$tmp/peers" -md "$repo/BENCHMARKS.md" "${md_args[@]}" -runs "$runs" -rounds "$rounds"
echo "wrote the peers section of BENCHMARKS.md"
