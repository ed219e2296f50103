#!/usr/bin/env bash
# teardown.sh removes what demo/setup.sh made: the containers of the
# lesson's store (stopped first), then the store itself.
#
#   sudo demo/teardown.sh        # $DEMO_ROOT, default /tmp/minidocker-lesson
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
root=${DEMO_ROOT:-/tmp/minidocker-lesson}
md=${MINIDOCKER:-$repo/bin/minidocker}

[ "$(id -u)" = 0 ] || { echo "teardown.sh: run as root" >&2; exit 1; }
root=$(realpath -m "$root")
case $root in
/ | /var/lib/minidocker) echo "teardown.sh: will not delete $root" >&2; exit 1 ;;
esac
if [ ! -d "$root" ]; then
	echo "· $root: nothing to remove"
	exit 0
fi
[ -d "$root/oci" ] || { echo "teardown.sh: $root is not a minidocker store; left alone" >&2; exit 1; }

ids=$("$md" --root "$root" ps -a -q)
if [ -n "$ids" ]; then
	echo "· removing containers: $(echo $ids)"
	# shellcheck disable=SC2086 # one argument an id
	"$md" --root "$root" rm -f $ids >/dev/null
fi
# Deleting through a mount would reach into what is mounted: stop if any
# is left under the store.
if awk -v r="$root/" 'index($5, r) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
	echo "teardown.sh: still mounted under $root:" >&2
	awk -v r="$root/" 'index($5, r) == 1 { print "  " $5 }' /proc/self/mountinfo >&2
	exit 1
fi
rm -rf "$root"
echo "· removed $root"
