#!/usr/bin/env bash
# Fuzzing campaign: every libFuzzer harness (tests/fuzz/fuzz-*.c, built by
# `make fuzz` with clang, ASan + UBSan) runs for a number of executions or a
# time, starting from its corpus in tests/fuzz/corpus/NAME.  Inputs that add
# coverage are merged back into that corpus (libFuzzer's -merge=1, so the tree
# keeps a minimal set); crashes are kept under build/fuzz-campaign/ for
# pinning as named reproducers.  Prints one table row per harness.
#
#   bench/fuzz.sh [--runs N] [--seconds S] [--no-merge] [HARNESS...]
#
# Defaults: --runs 1000000, at most --seconds 600 per harness; every harness.
# Exit status 1 when any harness crashed, leaked or timed out.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

runs=1000000 seconds=600 merge=1 names=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--no-merge) merge=0; shift ;;
	-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz.sh: fatal: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz-*.c; do n=${f#tests/fuzz/fuzz-}; names+=("${n%.c}"); done
fi
targets=()
for n in "${names[@]}"; do
	[ -f "tests/fuzz/fuzz-$n.c" ] || { echo "fuzz.sh: fatal: no harness tests/fuzz/fuzz-$n.c" >&2; exit 2; }
	targets+=("build/fuzz/fuzz-$n")
done
echo "fuzz.sh: building ${#targets[@]} harnesses with clang (libFuzzer, ASan, UBSan)" >&2
make -s -j"$(nproc)" "${targets[@]}" >&2 || { echo "fuzz.sh: fatal: unable to build the harnesses" >&2; exit 2; }

work=$top/build/fuzz-campaign
mkdir -p "$work"
bad=0
printf '| harness | execs | exec/s | coverage (edges) | features | corpus before → after | crashes |\n'
printf '|---|---|---|---|---|---|---|\n'
for n in "${names[@]}"; do
	corpus=tests/fuzz/corpus/$n grown=$work/$n.grown log=$work/$n.log
	rm -rf "$grown" "$work/$n".crash-* && mkdir -p "$grown" "$corpus"
	before=$(find "$corpus" -type f | wc -l)
	# The first directory is where new inputs go; the tree's corpus is only read.
	"build/fuzz/fuzz-$n" -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$work/$n.crash-" "$grown" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	crashes=$(find "$work" -maxdepth 1 -name "$n.crash-*" | wc -l)
	if [ "$merge" = 1 ] && [ "$crashes" -eq 0 ]; then
		# Only inputs that add coverage enter the tree's corpus.
		"build/fuzz/fuzz-$n" -merge=1 -timeout=10 -rss_limit_mb=2048 "$corpus" "$grown" >>"$log" 2>&1
	fi
	after=$(find "$corpus" -type f | wc -l)
	[ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ] || bad=1
	printf '| %s | %s | %s | %s | %s | %s → %s | %s%s |\n' "$n" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"$before" "$after" "$crashes" "$([ "$rc" -ne 0 ] && echo " (exit $rc, $log)")"
done
exit "$bad"
