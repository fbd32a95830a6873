#!/usr/bin/env bash
# cvm-measure capture: what authentication costs.  Median wall time over N runs of
# `capture --nonce` (parse, reassemble the evidence lines, verify as cvm-attest verify does,
# compare the line with the quote, print) against `capture --unauthenticated` (parse and print)
# on the serial logs tests/boot/test-boot-capture.sh saved (one SNP and one TDX boot on the
# simulated Azure vTPM), interleaved so machine load hits both alike; plus what the evidence
# adds to the console.
#
#   bench/capture-bench.sh [N]     (default N=21; run tests/boot/test-boot-capture.sh first)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-21}
W=${BOOT_WORK:-$top/build/boot}/capture
M=${CVM_MEASURE:-build/bin/cvm-measure}
[ -s "$W/snp.serial" ] && [ -s "$W/tdx.serial" ] ||
	{ echo "capture-bench: fatal: unable to find $W/{snp,tdx}.serial: run tests/boot/test-boot-capture.sh first" >&2; exit 1; }
ms() { local t0 t1; t0=${EPOCHREALTIME/[.,]/}; "$@" >/dev/null 2>&1; t1=${EPOCHREALTIME/[.,]/}; awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1000 }'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "cvm-measure: $M, $(nproc) online CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), N=$N"
printf '| TEE | evidence lines | evidence bytes on the console | longest line | line + evidence bytes | capture --nonce (ms) | --unauthenticated (ms) |\n'
printf '|---|---|---|---|---|---|---|\n'
for tee in snp tdx; do
	log=$W/$tee.serial
	nonce=$(grep -a -o '"evidence":{"format":"[a-z-]*","nonce":"[0-9a-f]*"' "$log" | tail -1 | sed 's/.*"nonce":"//; s/"$//')
	if [ "$tee" = snp ]; then root=(--amd-root "$W/snp/amd-root.pem"); else root=(--intel-root "$W/tdx/intel-root.pem"); fi
	"$M" capture "$log" --nonce "$nonce" "${root[@]}" >/dev/null 2>&1 ||
		{ echo "capture-bench: fatal: unable to authenticate $log" >&2; exit 1; }
	: >"$W/bench-a" ; : >"$W/bench-u"
	for _ in $(seq "$N"); do
		ms "$M" capture "$log" --nonce "$nonce" "${root[@]}" >>"$W/bench-a"; echo >>"$W/bench-a"
		ms "$M" capture "$log" --unauthenticated >>"$W/bench-u"; echo >>"$W/bench-u"
	done
	lines=$(grep -ac 'CVMKIT-EVIDENCE ' "$log")
	bytes=$(grep -a 'CVMKIT-EVIDENCE ' "$log" | wc -c)
	longest=$(grep -a 'CVMKIT-EVIDENCE ' "$log" | tr -d '\r' | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	total=$(($(grep -a 'CVMKIT-MEASURED-BOOT ' "$log" | tail -1 | wc -c) + bytes))
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$tee" "$lines" "$bytes" "$longest" "$total" \
		"$(median <"$W/bench-a")" "$(median <"$W/bench-u")"
done
rm -f "$W/bench-a" "$W/bench-u"
