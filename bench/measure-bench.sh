#!/usr/bin/env bash
# cvm-measure predict: median wall time over N runs on the default image
# (disk.raw and uki.efi) and on a ~16 MB UKI, side by side with
# `openssl dgst -sha256` and `sha256sum` of the same file, interleaved in the
# same loop so that machine load hits all three alike.  Both banks: sha256
# alone, and sha256+sha384.  Predict hashes most kernel bytes three times per
# bank (UKI Authenticode, .linux Authenticode, .linux content for PCR 11) on a
# small thread pool, with OpenSSL's libcrypto (SHA-NI/AVX2 where the CPU has
# them); target: predict <= 2x openssl dgst for the sha256 bank.
#
#   bench/measure-bench.sh [N]        (default N=7; builds into build/bench/)
#   CVM_MEASURE=/path/to/cvm-measure bench/measure-bench.sh   (another build)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-7}
W=$top/build/bench
mkdir -p "$W"
M=${CVM_MEASURE:-build/bin/cvm-measure}

if [ ! -f "$W/default/disk.raw" ]; then
	./build.sh --out "$W/default" >"$W/default.log" 2>&1
fi
if [ ! -f "$W/big/uki.efi" ]; then
	# An incompressible 3 MiB workload makes the UKI about 16 MB (deterministic bytes).
	python3 -c "import random,sys; r=random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3<<20)))" >"$W/big-workload"
	./build.sh --out "$W/big" --workload-binary "$W/big-workload" --set image.esp_size_mib=48 >"$W/big.log" 2>&1
fi

ms() { # ms CMD...: wall milliseconds of one run
	local t0 t1
	t0=${EPOCHREALTIME/[.,]/}
	"$@" >/dev/null
	t1=${EPOCHREALTIME/[.,]/}
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1000 }'
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

echo "cvm-measure: $M, $(nproc) online CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), N=$N"
grep -qw sha_ni /proc/cpuinfo && echo "CPU has SHA-NI" || echo "CPU has no SHA-NI"
printf '%-18s %9s %15s %11s %11s %11s %9s %9s\n' file bytes banks "predict ms" "openssl ms" "sha256sum" "/openssl" "/sha256sum"
for f in "$W/default/disk.raw" "$W/default/uki.efi" "$W/big/uki.efi"; do
	for banks in sha256 sha256,sha384; do
		p=() o=() s=()
		for _ in $(seq "$N"); do
			p+=("$(ms "$M" predict "$f" --json --bank "$banks")")
			o+=("$(ms openssl dgst -sha256 "$f")")
			s+=("$(ms sha256sum "$f")")
		done
		pm=$(printf '%s\n' "${p[@]}" | median)
		om=$(printf '%s\n' "${o[@]}" | median)
		sm=$(printf '%s\n' "${s[@]}" | median)
		printf '%-18s %9s %15s %11s %11s %11s %9s %9s\n' "${f#"$W"/}" "$(stat -c %s "$f")" "$banks" "$pm" "$om" "$sm" \
			"$(ratio "$pm" "$om")" "$(ratio "$pm" "$sm")"
	done
done
