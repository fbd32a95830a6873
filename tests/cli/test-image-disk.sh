#!/usr/bin/env bash
# cvm-image's disk: Azure's size floor ([image] min_disk_mib), a valid fixed
# VHD, sparse outputs, and refusal of bad values naming the key.  Checked with
# independent tools: qemu-img (VHD reader), sgdisk (GPT checker), stat/cmp.
# Needs make all (build/bin, build/guest) and the pinned kernel (scripts/kernel.sh).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
img=$top/build/bin/cvm-image
passed=0 failed=0 skipped=0
check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}
need() { # TOOL PACKAGE: a visible skip, or a failure under CI=true
	command -v "$1" >/dev/null && return 0
	if [ "${CI:-}" = true ]; then echo "test-image-disk: fatal: $1 missing (install $2)" >&2; exit 1; fi
	echo "test-image-disk: SKIP checks with $1 (not installed; package $2)"; skipped=$((skipped + 1)); return 1
}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
[ -x "$img" ] && [ -x "$top/build/guest/init" ] || { echo "test-image-disk: fatal: run make all first" >&2; exit 1; }

MIB=1048576
build() { # OUT [cvm-image options...]
	local out=$1; shift
	"$img" build --workload "$top/build/guest/hello" --init "$top/build/guest/init" \
		--stub "$("$top/scripts/kernel.sh" stub)" --linux "$("$top/scripts/kernel.sh" vmlinuz)" --uname test \
		--out "$out" "$@" >"$out.log" 2>&1
}
size() { stat -c %s "$1"; }

# ---- default: at least Azure's floor, a whole number of MiB
build "$work/def"; check "default build exits 0" test $? -eq 0
raw=$work/def/disk.raw vhd=$work/def/disk.vhd
check "disk.raw is 20 MiB (Azure's upload minimum)" test "$(size "$raw")" -eq $((20 * MIB))
check "disk.vhd = 20 MiB + 512-byte footer (>= 20972032)" test "$(size "$vhd")" -eq 20972032
check "disk.vhd <= 24 MiB" test "$(size "$vhd")" -le $((24 * MIB))
check "disk.vhd starts with disk.raw" cmp -s -n "$(size "$raw")" "$raw" "$vhd"
# Sparse: the padding and free clusters take no blocks.
check "disk.raw is sparse" test $(($(stat -c '%b * %B' "$raw"))) -lt "$(size "$raw")"
check "disk.vhd is sparse" test $(($(stat -c '%b * %B' "$vhd"))) -lt "$(size "$vhd")"
check "no temporary left" bash -c "! ls -a '$work/def' | grep -q tmp"
if need qemu-img qemu-utils; then
	info=$(qemu-img info -f vpc --output=json "$vhd" 2>&1)
	check "qemu-img reads a vpc image" grep -q '"format": "vpc"' <<<"$info"
	# Azure (like Hyper-V) sizes a VHD by the footer's current size.
	info=$(qemu-img info --output=json --image-opts "driver=vpc,force_size_calc=current_size,file.filename=$vhd" 2>&1)
	check "qemu-img: virtual size 20 MiB" grep -q '"virtual-size": 20971520,' <<<"$info"
	check "qemu-img: VHD content = disk.raw" qemu-img compare -q --image-opts "driver=raw,file.filename=$raw" \
		"driver=vpc,force_size_calc=current_size,file.filename=$vhd"
fi
if need sgdisk gdisk; then
	check "sgdisk -v: GPT valid, backup GPT at the new end" bash -c "sgdisk -v '$raw' | grep -q 'No problems found'"
	check "sgdisk: the disk is 40960 sectors" bash -c "sgdisk -p '$raw' | grep -q 'Disk .*: 40960 sectors'"
	esp_end=$(sgdisk -i 1 "$raw" | awk '/^Last sector:/ { print $3 }')
fi

# ---- min_disk_mib = 0: the old size, the ESP at the end of it
build "$work/zero" --set image.min_disk_mib=0; check "min_disk_mib=0 exits 0" test $? -eq 0
if [ -n "${esp_end:-}" ]; then
	# 1 MiB before the ESP, 1 MiB after it (the backup GPT): as before the floor.
	check "min_disk_mib=0: ESP + 2 MiB" test "$(size "$work/zero/disk.raw")" -eq $(((esp_end + 1) * 512 + MIB))
	check "min_disk_mib=0: disk smaller than the floor" test "$(size "$work/zero/disk.raw")" -lt $((20 * MIB))
	check "min_disk_mib=0: same ESP bytes" cmp -s -n $(((esp_end + 1) * 512 - MIB)) -i $MIB "$raw" "$work/zero/disk.raw"
	check "min_disk_mib=0: GPT valid" bash -c "sgdisk -v '$work/zero/disk.raw' | grep -q 'No problems found'"
fi
check "min_disk_mib=0: VHD = raw + 512" test "$(size "$work/zero/disk.vhd")" -eq $(($(size "$work/zero/disk.raw") + 512))

# ---- a larger floor via the option spelling of the key
build "$work/big" --image-min-disk-mib 33; check "--image-min-disk-mib 33 exits 0" test $? -eq 0
check "--image-min-disk-mib 33: 33 MiB disk" test "$(size "$work/big/disk.raw")" -eq $((33 * MIB))

# ---- bad values: exit 2, the key named, nothing written
for bad in -1 abc 4097 1.5 "" 20x; do
	build "$work/bad" --set "image.min_disk_mib=$bad"; rc=$?
	check "min_disk_mib='$bad' exits 2" test $rc -eq 2
	check "min_disk_mib='$bad' names the key" grep -q 'min_disk_mib' "$work/bad.log"
	check "min_disk_mib='$bad' writes no disk" test ! -e "$work/bad/disk.raw"
done

echo "test-image-disk: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
