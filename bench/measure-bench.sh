#!/usr/bin/env bash
# cvm-measure predict: median wall time over N runs on the default image
# (disk.raw and uki.efi) and on a ~15 MB UKI, next to sha256sum of the same
# file in the same run.  Predict hashes most kernel bytes three times per
# bank (UKI Authenticode, .linux Authenticode, .linux content for PCR 11), so
# it only approaches sha256sum by running those digests on several cores:
# the CPU count is printed with the table.
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
	# An incompressible 3 MiB workload makes the UKI about 15 MB (deterministic bytes).
	python3 -c "import random,sys; r=random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(3<<20)))" >"$W/big-workload"
	./build.sh --out "$W/big" --workload-binary "$W/big-workload" --set image.esp_size_mib=48 >"$W/big.log" 2>&1
fi

ms() { # ms CMD...: wall milliseconds of one run
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "cvm-measure: $M, $(nproc) online CPUs"
printf '%-28s %10s %12s %14s %14s %7s\n' file bytes banks "predict ms" "sha256sum ms" ratio
for f in "$W/default/disk.raw" "$W/default/uki.efi" "$W/big/uki.efi"; do
	for banks in sha256 sha256,sha384; do
		p=() s=()
		for _ in $(seq "$N"); do
			p+=("$(ms "$M" predict "$f" --json --bank "$banks")")
			s+=("$(ms sha256sum "$f")")
		done
		pm=$(printf '%s\n' "${p[@]}" | median)
		sm=$(printf '%s\n' "${s[@]}" | median)
		printf '%-28s %10s %12s %14s %14s %7s\n' "${f#"$W"/}" "$(stat -c %s "$f")" "$banks" "$pm" "$sm" \
			"$(awk -v a="$pm" -v b="$sm" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
	done
done
