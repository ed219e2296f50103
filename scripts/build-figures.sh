#!/usr/bin/env bash
# Figures of making layers (make bench), in one run, median of RUNS:
#   build    the issue's 6-step Dockerfile (FROM base, ENV, WORKDIR, COPY
#            of 1,000 files, RUN, CMD): a first build and a cached
#            rebuild, beside buildah bud --layers --isolation chroot of the
#            same file with base copied into buildah's storage by skopeo;
#   commit   of a container whose upper directory holds 10,000 changed
#            files, beside tar -czf of that upper directory.
# Needs root, buildah and skopeo (make deps installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
BIN=$(realpath "${BIN:-bin/minidocker}")
work=$(mktemp -d /tmp/minidocker-buildfig.XXXXXX)
# buildah's own storage for this run only, so nothing of the host's is touched.
bstore="--root $work/buildah/root --runroot $work/buildah/run --storage-driver vfs"
cleanup() {
	buildah $bstore rm --all >/dev/null 2>&1 || true
	"$BIN" --root "$work/store" rm -f fig-commit >/dev/null 2>&1 || true
	umount -R "$work/buildah" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
root=$work/store
"$BIN" --root "$root" image create-base >/dev/null
"$BIN" --root "$root" save -o "$work/base.tar" base
skopeo copy -q "oci-archive:$work/base.tar" "containers-storage:[vfs@$work/buildah/root+$work/buildah/run]localhost/base:latest"

mkdir -p "$work/ctx/files"
for i in $(seq 1000); do echo "file $i" >"$work/ctx/files/f$i.txt"; done
# FROM names base as each tool calls it: minidocker's store has "base",
# buildah's "localhost/base".
dockerfile() {
	cat <<DF
FROM $1
ENV GREETING=hello
WORKDIR /app
COPY files/ /app/files/
RUN echo "\$GREETING" >/app/greeting && ls /app/files | wc -l >/app/count
CMD ["/bin/cat", "/app/greeting"]
DF
}
dockerfile base >"$work/ctx/Dockerfile.minidocker"
dockerfile localhost/base >"$work/ctx/Dockerfile.buildah"

# seconds CMD...: the wall time of CMD, output discarded.
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", b - a}'
}
median() { sort -n | awk '{v[NR]=$1} END {printf "%.3f", v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

md_first=() md_cached=() bh_first=() bh_cached=()
for i in $(seq "$RUNS"); do
	# A first build: nothing cached (a new context line each round makes
	# every step new for both tools: ENV's value changes).
	sed -i "s/GREETING=hello.*/GREETING=hello$i/" "$work/ctx/Dockerfile.minidocker" "$work/ctx/Dockerfile.buildah"
	md_first+=("$(seconds "$BIN" --root "$root" build -t fig:md -f "$work/ctx/Dockerfile.minidocker" "$work/ctx")")
	bh_first+=("$(seconds buildah $bstore bud --layers --isolation chroot -t fig:bh -f "$work/ctx/Dockerfile.buildah" "$work/ctx")")
	md_cached+=("$(seconds "$BIN" --root "$root" build -t fig:md -f "$work/ctx/Dockerfile.minidocker" "$work/ctx")")
	bh_cached+=("$(seconds buildah $bstore bud --layers --isolation chroot -t fig:bh -f "$work/ctx/Dockerfile.buildah" "$work/ctx")")
done
printf 'build, median of %d runs (seconds):\n' "$RUNS"
mf=$(printf '%s\n' "${md_first[@]}" | median) bf=$(printf '%s\n' "${bh_first[@]}" | median)
mc=$(printf '%s\n' "${md_cached[@]}" | median) bc=$(printf '%s\n' "${bh_cached[@]}" | median)
printf '  %-22s minidocker %6.3f  buildah %6.3f  (buildah/minidocker %.1fx)\n' "first build" "$mf" "$bf" "$(ratio "$bf" "$mf")"
printf '  %-22s minidocker %6.3f  buildah %6.3f  (buildah/minidocker %.1fx)\n' "cached rebuild" "$mc" "$bc" "$(ratio "$bc" "$mc")"

# Commit: 10,000 new files of 1 KiB written in a stopped container.
"$BIN" --root "$root" run --name fig-commit base sh -c 'mkdir /data && i=0; while [ $i -lt 10000 ]; do head -c 1024 /dev/urandom >/data/f$i; i=$((i+1)); done' >/dev/null
upper=$("$BIN" --root "$root" inspect fig-commit | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["rootfs"]["upper"])')
mc=() tc=()
for i in $(seq "$RUNS"); do
	mc+=("$(seconds "$BIN" --root "$root" commit fig-commit fig:commit$i)")
	tc+=("$(seconds tar -czf "$work/upper$i.tar.gz" -C "$upper" .)")
	"$BIN" --root "$root" rmi fig:commit$i >/dev/null
done
m=$(printf '%s\n' "${mc[@]}" | median) t=$(printf '%s\n' "${tc[@]}" | median)
printf 'commit of 10,000 files, median of %d runs (seconds):\n' "$RUNS"
printf '  minidocker commit %6.3f  tar -czf %6.3f  (minidocker/tar %.2fx)\n' "$m" "$t" "$(ratio "$m" "$t")"
