#!/usr/bin/env bash
# Fuzzing campaign: every libFuzzer harness (tests/fuzz/fuzz-*.c, built by
# `make fuzz` with clang, ASan + UBSan) runs until it reaches its execution
# target (or a time limit), starting from its corpus in tests/fuzz/corpus/NAME
# plus what earlier sessions in the same work directory grew.  Inputs that add
# new edges are merged back into the tree's corpus (libFuzzer's -merge=1 with
# -use_counters=0: hit counts alone do not earn an input a place, which keeps
# the replayed corpora small; the work directory keeps the full grown corpus
# for the next session); crashes are kept in the work directory for pinning
# as named reproducers.  Prints one table row per harness.
#
#   bench/fuzz.sh [--runs N] [--deep-runs N] [--seconds S] [--jobs J]
#                 [--work DIR] [--fresh] [--no-merge | --merge-only] [--table] [HARNESS...]
#
#   --runs N       executions per harness (default 1000000)
#   --deep-runs N  executions for the parsers of network and TPM input
#                  (the DEEP list below; default: --runs)
#   --seconds S    at most S seconds per harness in this session (default 600;
#                  a fuzzer stopped with SIGINT also ends its session cleanly)
#   --jobs J       harnesses run at once (default 1), each at nice 19
#   --work DIR     work directory (default build/fuzz-campaign); a second
#                  session with the same DIR resumes: executions add up, and a
#                  harness that reached its target is not run again
#   --fresh        forget earlier sessions in DIR
#   --no-merge     leave tests/fuzz/corpus alone
#   --merge-only   only merge what DIR grew into tests/fuzz/corpus
#   --table        only print the table of what DIR holds
#
# Exit status 1 when any harness crashed, leaked, timed out or is short of its
# target.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# The parsers of bytes from the network and the TPM (issue 14 asks 10^7 of these).
DEEP=" cpio dhcp eventlog evidence fat gpt hcl http imds jose kbs ovmf pe snp tdquote tpm2 tpmquote vhd wireserver "

runs=1000000 deep= seconds=600 jobs=1 work=$top/build/fuzz-campaign merge=1 fresh=0 table=0 mergeonly=0 names=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--deep-runs) deep=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--fresh) fresh=1; shift ;;
	--no-merge) merge=0; shift ;;
	--table) table=1; shift ;;
	--merge-only) mergeonly=1; shift ;;
	-h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "fuzz.sh: fatal: unknown option $1" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
deep=${deep:-$runs}
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz-*.c; do n=${f#tests/fuzz/fuzz-}; names+=("${n%.c}"); done
fi
targets=()
for n in "${names[@]}"; do
	[ -f "tests/fuzz/fuzz-$n.c" ] || { echo "fuzz.sh: fatal: no harness tests/fuzz/fuzz-$n.c" >&2; exit 2; }
	targets+=("build/fuzz/fuzz-$n")
done
mkdir -p "$work" && work=$(cd "$work" && pwd)

target_of() { case $DEEP in *" $1 "*) echo "$deep" ;; *) echo "$runs" ;; esac; }

# Sum of a column of DIR/NAME.sessions (one line per session: execs milliseconds cov ft rc).
sum_col() { awk -v c="$2" '{ s += $c } END { print s + 0 }' "$work/$1.sessions" 2>/dev/null || echo 0; }
last_col() { awk -v c="$2" 'NF { v = $c } END { print v }' "$work/$1.sessions" 2>/dev/null; }

corpus_size() { printf '%s (%s KiB)' "$(find "$1" -type f | wc -l)" "$(du -sk "$1" | cut -f1)"; }

session() {
	local n=$1 corpus=tests/fuzz/corpus/$1 grown=$work/$1.grown log=$work/$1.log
	local done want rc execs ms cov ft t0
	mkdir -p "$grown" "$corpus"
	[ -f "$work/$n.before" ] || corpus_size "$corpus" >"$work/$n.before"
	done=$(sum_col "$n" 1) want=$(($(target_of "$n") - done))
	if [ "$want" -le 0 ]; then return 0; fi
	t0=$(date +%s%N)
	# The first directory is where new inputs go; the tree's corpus is only read.
	# UBSan halts (and libFuzzer keeps the input) even in a build that recovers.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 nice -n 19 "build/fuzz/fuzz-$n" -runs="$want" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$work/$n.crash-" "$grown" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	ms=$((($(date +%s%N) - t0) / 1000000))
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	echo "${execs:-0} $ms ${cov:-0} ${ft:-0} $rc" >>"$work/$n.sessions"
	[ "$merge" = 1 ] && merge_into_tree "$n"
}

# Only inputs that add edges enter the tree's corpus, and only from a harness
# that did not crash (a crashing input would fail the replay).
merge_into_tree() {
	local n=$1
	compgen -G "$work/$n.crash-*" >/dev/null && return 0
	[ -d "$work/$n.grown" ] || return 0
	UBSAN_OPTIONS=halt_on_error=1 nice -n 19 "build/fuzz/fuzz-$n" -merge=1 -use_counters=0 -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 "tests/fuzz/corpus/$n" "$work/$n.grown" >>"$work/$n.merge.log" 2>&1
}

if [ "$table" = 0 ]; then
	echo "fuzz.sh: building ${#targets[@]} harnesses with clang (libFuzzer, ASan, UBSan)" >&2
	nice -n 19 make -s -j"$jobs" "${targets[@]}" >&2 || { echo "fuzz.sh: fatal: unable to build the harnesses" >&2; exit 2; }
	if [ "$fresh" = 1 ]; then
		for n in "${names[@]}"; do rm -rf "$work/$n".*; done
	fi
	for n in "${names[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		if [ "$mergeonly" = 1 ]; then merge_into_tree "$n" & else session "$n" & fi
	done
	wait
fi

bad=0
printf '| harness | execs | target | exec/s | cov | ft | corpus files (KiB) before → after | crashes |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for n in "${names[@]}"; do
	execs=$(sum_col "$n" 1) ms=$(sum_col "$n" 2)
	crashes=$(find "$work" -maxdepth 1 -name "$n.crash-*" | wc -l)
	# 72 is libFuzzer's exit status when stopped by SIGINT: its executions count.
	rcs=$(awk '$5 != 0 && $5 != 72 { printf "%s ", $5 }' "$work/$n.sessions" 2>/dev/null)
	[ -z "$rcs" ] && [ "$crashes" -eq 0 ] && [ "$execs" -ge "$(target_of "$n")" ] || bad=1
	printf '| %s | %s | %s | %s | %s | %s | %s → %s | %s%s |\n' "$n" "$execs" "$(target_of "$n")" \
		"$([ "$ms" -gt 0 ] && echo $((execs * 1000 / ms)) || echo -)" "$(last_col "$n" 3)" "$(last_col "$n" 4)" \
		"$(cat "$work/$n.before" 2>/dev/null || echo ?)" "$(corpus_size "tests/fuzz/corpus/$n")" "$crashes" \
		"${rcs:+ (exit ${rcs% }, $work/$n.log)}"
done
exit "$bad"
