#!/usr/bin/env bash
# Installs the Debian (bookworm) packages cvmkit needs to build and test.
# As root it runs apt-get; otherwise it prints the exact command and fails.
#   scripts/setup-host.sh [build|test]    (test = build + the boot-test rig)
set -euo pipefail

# libarchive-dev: cvm-image reads container images (tar, gzip, zstd layers) with libarchive.
build_pkgs=(gcc make musl-tools pkg-config cmake curl ca-certificates xz-utils kmod dracut-core binutils libssl-dev libarchive-dev)
test_pkgs=(libcmocka-dev clang qemu-system-x86 ovmf swtpm swtpm-tools tpm2-tools openssl
	python3-cryptography python3-jwcrypto dosfstools mtools gdisk qemu-utils
	pesign sbsigntool osslsigncode cpio lz4 python3-cbor2 jq
	azure-cli dnsmasq-base iproute2
	umoci skopeo zstd) # OCI images: an independent reader, the archive forms, zstd layers

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

# build.sh runs this on every build: once every package was found installed,
# trust that until dpkg's status file changes (any install or removal
# rewrites it: a new inode, size or mtime).  CI always asks dpkg.
top=$(cd "$(dirname "$0")/.." && pwd)
stamp=$top/build/.host-packages-${1:-build}
key="$(stat -c '%i %s %.9Y' /var/lib/dpkg/status 2>/dev/null) ${want[*]}"
if [ "${CI:-}" != true ] && [ -f "$stamp" ] && [ "$(<"$stamp")" = "$key" ]; then
	exit 0
fi

# One dpkg-query for all of them.
missing=()
installed=" $(dpkg-query -W -f='${Package}:${Status}\n' "${want[@]}" 2>/dev/null |
	awk -F: '/install ok installed$/ { printf "%s ", $1 }')"
for p in "${want[@]}"; do
	case $installed in *" $p "*) ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -eq 0 ]; then
	mkdir -p "$top/build" && printf '%s\n' "$key" >"$stamp.tmp$$" && mv -f "$stamp.tmp$$" "$stamp" || true
	exit 0
fi

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
