#!/usr/bin/env bash
# Issue F benchmarks: what initdata costs.  Prints a table; not a pass/fail test.
#
#   bench/initdata-bench.sh [BASE-REV]     (default: the merge base with main)
#
# Boot time of the initdata phase (IMDS userData fetch + decode + parse + PCR 8 extend and
# read-back + /run/initdata), from the guest's own CLOCK_BOOTTIME stamps "phase initdata" ->
# "phase attest" in the serial logs of tests/boot/test-boot-initdata.sh (run it first; under TCG
# the numbers are upper bounds).  Init size: build/guest/init against the init built from
# BASE-REV in a temporary tree with the same pinned libraries.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
logs=$top/build/boot/initdata
base=${1:-$(git -C "$top" merge-base HEAD main 2>/dev/null || echo HEAD~1)}
work=$(mktemp -d "${TMPDIR:-/tmp}/cvmkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "n/a" }'; }
stamp() { grep -aE "$2" "$1" | head -n1 | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p'; }

echo "| boot (serial log) | initdata phase, s | what it read |"
echo "|---|---|---|"
spans=()
for f in "$logs"/native.serial "$logs"/peerpod.serial "$logs"/other.serial "$logs"/none.serial; do
	[ -f "$f" ] || continue
	a=$(stamp "$f" 'init: phase initdata') b=$(stamp "$f" 'init: phase (attest|workload)')
	[ -n "$a" ] && [ -n "$b" ] || continue
	s=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b - a }')
	what=$(grep -aoE 'init: initdata: (none|[a-z -]+ form, [0-9]+ bytes)' "$f" | head -n1 | sed 's/init: initdata: //')
	echo "| $(basename "$f" .serial) | $s | $what |"
	spans+=("$s")
done
[ ${#spans[@]} -gt 0 ] || echo "| (no logs in $logs: run tests/boot/test-boot-initdata.sh) | | |"
[ ${#spans[@]} -gt 0 ] && echo "| median | $(printf '%s\n' "${spans[@]}" | median) | |"

echo
make -s -C "$top" build/guest/init >/dev/null 2>&1 || { echo "bench: fatal: unable to build the init" >&2; exit 1; }
after=$(stat -c %s "$top/build/guest/init")
git -C "$top" archive "$base" | tar -x -C "$work" || { echo "bench: fatal: unable to export $base" >&2; exit 1; }
mkdir -p "$work/build" && cp "$top/build/deps.mk" "$work/build/"
# The base tree may not know zlib: its own Makefile decides what it links.
make -s -C "$work" build/guest/init >/dev/null 2>&1 || { echo "bench: fatal: unable to build the init of $base" >&2; exit 1; }
before=$(stat -c %s "$work/build/guest/init")
echo "| init | bytes | KiB |"
echo "|---|---|---|"
echo "| $(git -C "$top" rev-parse --short "$base") (before) | $before | $((before / 1024)) |"
echo "| this tree | $after | $((after / 1024)) |"
echo "| difference | $((after - before)) | $(((after - before) / 1024)) |"
echo "| budget | 524288 | 512 ($([ "$after" -le 524288 ] && echo within || echo OVER)) |"
