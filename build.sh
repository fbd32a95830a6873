#!/usr/bin/env bash
# Builds the cvmkit image.  On a fresh Debian 12 machine, run as root, it
# installs what it needs; otherwise it prints the apt-get command and stops.
#
#   ./build.sh [--config FILE] [--workload FILE] [--out DIR] [--sign-key KEY.pem
#              [--sign-key-pass-file FILE]] [--secureboot-vars SOURCE [--secure-boot on|off]
#              [--secureboot-db-append CERT]...] [any cvm-image option...]
#
# Writes DIR (default out/): uki.efi, disk.raw, disk.vhd, measurements.json,
# reference-values.json, corim.cbor; with --sign-key also the signed bundle
# (corim.signed.cbor, *.cose, provenance.json: cvm-measure sign --help).
# --secureboot-vars and its two companions go to `cvm-measure publish`, so that
# the published PCR 7 describes the platform's Secure Boot variables (an OVMF
# VARS.fd, or Azure's key template JSON with your db appended); without them
# the measurements describe Secure Boot off.
# With no arguments it builds the demo workload.  Every timestamp comes from SOURCE_DATE_EPOCH
# (default: the last commit's time), so two builds of one commit are identical.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

out=out config="" pass=() sign=() sbvars=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	--config) config=$2; shift 2 ;;
	--config=*) config=${1#--config=}; shift ;;
	--sign-key) sign+=(--sign-key "$2"); shift 2 ;;
	--sign-key-pass-file) sign+=(--key-pass-file "$2"); shift 2 ;;
	--secureboot-vars|--secure-boot|--secureboot-db-append) sbvars+=("$1" "$2"); shift 2 ;;
	-h|--help)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
		echo
		if [ -x build/bin/cvm-image ]; then
			build/bin/cvm-image --help | sed -n '/^Configuration/,$p'
		else
			echo "Every cvm-image option is accepted; run 'make' once to list them here."
		fi
		exit 0 ;;
	*) pass+=("$1"); shift ;;
	esac
done
[ -n "$config" ] || config=$top/configs/demo.conf
CVMKIT_CACHE=${CVMKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvmkit}

t0=${EPOCHREALTIME/[.,]/}
step() {
	local now=${EPOCHREALTIME/[.,]/}
	printf 'build.sh: [%8.3f s] %s\n' "$(((now - t0) / 1000))e-3" "$*" >&2
}

step "host packages"
scripts/setup-host.sh build
step "pinned inputs"
scripts/deps.sh ready
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
step "compile (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
make -s -j"$(nproc)" all

# The whole configuration, before anything else reads it: an unknown key or
# option, or a value the build would refuse, stops here with cvm-image's error.
step "configuration"
modules=$(build/bin/cvm-image config --config "$config" "${pass[@]}" --check --get kernel.modules)
read -r -a modules <<<"$modules"

step "kernel modules"
# One call for the modules (a cached tree, read only), kernel, stub and release.
mapfile -t kin < <(scripts/kernel.sh inputs "${modules[@]}")
[ ${#kin[@]} -eq 4 ] || { echo "build.sh: fatal: unable to find the kernel inputs" >&2; exit 1; }

step "assemble"
mkdir -p "$out"
# The compressed init and modules are cached by content (cvm-image --cache):
# a rebuild that changes only the workload does not compress them again.
build/bin/cvm-image build --config "$config" "${pass[@]}" \
	--init build/guest/init --modules "${kin[0]}" --linux "${kin[1]}" --stub "${kin[2]}" --uname "${kin[3]}" \
	--cache "$CVMKIT_CACHE/initrd" --out "$out"

# One prediction of the disk (PCR 5 needs the GPT) for all three files.
step "measurements, reference values, CoRIM"
if [ ${#sign[@]} -gt 0 ]; then
	# The provenance names the pinned inputs and the commit the image came from.
	sign+=(--lock deps/lock --builder urn:cvmkit:build.sh)
	commit=$(git -C "$top" rev-parse HEAD 2>/dev/null || true)
	[ -z "$commit" ] || sign+=(--source-commit "$commit")
fi
[ -f "$out/workload-image.json" ] && sign+=(--workload-image "$out/workload-image.json")
if [ ${#sbvars[@]} -eq 0 ] && [ -n "$(build/bin/cvm-image config --config "$config" "${pass[@]}" --get secureboot.key)" ]; then
	echo "build.sh: note: the UKI is signed but no --secureboot-vars was given: measurements.json and the" \
		"reference values describe Secure Boot off (PCR 7 not pinned); see README, Secure Boot" >&2
fi
sign+=("${sbvars[@]}")
build/bin/cvm-measure publish "$out/disk.raw" --out "$out" "${sign[@]}" ||
	{ echo "build.sh: fatal: unable to publish the measurements of $out/disk.raw" >&2; exit 1; }
step "done: $out"
