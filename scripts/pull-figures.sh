#!/usr/bin/env bash
# Whole-process pull figures (make bench): minidocker pull of the synthetic
# image (scripts/synth: 3 gzip layers, about 54,000 files) from a local
# docker-registry into an empty store, unpacked and ready to run, beside
# skopeo copy of it to an OCI layout (download only), podman pull
# (download and unpack, when podman installs) and minidocker load of the
# same image from a file, in one run; then a second pull of the image
# already stored. Median of RUNS, with peak memory, and the ratios the
# issue sets goals for: pull at most 1.2x load, a second pull under 0.1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
BIN=${BIN:-bin/minidocker}
# tmpfs by default, as bench.sh: ext4 here slows creating files right after
# deleting many, which would swamp the figures.
work=$(mktemp -d "${BENCH_DIR:-/dev/shm}/minidocker-pullfig.XXXXXX")
reg_pid=""
cleanup() {
	if [ -n "$reg_pid" ]; then kill "$reg_pid" 2>/dev/null || true; wait "$reg_pid" 2>/dev/null || true; fi
	# podman's storage may leave its overlay directory bind-mounted.
	awk -v w="$work" 'index($5, w "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount "$m" || true; done
	rm -rf "$work"
}
trap cleanup EXIT

command -v docker-registry >/dev/null || { echo "pull-figures: docker-registry is not installed (make deps installs it)" >&2; exit 1; }
if ! command -v podman >/dev/null; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null 2>&1 || true
fi
podman=$(command -v podman || true)

go run ./scripts/synth -o "$work/synth.tar"

# The reference registry on a random loopback port; it says which once it listens.
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:0
  secret: minidocker-figures
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
host=""
for _ in $(seq 300); do
	host=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$work/registry.log" | head -n 1 | cut -d' ' -f3 || true)
	[ -n "$host" ] && break
	sleep 0.1
done
[ -n "$host" ] || { echo "pull-figures: docker-registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1; }
ref=$host/synth:latest

"$BIN" --root "$work/seed" load -q -i "$work/synth.tar" >/dev/null
/usr/bin/time -f "push of the image to the empty registry: %e s" "$BIN" --root "$work/seed" push -q synth "$ref" >/dev/null

# measure NAME CMD...: runs CMD once, page cache dropped, and appends "NAME
# seconds maxrss_kB" to times; stops the figures, with what CMD said, when
# it fails. measure_warm keeps the cache, for a second pull right after the
# first: with the cache dropped it would time reading the program from
# disk (0.13 s here), not what the pull does.
measure() {
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	measure_warm "$@"
}
measure_warm() {
	local name=$1; shift
	if ! /usr/bin/time -a -o "$work/times" -f "$name %e %M" "$@" >/dev/null 2>"$work/stderr"; then
		echo "pull-figures: $name failed:" >&2
		cat "$work/stderr" >&2
		exit 1
	fi
}

names="minidocker-pull minidocker-load skopeo-copy"
[ -n "$podman" ] && names="$names podman-pull"
names="$names minidocker-pull-again"
[ -n "$podman" ] && names="$names podman-pull-again"

# Each run writes into directories of its own, deleted only at the end:
# deleting between runs would slow whichever tool comes next.
for i in $(seq "$RUNS"); do
	r=$work/run$i
	measure minidocker-pull "$BIN" --root "$r/pull" pull -q "$ref"
	measure_warm minidocker-pull-again "$BIN" --root "$r/pull" pull -q "$ref"
	measure minidocker-load "$BIN" --root "$r/load" load -q -i "$work/synth.tar"
	measure skopeo-copy skopeo copy -q --src-tls-verify=false "docker://$ref" "oci:$r/oci:synth"
	if [ -n "$podman" ]; then
		measure podman-pull "$podman" --root "$r/podman" --runroot "$r/podman-run" --storage-driver overlay \
			pull -q --tls-verify=false "docker://$ref"
		measure_warm podman-pull-again "$podman" --root "$r/podman" --runroot "$r/podman-run" --storage-driver overlay \
			pull -q --tls-verify=false "docker://$ref"
	fi
done

echo "pull of the synthetic image from a local docker-registry, median of $RUNS runs (seconds, peak RSS):"
for name in $names; do
	grep "^$name " "$work/times" | sort -k2 -n | awk -v n="$RUNS" -v name="$name" \
		'{t[NR]=$2; m[NR]=$3} END {printf "  %-22s %6.2f s  %6.1f MB\n", name, t[int((n+1)/2)], m[int((n+1)/2)]/1024}'
done | tee "$work/medians"
[ -n "$podman" ] || echo "  (podman: not installed, and apt-get could not install it)"
awk '{t[$1]=$2} END {
	printf "ratios: pull / load = %.2f (goal <= 1.2), pull / skopeo copy = %.2f", t["minidocker-pull"]/t["minidocker-load"], t["minidocker-pull"]/t["skopeo-copy"]
	if ("podman-pull" in t) printf ", podman pull / pull = %.1f", t["podman-pull"]/t["minidocker-pull"]
	printf "\nsecond pull, page cache kept: %.2f s (goal < 0.1)", t["minidocker-pull-again"]
	if ("podman-pull-again" in t) printf ", podman: %.2f s", t["podman-pull-again"]
	printf "\n"
}' "$work/medians"
