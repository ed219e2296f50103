#!/usr/bin/env bash
# Short fuzz runs of every fuzz target (make fuzz); the seeds live in each
# package's testdata/. FUZZTIME is each target's time (default 10s).
#
# Go's fuzzing engine can end a run that found nothing with "context
# deadline exceeded" when a worker is starved of CPU at the deadline (a
# loaded host): such a run is tried once more. A real failure writes its
# input under testdata/fuzz and is never retried.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $($GO list ./...); do
	dir=$($GO list -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		for try in 1 2; do
			echo "fuzz $pkg $f"
			if $GO test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1s "$pkg" 2>&1 | tee "$log"; then
				break
			fi
			if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
				echo "fuzz $pkg $f: the engine timed out with nothing found; once more"
				continue
			fi
			exit 1
		done
	done
done
