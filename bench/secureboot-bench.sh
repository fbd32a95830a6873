#!/usr/bin/env bash
# Secure Boot costs, medians over N runs:
#   - cvm-image sign of the default UKI (snakeoil RSA-2048 key, passphrase-encrypted;
#     the time includes reading and decrypting the key) next to sbsign of the same file;
#   - cvm-measure predict of the signed default disk without Secure Boot inputs, with the
#     OVMF snakeoil varstore (Secure Boot on: the db authority search and one more
#     Authenticode of the UKI), and with the Azure template (Hyper-V model).
#
#   bench/secureboot-bench.sh [N]        (default N=7; builds into build/bench/)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
N=${1:-7}
W=$top/build/bench
mkdir -p "$W"
KEY=/usr/share/ovmf/PkKek-1-snakeoil.key CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
TMPL=${CVMKIT_VECTORS:-$top/../shared/vectors}/azure-uefi/MicrosoftUEFI_Template.json
export CVMKIT_SECUREBOOT_KEY_PASS=snakeoil
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -f "$W/default/uki.efi" ] || ./build.sh --out "$W/default" >"$W/default.log" 2>&1
[ -f "$W/sb/disk.raw" ] || ./build.sh --out "$W/sb" --secureboot-key "$KEY" --secureboot-cert "$CERT" >"$W/sb.log" 2>&1

# Wall and CPU (user + system) milliseconds of one run: the machine may be
# shared, and CPU time is what the operation itself costs.
ms() {
	local t0 t1 cpu TIMEFORMAT='%3U %3S'
	t0=$(date +%s%N)
	cpu=$({ time "$@" >/dev/null 2>&1; } 2>&1)
	t1=$(date +%s%N)
	echo "$(((t1 - t0) / 1000000)) $(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # LABEL CMD...
	local label=$1 w=() c=() r; shift
	for _ in $(seq "$N"); do r=$(ms "$@"); w+=("${r% *}"); c+=("${r#* }"); done
	printf '%-56s %8s %8s\n' "$label" "$(printf '%s\n' "${w[@]}" | median)" "$(printf '%s\n' "${c[@]}" | median)"
}
echo "UKI $(stat -c %s "$W/default/uki.efi") bytes, $(nproc) online CPUs, N=$N"
printf '%-56s %8s %8s\n' "operation" "wall ms" "cpu ms"
openssl rsa -in "$KEY" -passin pass:snakeoil -out "$W/snakeoil-plain.key" 2>/dev/null # sbsign cannot take a passphrase
run "cvm-image sign (default UKI)" build/bin/cvm-image sign --secureboot-key "$KEY" --secureboot-cert "$CERT" \
	--in "$W/default/uki.efi" --out "$W/signed.efi"
run "sbsign (same UKI, same key decrypted; reference)" sbsign --key "$W/snakeoil-plain.key" --cert "$CERT" \
	--output "$W/sbsigned.efi" "$W/default/uki.efi"
run "predict signed disk.raw (no Secure Boot inputs)" build/bin/cvm-measure predict "$W/sb/disk.raw" --json
run "predict signed disk.raw --secureboot-vars snakeoil.fd" build/bin/cvm-measure predict "$W/sb/disk.raw" --json \
	--secureboot-vars "$VARS"
[ -f "$TMPL" ] && run "predict signed disk.raw --secureboot-vars Azure template" build/bin/cvm-measure predict \
	"$W/sb/disk.raw" --json --secureboot-vars "$TMPL" --secure-boot on --secureboot-db-append "$CERT"
