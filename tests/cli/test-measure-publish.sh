#!/usr/bin/env bash
# cvm-measure publish writes, from one prediction, exactly what the separate
# verbs print: predict --json, reference-values, corim -o.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-measure
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

img=$top/out/disk.raw
if [ ! -f "$img" ]; then
	"$top/build.sh" --out "$work/img" >/dev/null 2>&1 || { echo "test-measure-publish: fatal: unable to build an image" >&2; exit 1; }
	img=$work/img/disk.raw
fi
"$bin" publish "$img" --out "$work/pub"; check "publish exits 0" test $? -eq 0
"$bin" predict "$img" --json >"$work/m.json"
"$bin" reference-values "$img" >"$work/rv.json"
"$bin" corim "$img" -o "$work/c.cbor"
check "measurements.json = predict --json" cmp -s "$work/m.json" "$work/pub/measurements.json"
check "reference-values.json = reference-values" cmp -s "$work/rv.json" "$work/pub/reference-values.json"
check "corim.cbor = corim -o" cmp -s "$work/c.cbor" "$work/pub/corim.cbor"
check "no temporary left behind" bash -c "! ls '$work/pub' | grep -q tmp"
"$bin" publish "$img" 2>/dev/null; check "missing --out exits 2" test $? -eq 2
"$bin" publish "$work/nonexistent" --out "$work/pub" 2>/dev/null; check "missing image exits 3" test $? -eq 3
echo "test-measure-publish: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
