#!/usr/bin/env bash
# Side-by-side spawn benchmark of Paddock against bubblewrap, crun and runc, plus
# the Go benchmarks of package sandbox (bench/peers.sh: BenchmarkPeers among them);
# writes BENCHMARKS.md and bench/chart.svg.
#
#   bench/run.sh [--rootless] [-n RUNS]
#
# A command that fails now and then (rootless runc, about once in 200 runs) is
# counted and its failed runs left out; only one that fails more than 5% of its
# runs stops the run.
#
# Run as root. The rootful comparison always runs; with --rootless the same set
# runs again as uid 65534 (nobody), each peer in its rootless mode. Everything it
# creates lives in one temporary directory, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rootless=0
runs=200
while [ $# -gt 0 ]; do
	case "$1" in
	--rootless) rootless=1 ;;
	-n) runs=$2; shift ;;
	*) echo "usage: bench/run.sh [--rootless] [-n RUNS]" >&2; exit 2 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root (the rootless half drops to uid 65534 itself)" >&2
	exit 2
fi
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
nobody=65534

# Peers and tools, from Debian.
packages=(bubblewrap crun runc busybox-static jq util-linux)
missing=()
for p in "${packages[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

tmp=$(mktemp -d /tmp/paddock-bench.XXXXXX)
cleanup() {
	# Containers that a failed run may have left: delete them by state dir.
	for st in "$tmp"/state-*; do
		[ -d "$st" ] || continue
		case "$st" in *crun*) rt=crun ;; *) rt=runc ;; esac
		for id in $("$rt" --root "$st" list -q 2>/dev/null); do
			"$rt" --root "$st" delete -f "$id" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$tmp"
	remove_cgroup_parents
}
# The default parent cgroups ("paddock" below this script's own cgroups) that the
# rootful sandboxes created, once empty.
remove_cgroup_parents() {
	local ctrls path c
	while IFS=: read -r _ ctrls path; do
		if [ -z "$ctrls" ]; then
			rmdir "/sys/fs/cgroup/unified$path/paddock" "/sys/fs/cgroup$path/paddock" 2>/dev/null || true
			continue
		fi
		for c in ${ctrls//,/ }; do
			rmdir "/sys/fs/cgroup/${c#name=}$path/paddock" 2>/dev/null || true
		done
	done </proc/self/cgroup
}
trap cleanup EXIT
chmod 755 "$tmp"

# A busybox root filesystem. The links are made from inside the rootfs so that
# they point at /bin/busybox there, not at the temporary path on the host.
rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s /bin
chmod 1777 "$rootfs/tmp"
echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"

# OCI bundles from each runtime's own generated spec: only the root path, the
# process and the terminal are changed. $1 runtime, $2 bundle, $3 args (JSON),
# $4 "--rootless" or "", $5 uid to generate the rootless spec as.
bundle() {
	local rt=$1 dir=$2 args=$3 mode=$4
	mkdir -p "$dir"
	if [ -n "$mode" ]; then
		chown "$nobody:$nobody" "$dir"
		(cd "$dir" && setpriv --reuid=$nobody --regid=$nobody --clear-groups "$rt" spec --rootless)
	else
		(cd "$dir" && "$rt" spec)
	fi
	# crun's rootless spec has no ID maps: crun then tries newuidmap for a range
	# that uid 65534 does not own, and falls back to its own ID. Give it that map
	# up front, as runc's rootless spec has: the same single map as paddock's.
	jq --arg root "$rootfs" --argjson args "$args" --argjson id "$nobody" \
		'.root.path = $root | .process.args = $args | .process.terminal = false
		| if (.linux.namespaces | any(.type == "user")) and .linux.uidMappings == null
		  then .linux.uidMappings = [{containerID: 0, hostID: $id, size: 1}]
		     | .linux.gidMappings = [{containerID: 0, hostID: $id, size: 1}] else . end' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	chmod 644 "$dir/config.json"
}
for rt in crun runc; do
	bundle "$rt" "$tmp/bundle-$rt" '["/bin/true"]' ""
	bundle "$rt" "$tmp/probe-$rt" '["/bin/grep","-E","^(CapEff|NoNewPrivs|Seccomp):","/proc/self/status"]' ""
	mkdir -p "$tmp/state-$rt"
	if [ "$rootless" = 1 ]; then
		bundle "$rt" "$tmp/bundle-$rt-rootless" '["/bin/true"]' --rootless
		bundle "$rt" "$tmp/probe-$rt-rootless" '["/bin/grep","-E","^(CapEff|NoNewPrivs|Seccomp):","/proc/self/status"]' --rootless
		install -d -o $nobody -g $nobody "$tmp/state-$rt-rootless"
	fi
done

# The binaries.
# Statically linked, as the C peers are: Paddock uses no cgo, and a dynamically linked
# Go binary pays the dynamic loader (about 0.8 ms here) on every start.
CGO_ENABLED=0 go build -o "$tmp/paddock-run" ./examples/run
go build -o "$tmp/sidebyside" ./bench/sidebyside
go build -o "$tmp/report" ./bench/report
go build -o "$tmp/peers" ./bench/peers
go test -c -o "$tmp/sandbox.test" ./sandbox
chmod 755 "$tmp"/paddock-run "$tmp"/sidebyside "$tmp"/report "$tmp"/sandbox.test

# The command set; $1 "" (rootful) or "-rootless" selects bundles and state dirs.
cmdset() {
	local sfx=$1
	local P="$tmp/paddock-run --rootfs $rootfs"
	echo "true=/bin/true"
	echo "paddock=$P -- /bin/true"
	echo "paddock-nonet=$P --net host -- /bin/true"
	echo "paddock-noseccomp=$P --security-opt seccomp=unconfined -- /bin/true"
	echo "paddock-dryrun=$P --dry-run -- /bin/true"
	echo "bwrap=bwrap --unshare-all --die-with-parent --ro-bind $rootfs / --proc /proc --dev /dev --tmpfs /tmp /bin/true"
	echo "crun=crun --root $tmp/state-crun$sfx run --bundle $tmp/bundle-crun$sfx id-{id}"
	echo "runc=runc --root $tmp/state-runc$sfx run --bundle $tmp/bundle-runc$sfx id-{id}"
}
harness() { # $1 suffix, $2 output, extra args
	local sfx=$1 out=$2
	shift 2
	local args=()
	while IFS= read -r c; do args+=(-cmd "$c"); done < <(cmdset "$sfx")
	"$tmp/sidebyside" -n "$runs" -o "$out" "$@" "${args[@]}"
}

# What each sandbox actually gets: capabilities, no_new_privs, seccomp, read from
# /proc/self/status inside it, in the same mount namespace setup as the timing.
probe() { # $1 suffix, $2 "" or uid
	local sfx=$1 uid=$2 as=()
	[ -n "$uid" ] && as=(setpriv --reuid="$uid" --regid="$uid" --clear-groups)
	local g='/bin/grep -E ^(CapEff|NoNewPrivs|Seccomp): /proc/self/status'
	unshare --mount --propagation private sh -c "umount -l /sys/fs/cgroup/unified 2>/dev/null; exec \"\$@\"" sh \
		"${as[@]}" sh -c '
		tmp=$1 rootfs=$2 sfx=$3 g=$4
		row() { printf "%-18s %s\n" "$1" "$(shift; "$@" 2>&1 | tr "\n\t" "  " | tr -s " ")"; }
		row paddock "$tmp/paddock-run" --rootfs "$rootfs" -- $g
		row paddock-nonet "$tmp/paddock-run" --rootfs "$rootfs" --net host -- $g
		row paddock-noseccomp "$tmp/paddock-run" --rootfs "$rootfs" --security-opt seccomp=unconfined -- $g
		row bwrap bwrap --unshare-all --die-with-parent --ro-bind "$rootfs" / --proc /proc --dev /dev --tmpfs /tmp $g
		row crun crun --root "$tmp/state-crun$sfx" run --bundle "$tmp/probe-crun$sfx" probe-$$
		row runc runc --root "$tmp/state-runc$sfx" run --bundle "$tmp/probe-runc$sfx" probe-$$
	' sh "$tmp" "$rootfs" "$sfx" "$g"
}

uname -a
echo "== rootful side by side ($runs runs each)"
probe "" "" | tee "$tmp/probe-rootful.txt"
harness "" "$tmp/rootful.json"
report_args=(-rootful "$tmp/rootful.json" -probe-rootful "$tmp/probe-rootful.txt")
if [ "$rootless" = 1 ]; then
	echo "== rootless side by side as uid $nobody ($runs runs each)"
	probe "-rootless" "$nobody" | tee "$tmp/probe-rootless.txt"
	install -d -o $nobody -g $nobody "$tmp/out"
	harness "-rootless" "$tmp/out/rootless.json" -uid=$nobody
	report_args+=(-rootless "$tmp/out/rootless.json" -probe-rootless "$tmp/probe-rootless.txt")
fi

# The Go benchmarks of package sandbox, in the same kind of mount namespace.
echo "== go test -bench (ExecTrue, Start, Heap, Throughput, Pool)"
gobench() { # $1 output, $2 "" or uid
	local as=() patterns=('^Benchmark(ExecTrue|Start|Heap|Throughput|Pool)$')
	# As a user, the rootful presets build but cannot start: only the others
	# (BenchmarkPool skips its rootful rows itself).
	[ -n "$2" ] && as=(setpriv --reuid="$2" --regid="$2" --clear-groups) &&
		patterns=('^BenchmarkExecTrue$' '^BenchmarkStart$/^(rootless|rootless-nocgroup|rootless-rootfs|norootfs|privileged)$' '^Benchmark(Heap|Throughput)$' '^BenchmarkPool$')
	: >"$1"
	for pattern in "${patterns[@]}"; do
		(cd "$tmp" && unshare --mount --propagation private sh -c 'umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh \
			"${as[@]}" ./sandbox.test -test.run '^$' -test.bench "$pattern" \
			-test.benchtime "${runs}x" -test.count 1) | tee -a "$1"
	done
}
gobench "$tmp/gobench-root.txt" ""
report_args+=(-gobench-root "$tmp/gobench-root.txt")
if [ "$rootless" = 1 ]; then
	gobench "$tmp/gobench-rootless.txt" "$nobody"
	report_args+=(-gobench-rootless "$tmp/gobench-rootless.txt")
fi

# The child's no-allocation target is a test (the child disassembled), not a timing.
if go test -count=1 -run '^TestChildIsNosplit$' ./internal/child >"$tmp/nosplit.txt" 2>&1; then
	report_args+=(-nosplit ok)
else
	cat "$tmp/nosplit.txt" >&2
	report_args+=(-nosplit "failed")
fi

# Start+Wait of a prebuilt Template, pooled and not, beside os/exec of the peers
# (bench/peers.sh): its outputs feed the targets table, and its own section is
# written again below, once the report has written the file.
oci_args=(-n "$runs")
[ "$rootless" = 1 ] && oci_args+=(--rootless)
peer_rounds=5
"$repo/bench/peers.sh" "${oci_args[@]}" -rounds "$peer_rounds" -keep "$tmp/peers-out"
report_args+=(-peers-root "$tmp/peers-out/root.txt")
[ "$rootless" = 1 ] && report_args+=(-peers-rootless "$tmp/peers-out/rootless.txt")

"$tmp/report" "${report_args[@]}" -runs "$runs" -md "$repo/BENCHMARKS.md" -svg "$repo/bench/chart.svg"
CGO_ENABLED=0 go build -o "$tmp/sysprobe" ./internal/testutil/sysprobe && go build -o "$tmp/syscalls" ./bench/syscalls && "$tmp/syscalls" -rootfs "$rootfs" -probe "$tmp/sysprobe" -paddock "$tmp/paddock-run" -md "$repo/BENCHMARKS.md" # per-syscall cost beside crun
# An OCI runtime's whole cycle beside runc and crun (its own section, its own run).
"$repo/bench/oci.sh" "${oci_args[@]}"
# The section of the peers' run above.
peers_args=(-root "$tmp/peers-out/root.txt")
[ "$rootless" = 1 ] && peers_args+=(-rootless "$tmp/peers-out/rootless.txt")
"$tmp/peers" -md "$repo/BENCHMARKS.md" "${peers_args[@]}" -runs "$runs" -rounds "$peer_rounds"
echo "wrote BENCHMARKS.md and bench/chart.svg"
