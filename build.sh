#!/usr/bin/env bash
# Builds the cvmkit image.  On a fresh Debian 12 machine, run as root, it
# installs what it needs; otherwise it prints the apt-get command and stops.
#
#   ./build.sh [--config FILE] [--workload FILE] [--out DIR] [--sign-key KEY.pem
#              [--sign-key-pass-file FILE]] [any cvm-image option...]
#
# Writes DIR (default out/): uki.efi, disk.raw, disk.vhd, measurements.json,
# reference-values.json, corim.cbor; with --sign-key also the signed bundle
# (corim.signed.cbor, *.cose, provenance.json: cvm-measure sign --help).
# With no arguments it builds the demo workload.  Every timestamp comes from SOURCE_DATE_EPOCH
# (default: the last commit's time), so two builds of one commit are identical.
set -euo pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

out=out config="" pass=() sign=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	--config) config=$2; shift 2 ;;
	--config=*) config=${1#--config=}; shift ;;
	--sign-key) sign+=(--sign-key "$2"); shift 2 ;;
	--sign-key-pass-file) sign+=(--key-pass-file "$2"); shift 2 ;;
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

t0=${EPOCHREALTIME/[.,]/}
step() {
	local now=${EPOCHREALTIME/[.,]/}
	printf 'build.sh: [%8.3f s] %s\n' "$(((now - t0) / 1000))e-3" "$*" >&2
}

step "host packages"
scripts/setup-host.sh build
step "pinned inputs"
scripts/deps.sh fetch
scripts/deps.sh libs
CVMKIT_DEPS_VERIFIED=$(sha256sum <deps/lock | cut -c1-16)
export CVMKIT_DEPS_VERIFIED
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
step "compile (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
make -s -j"$(nproc)" all

# The whole configuration, before anything else reads it: an unknown key or
# option, or a value the build would refuse, stops here with cvm-image's error.
step "configuration"
build/bin/cvm-image config --config "$config" "${pass[@]}" --check

step "kernel modules"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
modules=$(build/bin/cvm-image config --config "$config" "${pass[@]}" --get kernel.modules)
read -r -a modules <<<"$modules"
scripts/kernel.sh modules "$stage" "${modules[@]}"

step "assemble"
mkdir -p "$out"
build/bin/cvm-image build --config "$config" "${pass[@]}" \
	--init build/guest/init --modules "$stage" \
	--stub "$(scripts/kernel.sh stub)" --linux "$(scripts/kernel.sh vmlinuz)" --uname "$(scripts/kernel.sh kver)" \
	--out "$out"

measure_has() { build/bin/cvm-measure --help 2>&1 | grep -qw "$1"; }
if measure_has publish; then
	# One prediction of the disk (PCR 5 needs the GPT) for all three files.
	step "measurements, reference values, CoRIM"
	if [ ${#sign[@]} -gt 0 ]; then
		# The provenance names the pinned inputs and the commit the image came from.
		sign+=(--lock deps/lock --builder urn:cvmkit:build.sh)
		commit=$(git -C "$top" rev-parse HEAD 2>/dev/null || true)
		[ -z "$commit" ] || sign+=(--source-commit "$commit")
	fi
	build/bin/cvm-measure publish "$out/disk.raw" --out "$out" "${sign[@]}" ||
		{ echo "build.sh: fatal: unable to publish the measurements of $out/disk.raw" >&2; exit 1; }
fi
step "done: $out"
