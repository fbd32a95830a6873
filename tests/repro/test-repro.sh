#!/usr/bin/env bash
# Two builds from two clean clones of HEAD, in different directories, must
# produce byte-identical uki.efi, disk.raw and disk.vhd.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cvmkit-repro.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

for d in first second-clone; do
	git clone -q "$top" "$work/$d" || { echo "repro: fatal: unable to clone $top"; exit 1; }
	# The vectors folder sits beside the clone in CI; builds do not need it.
	if ! (cd "$work/$d" && ./build.sh --out "$work/$d/out" >"$work/$d.log" 2>&1); then
		cat "$work/$d.log"
		echo "repro: fatal: unable to build in $work/$d"
		exit 1
	fi
done
for f in uki.efi disk.raw disk.vhd; do
	a=$(sha256sum <"$work/first/out/$f" | cut -d' ' -f1)
	b=$(sha256sum <"$work/second-clone/out/$f" | cut -d' ' -f1)
	if [ "$a" = "$b" ]; then
		echo "  ok: $f identical ($a)"; pass=$((pass + 1))
	else
		echo "  FAILED: $f differs: $a vs $b"; fail=$((fail + 1))
	fi
done
echo "repro: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
