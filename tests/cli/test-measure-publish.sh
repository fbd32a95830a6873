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
# PCR 5 (GPT, ExitBootServices) is predicted for a disk but published only on request:
# firmware measures ExitBootServices again when the loader retries it.
rvmap() { jq -r .payload "$1" | base64 -d; }
check "PCR 5 predicted from the disk" test "$(jq -r '.pcrs["5"].status' "$work/m.json")" = predicted
check "no snp_pcr05 by default" test "$(rvmap "$work/rv.json" | jq 'has("snp_pcr05")')" = false
"$bin" reference-values "$img" --with-pcr5 >"$work/rv5.json"
check "--with-pcr5: snp_pcr05 = the predicted PCR 5" \
	test "$(rvmap "$work/rv5.json" | jq -r '.snp_pcr05[0]')" = "$(jq -r '.pcrs["5"].values.sha256' "$work/m.json")"
"$bin" publish "$img" --with-pcr5 --out "$work/pub5"
check "publish --with-pcr5 = reference-values --with-pcr5" cmp -s "$work/rv5.json" "$work/pub5/reference-values.json"
"$bin" corim "$img" --with-pcr5 -o "$work/c5.cbor"
check "publish --with-pcr5 = corim --with-pcr5" cmp -s "$work/c5.cbor" "$work/pub5/corim.cbor"
check "corim --with-pcr5 differs" bash -c "! cmp -s '$work/c5.cbor' '$work/c.cbor'"

"$bin" publish "$img" 2>/dev/null; check "missing --out exits 2" test $? -eq 2
"$bin" publish "$work/nonexistent" --out "$work/pub" 2>/dev/null; check "missing image exits 3" test $? -eq 3
echo "test-measure-publish: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
