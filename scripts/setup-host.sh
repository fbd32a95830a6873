#!/usr/bin/env bash
# Installs the Debian (bookworm) packages cvmkit needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command and fails.
#   scripts/setup-host.sh [build|test]    (test = build + the boot-test rig)
set -euo pipefail

build_pkgs=(gcc make musl-tools pkg-config cmake curl ca-certificates xz-utils kmod dracut-core binutils libssl-dev)
test_pkgs=(libcmocka-dev clang qemu-system-x86 ovmf swtpm swtpm-tools tpm2-tools openssl
	python3-cryptography python3-jwcrypto dosfstools mtools gdisk qemu-utils
	pesign sbsigntool osslsigncode cpio lz4 python3-cbor2 jq
	azure-cli dnsmasq-base iproute2)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

# One dpkg-query for all of them: build.sh runs this on every build.
missing=()
installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "${want[@]}" 2>/dev/null |
	awk -F: '/install ok installed$/ { printf "%s ", $1 }')"
for p in "${want[@]}"; do
	case $installed in *" $p "*) ;; *) missing+=("$p") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: fatal: missing packages; as root run: apt-get update && $cmd" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
$cmd -qq >/dev/null
