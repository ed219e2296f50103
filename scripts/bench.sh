#!/usr/bin/env bash
# Whole-process figures (make bench): minidocker load of the synthetic image
# against tar -xzf of the same layers and umoci unpack of the same image, in
# one run, median of RUNS, with peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
BIN=${BIN:-bin/minidocker}
# tmpfs by default: ext4 here slows creating files right after deleting many
# (its allocator skips recently freed inodes), which would swamp the figures.
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/minidocker-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go run ./scripts/synth -o "$work/synth.tar" -layers "$work"
skopeo copy -q "docker-archive:$work/synth.tar" "oci:$work/oci:synth" >/dev/null

# measure NAME CMD...: runs CMD once, prints "NAME seconds maxrss_kB".
measure() {
	local name=$1; shift
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	/usr/bin/time -f "$name %e %M" "$@" 2>>"$work/times" >/dev/null
}

# Every run unpacks into directories of its own, deleted only at the end:
# deleting between runs would slow whichever tool comes next.
for i in $(seq "$RUNS"); do
	r=$work/run$i
	mkdir -p "$r/tar/1" "$r/tar/2" "$r/tar/3"
	measure "minidocker-load" "$BIN" --root "$r/store" load -q -i "$work/synth.tar"
	measure "tar-xzf" sh -c "tar -xzf $work/layer1.tar.gz -C $r/tar/1 && tar -xzf $work/layer2.tar.gz -C $r/tar/2 && tar -xzf $work/layer3.tar.gz -C $r/tar/3"
	measure "umoci-unpack" umoci unpack --image "$work/oci:synth" "$r/bundle"
done

echo "median of $RUNS runs (seconds, peak RSS):"
for name in minidocker-load tar-xzf umoci-unpack; do
	grep "^$name " "$work/times" | sort -k2 -n | awk -v n="$RUNS" -v name="$name" \
		'{t[NR]=$2; m[NR]=$3} END {printf "  %-16s %6.2f s  %6.1f MB\n", name, t[int((n+1)/2)], m[int((n+1)/2)]/1024}'
done
