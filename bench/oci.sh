#!/usr/bin/env bash
# An OCI runtime's whole cycle (create, start, wait for the exit, delete) of busybox
# /bin/true with paddock-runtime, runc and crun side by side; writes the section
# "OCI runtimes: create, start, wait, delete" of BENCHMARKS.md and nothing else.
#
#   bench/oci.sh [--rootless] [-n RUNS]
#
# Run as root; with --rootless the rows run again as uid 65534, each runtime with its
# own `spec --rootless` config. bench/run.sh calls it last. Everything it creates
# lives in one temporary directory, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rootless=0
runs=200
while [ $# -gt 0 ]; do
	case "$1" in
	--rootless) rootless=1 ;;
	-n) runs=$2; shift ;;
	*) echo "usage: bench/oci.sh [--rootless] [-n RUNS]" >&2; exit 2 ;;
	esac
	shift
done
if [ "$(id -u)" != 0 ]; then
	echo "bench/oci.sh: run as root (the rootless half drops to uid 65534 itself)" >&2
	exit 2
fi
export PATH="$PATH:/usr/local/go/bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
nobody=65534
for p in crun runc busybox-static jq util-linux; do
	dpkg -s "$p" >/dev/null 2>&1 || { echo "bench/oci.sh: needs the Debian package $p" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/paddock-oci.XXXXXX)
cleanup() {
	# Containers that a failed run may have left, by runtime and state dir.
	for st in "$tmp"/state-*; do
		[ -d "$st" ] || continue
		case "$st" in *crun*) rt=crun ;; *runc*) rt=runc ;; *) rt=$tmp/paddock-runtime ;; esac
		for id in $("$rt" --root "$st" list -q 2>/dev/null); do
			"$rt" --root "$st" delete -f "$id" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$tmp"
	# The default parent cgroups ("paddock" below this script's own cgroups) that
	# paddock-runtime created as root, once empty.
	local ctrls path c
	while IFS=: read -r _ ctrls path; do
		if [ -z "$ctrls" ]; then
			rmdir "/sys/fs/cgroup/unified$path/paddock" 2>/dev/null || true
			continue
		fi
		for c in ${ctrls//,/ }; do
			rmdir "/sys/fs/cgroup/${c#name=}$path/paddock" 2>/dev/null || true
		done
	done </proc/self/cgroup
}
trap cleanup EXIT
chmod 755 "$tmp"

rootfs=$tmp/rootfs
mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc}
cp /bin/busybox "$rootfs/bin/busybox"
chroot "$rootfs" /bin/busybox --install -s /bin
chmod 1777 "$rootfs/tmp"
echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"

CGO_ENABLED=0 go build -o "$tmp/paddock-runtime" ./examples/paddock-runtime
CGO_ENABLED=0 go build -o "$tmp/ocicycle" ./bench/ocicycle
go build -o "$tmp/sidebyside" ./bench/sidebyside
chmod 755 "$tmp"/paddock-runtime "$tmp"/ocicycle "$tmp"/sidebyside

# $1 the runtime whose spec is used, $2 the bundle, $3 "--rootless" or "".
bundle() {
	local rt=$1 dir=$2 mode=$3
	mkdir -p "$dir"
	if [ -n "$mode" ]; then
		chown "$nobody:$nobody" "$dir"
		(cd "$dir" && setpriv --reuid=$nobody --regid=$nobody --clear-groups "$rt" spec --rootless)
	else
		(cd "$dir" && "$rt" spec)
	fi
	# runc's spec asks for ambient capabilities that are not inheritable: the kernel
	# raises none of them (runc only warns), Paddock refuses the config. They go.
	# crun's rootless spec has no ID maps: it gets the single map runc's has.
	jq --arg root "$rootfs" --argjson id "$nobody" \
		'.root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false
		| del(.process.capabilities.ambient)
		| if (.linux.namespaces | any(.type == "user")) and .linux.uidMappings == null
		  then .linux.uidMappings = [{containerID: 0, hostID: $id, size: 1}]
		     | .linux.gidMappings = [{containerID: 0, hostID: $id, size: 1}] else . end' \
		"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
	chmod 644 "$dir/config.json"
}
# As root, one bundle (runc's spec) for all three.
bundle runc "$tmp/bundle" ""
mkdir -p "$tmp/state-paddock" "$tmp/state-runc" "$tmp/state-crun"
if [ "$rootless" = 1 ]; then
	bundle "$tmp/paddock-runtime" "$tmp/bundle-paddock-rootless" --rootless
	bundle runc "$tmp/bundle-runc-rootless" --rootless
	bundle crun "$tmp/bundle-crun-rootless" --rootless
	install -d -o $nobody -g $nobody "$tmp"/state-{paddock,runc,crun}-rootless "$tmp/out"
fi

cmdset() { # $1 "" (root) or "-rootless"
	local sfx=$1 b="$tmp/bundle"
	echo "true=/bin/true"
	echo "cycle-floor=$tmp/ocicycle -floor"
	[ -n "$sfx" ] && b="$tmp/bundle-paddock$sfx"
	echo "paddock-runtime=$tmp/ocicycle $tmp/paddock-runtime $tmp/state-paddock$sfx $b id-{id}"
	[ -n "$sfx" ] && b="$tmp/bundle-crun$sfx"
	echo "crun=$tmp/ocicycle /usr/bin/crun $tmp/state-crun$sfx $b id-{id}"
	[ -n "$sfx" ] && b="$tmp/bundle-runc$sfx"
	echo "runc=$tmp/ocicycle /usr/sbin/runc $tmp/state-runc$sfx $b id-{id}"
}
harness() { # $1 suffix, $2 output, extra args
	local sfx=$1 out=$2
	shift 2
	local args=()
	while IFS= read -r c; do args+=(-cmd "$c"); done < <(cmdset "$sfx")
	"$tmp/sidebyside" -n "$runs" -o "$out" "$@" "${args[@]}"
}

echo "== OCI cycle, as root ($runs runs each)"
harness "" "$tmp/rootful.json"
md_args=(-rootful "$tmp/rootful.json")
if [ "$rootless" = 1 ]; then
	echo "== OCI cycle, as uid $nobody ($runs runs each)"
	harness "-rootless" "$tmp/out/rootless.json" -uid=$nobody
	md_args+=(-rootless "$tmp/out/rootless.json")
fi
"$tmp/ocicycle" -md "$repo/BENCHMARKS.md" "${md_args[@]}"
echo "wrote the OCI section of BENCHMARKS.md"
