#!/usr/bin/env bash
# cvm-image --cache (the compressed init and modules, keyed by content): a
# warm build writes the same uki.efi, disk.raw and disk.vhd as a clean build
# without a cache (cmp), for the same and for a changed workload; a changed
# init or module is compressed again, never served stale; a damaged entry or
# an unusable cache costs time, not bytes; build.sh's warm rebuild equals a
# clean cvm-image build.  The initramfs is read back with lz4(1) and an
# independent newc reader (Python).
# Needs make all and the pinned kernel.  Prints "N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
img=$top/build/bin/cvm-image
passed=0 failed=0
check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}
for tool in lz4 objcopy python3 cmp; do
	command -v "$tool" >/dev/null || { echo "test-image-cache: fatal: $tool is missing (scripts/setup-host.sh test)" >&2; exit 1; }
done
[ -x "$img" ] && [ -x build/guest/init ] || { echo "test-image-cache: fatal: run make all first" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

read -r -a modnames <<<"$("$img" config --config configs/demo.conf --get kernel.modules)"
mapfile -t kin < <(scripts/kernel.sh inputs "${modnames[@]}")
[ ${#kin[@]} -eq 4 ] || { echo "test-image-cache: fatal: unable to find the kernel inputs (scripts/kernel.sh inputs)" >&2; exit 1; }
cp -r "${kin[0]}" "$work/mods"
cp build/guest/init "$work/init"
cp build/guest/hello "$work/hello"

build() { # OUT [cvm-image options...]
	local out=$1; shift
	"$img" build --config configs/demo.conf --init "$work/init" --modules "$work/mods" --linux "${kin[1]}" \
		--stub "${kin[2]}" --uname "${kin[3]}" --workload "$work/hello" --out "$out" "$@" >"$out.log" 2>&1
}
same() { # DIR DIR: the three artifacts byte for byte
	local f
	for f in uki.efi disk.raw disk.vhd; do
		cmp -s "$1/$f" "$2/$f" || { echo "  $f differs: $1 $2" >&2; return 1; }
	done
}
said() { grep -q "initramfs: init and modules $2" "$1.log"; }

echo "== clean, cold, warm"
build "$work/clean"; check "clean build (no cache) exits 0" test $? -eq 0
check "no cache, no cache line" bash -c "! grep -q 'init and modules' '$work/clean.log'"
build "$work/cold" --cache "$work/cache"; check "cold build exits 0" test $? -eq 0
check "cold: stored" said "$work/cold" "stored in $work/cache/"
check "cold == clean" same "$work/clean" "$work/cold"
check "one entry" test "$(find "$work/cache" -name '*.lz4' | wc -l)" -eq 1
build "$work/warm" --cache "$work/cache"; check "warm build exits 0" test $? -eq 0
check "warm: from the cache" said "$work/warm" "from $work/cache/"
check "warm == clean" same "$work/clean" "$work/warm"

echo "== the workload changes: still a hit, still the clean bytes"
printf 'another workload' >>"$work/hello"
build "$work/wl" --cache "$work/cache"; check "workload changed: exits 0" test $? -eq 0
check "workload changed: from the cache" said "$work/wl" "from"
build "$work/wl-clean"; check "workload changed, clean: exits 0" test $? -eq 0
check "workload changed: warm == clean" same "$work/wl-clean" "$work/wl"
check "and the image did change" bash -c "! cmp -s '$work/clean/disk.raw' '$work/wl/disk.raw'"

echo "== the init changes: compressed again"
printf 'x' >>"$work/init"
build "$work/init2" --cache "$work/cache"; check "init changed: exits 0" test $? -eq 0
check "init changed: a miss, stored" said "$work/init2" "stored in"
build "$work/init2-clean"; check "init changed, clean: exits 0" test $? -eq 0
check "init changed: warm == clean" same "$work/init2-clean" "$work/init2"
check "init changed: not the old initramfs" bash -c "! cmp -s '$work/wl/uki.efi' '$work/init2/uki.efi'"
truncate -s -1 "$work/init"

echo "== a module changes: compressed again"
ko=$(find "$work/mods" -name '*.ko' | sort | head -1)
printf 'x' >>"$ko"
build "$work/mod2" --cache "$work/cache"; check "module changed: exits 0" test $? -eq 0
check "module changed: a miss, stored" said "$work/mod2" "stored in"
build "$work/mod2-clean"; check "module changed, clean: exits 0" test $? -eq 0
check "module changed: warm == clean" same "$work/mod2-clean" "$work/mod2"
truncate -s -1 "$ko"
echo 'extra' >"$work/mods/lib/modules/extra.txt"
build "$work/mod3" --cache "$work/cache"; check "a file added to the modules: a miss" said "$work/mod3" "stored in"
rm "$work/mods/lib/modules/extra.txt"

echo "== back to the first inputs: still cached"
build "$work/again" --cache "$work/cache"; check "first inputs again: from the cache" said "$work/again" "from"
check "first inputs again == clean" same "$work/wl-clean" "$work/again"

echo "== a damaged entry is replaced, never used"
for e in "$work"/cache/*.lz4; do
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-100]^=1; open(p,"wb").write(b)' "$e"
done
build "$work/dmg" --cache "$work/cache"; check "damaged: exits 0" test $? -eq 0
check "damaged: replaced" said "$work/dmg" "replaced a damaged entry"
check "damaged: == clean" same "$work/wl-clean" "$work/dmg"
build "$work/dmg2" --cache "$work/cache"; check "after the repair: from the cache" said "$work/dmg2" "from"

echo "== an unusable cache costs time only"
: >"$work/notadir"
build "$work/bad" --cache "$work/notadir"; check "unusable cache: exits 0" test $? -eq 0
check "unusable cache: says so" grep -q "unable to store the compressed init and modules in $work/notadir" "$work/bad.log"
check "unusable cache: == clean" same "$work/wl-clean" "$work/bad"

echo "== the initramfs, read back independently"
objcopy -O binary --only-section=.initrd "$work/warm/uki.efi" "$work/initrd.lz4"
# lz4(1) reads blocks to the end: without the kernel's zero stop mark.
head -c -4 "$work/initrd.lz4" >"$work/initrd.frame"
check "the stop mark is the last 4 bytes" test "$(tail -c 4 "$work/initrd.lz4" | od -An -tx1 | tr -d ' \n')" = 00000000
lz4 -dc "$work/initrd.frame" >"$work/initrd.cpio" 2>/dev/null; check "lz4 -d decodes it" test $? -eq 0
python3 - "$work/initrd.cpio" >"$work/list" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
o = archive = 0
while o + 110 <= len(b) and b[o:o + 6] == b"070701":
    f = [int(b[o + 6 + 8 * i:o + 14 + 8 * i], 16) for i in range(13)]
    name = b[o + 110:o + 110 + f[11] - 1].decode()
    d = (o + 110 + f[11] + 3) & ~3
    o = (d + f[6] + 3) & ~3
    if name == "TRAILER!!!":
        archive += 1
        continue
    print(archive, name)
print("end", o == len(b))
EOF
check "three archives: /dev/console; init and modules; the workload and its configuration" bash -c "
	grep -qx '0 dev/console' '$work/list' && grep -qx '1 init' '$work/list' && grep -q '^1 lib/modules/.*\.ko$' '$work/list' &&
	grep -qx '1 lib/modules/load.list' '$work/list' && grep -qx '2 etc/cvmkit/init.conf' '$work/list' &&
	grep -qx '2 usr/bin/hello' '$work/list' && grep -qx 'end True' '$work/list' && ! grep -q '^3 ' '$work/list'"

echo "== build.sh: the warm rebuild equals a clean cvm-image build"
./build.sh --workload "$work/hello" --out "$work/bs1" >"$work/bs1.log" 2>&1; check "build.sh exits 0" test $? -eq 0
./build.sh --workload "$work/hello" --out "$work/bs2" >"$work/bs2.log" 2>&1; check "build.sh again exits 0" test $? -eq 0
check "build.sh's second build: from the cache" grep -q "initramfs: init and modules from" "$work/bs2.log"
"$img" build --config configs/demo.conf --init build/guest/init --modules "${kin[0]}" --linux "${kin[1]}" \
	--stub "${kin[2]}" --uname "${kin[3]}" --workload "$work/hello" --out "$work/bs-clean" >"$work/bs-clean.log" 2>&1
check "clean cvm-image build exits 0" test $? -eq 0
check "build.sh warm == clean" same "$work/bs-clean" "$work/bs2"
check "build.sh's measurements describe that disk" bash -c \
	"build/bin/cvm-measure predict '$work/bs-clean/disk.raw' --json | cmp -s - '$work/bs2/measurements.json'"

echo "test-image-cache: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
