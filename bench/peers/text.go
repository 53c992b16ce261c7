package main

const intro = "What a Go service that sandboxes a command compares: os/exec of bubblewrap, crun and runc\n" +
	"against Start+Wait of a Paddock Template built once, in its own process. `bench/peers.sh`\n" +
	"(called by `bench/run.sh`, or run alone: it writes this section only) runs package sandbox's\n" +
	"`BenchmarkPeers`, all of whose sub-benchmarks run in each `go test -bench` invocation, as root\n" +
	"and again as uid 65534, in a private mount namespace where the cgroup v2 mount is detached\n" +
	"(crun 1.8.1 refuses to run on this hybrid host otherwise). The sub-benchmarks run busybox's\n" +
	"`/bin/true` from one busybox root filesystem that the benchmark builds in a temporary directory:\n\n" +
	"- **exec-true**: os/exec of that same `/bin/true` with no sandbox: the floor.\n" +
	"- **paddock**: `Template.Start`+`Wait`, unpooled; the Template is built once, before the timing.\n" +
	"- **paddock-pooled**: the same Template with a warm pool of 2 (`Template.Pool`), full again\n" +
	"  before each start, untimed: the refill runs beside the start and its Wait, not on the\n" +
	"  next start's path (BenchmarkPool's throughput rows count it). Its probe line comes from a\n" +
	"  warm sandbox.\n" +
	"- **bwrap**, **crun**, **runc**: os/exec of the binary, one per op; crun and runc `run --bundle`\n" +
	"  with a state directory of each sub-benchmark's own and a fresh container ID per op (`run`\n" +
	"  deletes the container when it exits; any left at the end is deleted with `delete --force`).\n" +
	"  A run that fails is counted (the last column) and left out of ns/op; a peer that fails more\n" +
	"  than 5% of its runs fails its sub-benchmark.\n\n" +
	"The same isolation for all, checked from inside each sandbox (the probe lines below):\n\n" +
	"- **Namespaces:** new mount, pid, ipc, uts and network; as uid 65534 also a user namespace\n" +
	"  mapping only the caller (0 → 65534; Paddock's `Rootless()`, bubblewrap's `--unshare-user\n" +
	"  --uid 0 --gid 0`, the OCI configs' single uid and gid map). No cgroup namespace: neither\n" +
	"  runtime's generated spec has one, so Paddock keeps the host's (`WithHostNamespaces(namespace.Cgroup)`).\n" +
	"- **Root:** the busybox directory itself, read-only, no overlay (Paddock's `WithRootDir` and\n" +
	"  `WithReadonlyRootfs`, bubblewrap's `--ro-bind DIR /`, the OCI configs' `root.readonly`).\n" +
	"- **Capabilities:** AUDIT_WRITE, KILL and NET_BIND_SERVICE, the default of `runc spec` and `crun\n" +
	"  spec`, as bounding, effective and permitted sets, none inheritable or ambient (Paddock's\n" +
	"  `WithCaps`, bubblewrap's `--cap-drop ALL --cap-add` each; the specs' ambient set dropped):\n" +
	"  `CapEff: 0000000020000420` in every sandbox.\n" +
	"- **no_new_privs** in all: bubblewrap always sets it, the generated specs ask for it, Paddock's default.\n" +
	"- **Seccomp:** each one's default. Paddock loads its own (Docker's profile for these\n" +
	"  capabilities: `Seccomp: 2`); the peers load none (`Seccomp: 0`): bubblewrap has no default\n" +
	"  filter and the generated specs have no seccomp section. Paddock does more work here.\n" +
	"- **No cgroup limits.** Paddock makes no cgroup (`WithoutCgroup`), nor does bubblewrap; crun and\n" +
	"  runc as root make and remove one per container with only the specs' device rule (deny all),\n" +
	"  as their defaults do (crun's `--cgroup-manager=disabled` would skip it; runc has no such\n" +
	"  switch); as uid 65534 they cannot make one on this cgroup v1 host, where nothing is delegated.\n\n" +
	"What still differs: the mounts, which the probe lines list. Paddock, crun and runc mount the\n" +
	"same set (`/proc`, `/dev` with `/dev/pts`, `/dev/shm` and `/dev/mqueue`, `/sys`, `/sys/fs/cgroup`)\n" +
	"with masked and read-only paths (as uid 65534 they bind the host's device nodes); bubblewrap\n" +
	"only a new `/proc` and a minimal `/dev`, and no masks. The machine was shared with other work\n" +
	"while these figures were taken (its load average when the section was written is below):\n" +
	"compare ratios, and rerun `bench/peers.sh` for better ones. It runs the test binary round after\n" +
	"round, each round running every sub-benchmark in turn; each figure is the median of the rounds'\n" +
	"ns/op, so that the machine's busy phases weigh on all of them more alike; the targets also give\n" +
	"the least and the greatest ratio of a single round, whose two figures ran close together in time.\n"

const notes = "\nWhy this differs from the side-by-side tables above: there `paddock` is `examples/run`, a whole\n" +
	"Go program per sandbox, its start-up and its Build (the seccomp compilation) included; here the\n" +
	"Template is built once and each op is the clone, the child's setup, the exec and the reaping,\n" +
	"where each peer still pays a fork and exec of its own binary and, for runc, of `runc init`.\n"
