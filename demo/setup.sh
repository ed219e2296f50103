#!/usr/bin/env bash
# setup.sh prepares the store the classroom walkthrough (demo/README.md) uses:
#
#   - the default image "base", made from this host's programs;
#   - "lesson", base plus three layers this script writes as tars, with the
#     OCI forms of a whiteout (.wh.NAME) and of an opaque directory
#     (.wh..wh..opq), loaded with `minidocker load` like any `docker save`;
#   - a running container "lab" from it, with a shell. (Not "lesson": where
#     an image and a container share a name, `tree` and `analyze` take the
#     image.)
#
# Run as root from anywhere:   sudo demo/setup.sh
# The store is $DEMO_ROOT (default /tmp/minidocker-lesson); the binary is
# $MINIDOCKER (default bin/minidocker of this repository, built when
# missing). demo/teardown.sh removes what this made.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
root=${DEMO_ROOT:-/tmp/minidocker-lesson}
md=${MINIDOCKER:-$repo/bin/minidocker}

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (containers need it)" >&2; exit 1; }
case $root in
/var/lib/minidocker | /var/lib/minidocker/) echo "setup.sh: pick a store of its own for the lesson, not $root" >&2; exit 1 ;;
esac
if [ ! -x "$md" ]; then
	echo "· building $md"
	(cd "$repo" && go build -o "$md" .)
fi
m() { "$md" --root "$root" "$@"; }

work=$(mktemp -d /tmp/minidocker-lesson-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "· store $root: the default image base"
m image create-base --if-missing >/dev/null

# The lesson image starts from base's own layers: save base as a docker
# archive and keep its layer tars and its architecture.
m save --format docker-archive -o "$work/base.tar" base
mkdir "$work/image"
tar -C "$work/image" -xf "$work/base.tar"
base_layers=$(sed 's/.*"Layers":\[\([^]]*\)\].*/\1/' "$work/image/manifest.json" | tr -d '"' | tr ',' ' ')
base_config=$(sed 's/.*"Config":"\([^"]*\)".*/\1/' "$work/image/manifest.json")
arch=$(sed -n 's/.*"architecture":"\([^"]*\)".*/\1/p' "$work/image/$base_config")
rm "$work/base.tar" "$work/image/manifest.json"

# layer DIR NAME: a tar of DIR's entries, sorted, owned by root, with a
# fixed time, so the same lesson always makes the same digests.
layer() {
	(cd "$1" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort |
		tar --no-recursion --numeric-owner --owner=0 --group=0 --mtime=@1700000000 \
			-cf "$work/image/$2.tar" -T -)
}

# Layer 2 — "COPY app/ /app/": files the next layers change.
l=$work/l2
mkdir -p "$l/app/static" "$l/app/cache" "$l/etc"
printf 'Lesson app. This file is deleted by the next layer.\n' >"$l/app/README.txt"
printf 'version=1\ncolour=blue\n' >"$l/app/config.ini"
printf '<h1>version 1</h1>\n' >"$l/app/static/index.html"
printf 'body { color: blue }\n' >"$l/app/static/old.css"
printf '(a logo)\n' >"$l/app/static/logo.txt"
printf 'cache entry %s\n' a >"$l/app/cache/a.tmp"
printf 'cache entry %s\n' b >"$l/app/cache/b.tmp"
printf 'Welcome to the layers lesson.\n' >"$l/etc/motd"
layer "$l" app

# Layer 3 — "RUN sed …; rm README.txt; rm -r static; mkdir static; …":
# a changed file, a whiteout, an opaque directory and a big file.
l=$work/l3
mkdir -p "$l/app/static" "$l/app/data"
printf 'version=2\ncolour=green\n' >"$l/app/config.ini"
: >"$l/app/.wh.README.txt"
: >"$l/app/static/.wh..wh..opq"
printf '<h1>version 2</h1>\n' >"$l/app/static/index.html"
head -c 2097152 /dev/zero >"$l/app/data/big.bin"
layer "$l" update

# Layer 4 — "RUN rm /app/data/big.bin": deleting in a later layer hides
# the file but the image still carries its bytes (analyze counts them).
l=$work/l4
mkdir -p "$l/app/data" "$l/app/cache"
: >"$l/app/data/.wh.big.bin"
printf 'cache entry c\n' >"$l/app/cache/c.tmp"
layer "$l" cleanup

created=2023-11-14T22:13:20Z # the layers' mtime: the same lesson, the same image ID
diff_ids=""
layers_json=""
for f in $base_layers app.tar update.tar cleanup.tar; do
	sum=$(sha256sum "$work/image/$f" | cut -d' ' -f1)
	diff_ids="$diff_ids\"sha256:$sum\","
	layers_json="$layers_json\"$f\","
done
cat >"$work/image/config.json" <<EOF
{"architecture":"$arch","os":"linux","created":"$created",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/app"},
 "rootfs":{"type":"layers","diff_ids":[${diff_ids%,}]},
 "history":[
  {"created":"$created","created_by":"minidocker image create-base: programs copied from the host"},
  {"created":"$created","created_by":"minidocker image create-base: a minimal /etc"},
  {"created":"$created","created_by":"COPY app/ /app/ (demo/setup.sh)"},
  {"created":"$created","created_by":"RUN sed -i s/1/2/ config.ini; rm README.txt; rm -r static; mkdir static; … (demo/setup.sh)"},
  {"created":"$created","created_by":"RUN rm /app/data/big.bin (demo/setup.sh)"}]}
EOF
printf '[{"Config":"config.json","RepoTags":["lesson:latest"],"Layers":[%s]}]\n' "${layers_json%,}" >"$work/image/manifest.json"
tar -C "$work/image" -cf "$work/lesson.tar" .

echo "· image lesson: base + 3 layers (minidocker load)"
m load -q -i "$work/lesson.tar"

if m ps -a | awk 'NR > 1 { print $NF }' | grep -qx lab; then
	echo "· container lab: there already"
else
	echo "· container lab, from lesson"
	m run -d -i -t --name lab lesson /bin/sh >/dev/null
fi

cat <<EOF

Ready. In this shell:
  export MINIDOCKER_ROOT=$root
  alias minidocker=$md
  minidocker layers lesson       # the stack: what each layer adds, changes, deletes
  minidocker ui                  # 2, enter: the container's layer view
Walkthrough: demo/README.md.  Remove it all: sudo demo/teardown.sh
EOF
