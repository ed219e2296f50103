#!/usr/bin/env bash
# Whole-process start figures (make bench): minidocker run --rm base
# /bin/true against crun run and runc run of the same root filesystem, in
# one run, interleaved, and where minidocker's time goes. Needs root, crun
# and runc (make deps installs them).
#
# Three ways of running them, because they do not rank the tools alike:
#   interleaved    one of each in turn, back to back (what the issue asks);
#   from idle      the same with 100 ms between runs, as a person typing
#                  would start them: crun and runc then pay the RCU grace
#                  period of a cgroup v1 move on every run;
#   alone          each tool's runs back to back: crun's cgroup moves
#                  then find the grace period just passed and skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-31}
BIN=${BIN:-bin/minidocker}
work=$(mktemp -d /tmp/minidocker-runfig.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/store
command -v python3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null; }
go build -o "$work/timeit" ./scripts/timeit
"$BIN" --root "$root" image create-base >/dev/null

# The same root filesystem for crun and runc: the base image's layers, copied.
mkdir -p "$work/bundle/rootfs"
"$BIN" --root "$root" inspect base | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)[0]["LayerDirs"]))' |
	while read -r layer; do cp -a "$layer/." "$work/bundle/rootfs/"; done
(cd "$work/bundle" && runc spec)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["root"]["readonly"] = False
json.dump(c, open(p, "w"), indent=1)
PY

md="$BIN --root $root run --rm base /bin/true"
cr="crun run -b $work/bundle fig-crun"
rc="runc run -b $work/bundle fig-runc"
# Debian's crun refuses a hybrid cgroup host unless it runs in a mount
# namespace of its own with the empty cgroup2 unmounted; all three run in
# that namespace, so that none is measured apart.
inns() {
	unshare -m sh -c 'if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi; "$@"' sh "$@"
}
echo "== interleaved, back to back ($RUNS runs of each)"
inns "$work/timeit" -n "$RUNS" -trace minidocker "$md" crun "$cr" runc "$rc"
echo
echo "== from idle, 100 ms before each run"
inns "$work/timeit" -n "$RUNS" -gap 100ms minidocker "$md" crun "$cr" runc "$rc"
echo
echo "== alone: each tool's runs back to back"
for name in minidocker crun runc; do
	case $name in minidocker) cmd=$md ;; crun) cmd=$cr ;; runc) cmd=$rc ;; esac
	inns "$work/timeit" -n "$RUNS" "$name" "$cmd" | tail -n 1
done
