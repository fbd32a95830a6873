#!/usr/bin/env bash
# Benchmarks cvm-ovmf against plain reads/hashes of the same inputs.
# Prints a table: median wall time of N runs, and the ratio to `cat` and to
# `sha384sum` of the same files measured in the same run.
# Usage: bench/ovmf-bench.sh [N]   (OVMF: ../shared/vectors/ovmf/debian-trixie/OVMF.fd,
# kernel/initrd: deterministic 12 MiB / 32 MiB files generated under $TMPDIR)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-9}
bin=$top/build/bin/cvm-ovmf
ovmf=${OVMF:-$top/../shared/vectors/ovmf/debian-trixie/OVMF.fd}
[ -x "$bin" ] || make -C "$top" -s build/bin/cvm-ovmf
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Deterministic stand-ins (content does not change the cost).
head -c $((12 << 20)) /dev/zero | tr '\0' 'k' > "$tmp/kernel"
head -c $((32 << 20)) /dev/zero | tr '\0' 'i' > "$tmp/initrd"

median() { # command... -> median seconds over $n runs
	local ts=() i s e
	for ((i = 0; i < n; i++)); do
		s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
		ts+=("$(echo "$e - $s" | bc -l)")
	done
	printf '%s\n' "${ts[@]}" | sort -g | awk -v n="$n" 'NR == int((n + 1) / 2) { print }'
}

cat_fw=$(median cat "$ovmf")
sha_fw=$(median sha384sum "$ovmf")
cat_all=$(median cat "$ovmf" "$tmp/kernel" "$tmp/initrd")
sha_all=$(median sha384sum "$ovmf" "$tmp/kernel" "$tmp/initrd")
snp=$(median "$bin" --mode snp --vcpus 4 --vcpu-type EPYC-Milan --ovmf "$ovmf")
snpk=$(median "$bin" --mode snp --vcpus 4 --vcpu-type EPYC-Milan --ovmf "$top/../shared/vectors/ovmf/sev-snp-measure/ovmf_AmdSev_suffix.bin" --kernel "$tmp/kernel" --initrd "$tmp/initrd" --append "console=ttyS0")
table=$(median "$bin" --mode snp --table --table-vcpus 1-16 --table-models EPYC-v4,EPYC-Rome,EPYC-Milan,EPYC-Genoa --ovmf "$ovmf")
tdx=$(median "$bin" --mode tdx --ovmf "$ovmf")
sev=$(median "$bin" --mode seves --vcpus 4 --vcpu-type EPYC-Milan --ovmf "$ovmf")

row() { printf '%-44s %10.4f %8.2f %11.2f\n' "$1" "$2" "$(echo "$2 / $3" | bc -l)" "$(echo "$2 / $4" | bc -l)"; }
printf 'runs: %s (median)   firmware: %s (%s bytes)\n' "$n" "$(basename "$ovmf")" "$(stat -c %s "$ovmf")"
printf '%-44s %10s %8s %11s\n' "case" "seconds" "x cat" "x sha384sum"
row "cat OVMF.fd" "$cat_fw" "$cat_fw" "$sha_fw"
row "sha384sum OVMF.fd" "$sha_fw" "$cat_fw" "$sha_fw"
row "snp digest, 4 MiB OVMF, 4 vCPUs" "$snp" "$cat_fw" "$sha_fw"
row "snp table 64 entries (16 vCPUs x 4 models)" "$table" "$cat_fw" "$sha_fw"
row "seves digest (SHA-256), 4 MiB OVMF" "$sev" "$cat_fw" "$sha_fw"
row "tdx mr_td both orders + no kernel" "$tdx" "$cat_fw" "$sha_fw"
row "cat OVMF + 12M kernel + 32M initrd" "$cat_all" "$cat_all" "$sha_all"
row "sha384sum OVMF + kernel + initrd" "$sha_all" "$cat_all" "$sha_all"
row "snp digest with kernel hashes (SHA-256)" "$snpk" "$cat_all" "$sha_all"
