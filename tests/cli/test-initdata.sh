#!/usr/bin/env bash
# cvm-measure initdata and the --initdata / --platform / trustee-operator outputs, checked with
# independent tools: Python's tomllib (the TOML corpus of tests/fuzz/corpus/initdata: ok-* must
# give exactly tomllib's values, bad-* must be refused), hashlib (digest, PCR 8), gzip/base64
# (annotation, userData), and the names the trustee-operator's stock policy queries
# (../shared/notes/trustee-reference-values.md §5).  Prints "N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-measure
py=/usr/bin/python3
corpus=$top/tests/fuzz/corpus/initdata
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

[ -x "$bin" ] || { echo "test-initdata: fatal: unable to run: $bin not built" >&2; exit 1; }
$py -c 'import tomllib' 2>/dev/null || { echo "test-initdata: fatal: unable to run: $py has no tomllib (3.11+)" >&2; exit 1; }

echo "== corpus against tomllib"
n_ok=0 n_bad=0
for f in "$corpus"/ok-*.toml; do
	n_ok=$((n_ok + 1))
	name=$(basename "$f")
	if ! "$bin" initdata "$f" --json >"$work/out.json" 2>"$work/err"; then
		check "$name: accepted ($(cat "$work/err"))" false
		continue
	fi
	check "$name: values, digest and PCR 8 equal tomllib's and hashlib's" $py - "$f" "$work/out.json" <<'EOF'
import hashlib, json, sys, tomllib
raw = open(sys.argv[1], "rb").read()
want = tomllib.loads(raw.decode())
got = json.load(open(sys.argv[2]))
alg = want["algorithm"]
d = hashlib.new(alg, raw).digest()
pcr8 = hashlib.sha256(bytes(32) + d[:32]).hexdigest()
ok = (got["version"] == want["version"] and got["algorithm"] == alg and got["data"] == want["data"]
      and got["digest"] == d.hex() and got["pcr8"]["sha256"] == pcr8 and got["size"] == len(raw)
      and got["reference_values"]["snp_pcr08"] == [pcr8])
if not ok:
    print("    want", want, d.hex(), pcr8, "\n    got ", got, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
done
for f in "$corpus"/bad-*.toml; do
	n_bad=$((n_bad + 1))
	name=$(basename "$f")
	verdict=$($py -c 'import sys, tomllib
try:
    tomllib.loads(open(sys.argv[1], "rb").read().decode()); print("tomllib parses it")
except Exception as e:
    print("tomllib refuses it too")' "$f" 2>/dev/null)
	"$bin" initdata "$f" >/dev/null 2>"$work/err"
	rc=$?
	check "$name: refused with exit 3 and one line ($verdict): $(head -c 120 "$work/err")" \
		bash -c "[ $rc -eq 3 ] && [ \$(wc -l <'$work/err') -eq 1 ] && grep -q '^cvm-measure: fatal: unable to parse .* line [0-9]*: ' '$work/err'"
done
check "corpus has both kinds ($n_ok ok, $n_bad bad)" [ "$n_ok" -ge 10 -a "$n_bad" -ge 20 ]

echo "== worked values of ../shared/notes/initdata.md"
ex=$corpus/ok-example.toml
check "the 116-byte example: PCR 8 895e6117..." bash -c "'$bin' initdata '$ex' | grep -qx 'pcr8 sha256: 895e6117f8e0a3e265f29daf0f3d17e2ff8643cf54ccb1c3aca60e262c396f06'"
check "its sha384 twin (CAA truncation): PCR 8 4478daf9..." bash -c "'$bin' initdata '$corpus/ok-example-sha384.toml' 2>/dev/null | grep -qx 'pcr8 sha256: 4478daf9e682eade14959dc4e69eb454e870f9d9fdf4f753f97f48b2ac1368c4'"
check "CAA's dummy: PCR 8 4b58b30b..." bash -c "'$bin' initdata '$corpus/ok-caa-dummy.toml' | grep -qx 'pcr8 sha256: 4b58b30becd30d16f7f60d56b32661d921ae0d3310c6a89f5d552f9bfee921a9'"

echo "== encodings"
"$bin" initdata "$ex" --json >"$work/ex.json"
check "annotation = base64(gzip(FILE)) (Python's gzip)" $py -c '
import base64, gzip, json, sys
j = json.load(open(sys.argv[1]))
assert j["annotation"]["name"] == "io.katacontainers.config.hypervisor.cc_init_data"
assert gzip.decompress(base64.b64decode(j["annotation"]["value"], validate=True)) == open(sys.argv[2], "rb").read()' "$work/ex.json" "$ex"
"$bin" initdata "$ex" --user-data "$work/ud-native" --user-data-base64 "$work/ud-native.b64" >/dev/null &&
	"$bin" initdata "$ex" --form peer-pod --user-data "$work/ud-pp" --user-data-base64 "$work/ud-pp.b64" >/dev/null
check "user-data files written" test $? -eq 0
check "native --user-data is the document itself" cmp -s "$ex" "$work/ud-native"
check "native --user-data-base64 = base64(1) of it" bash -c "base64 -d '$work/ud-native.b64' | cmp -s - '$ex'"
check "peer-pod: cloud-config whose /run/peerpod/initdata holds base64(gzip(FILE))" $py - "$work/ud-pp.b64" "$ex" <<'EOF'
import base64, gzip, sys
cc = base64.b64decode(open(sys.argv[1]).read()).decode()
lines = cc.split("\n")
assert lines[0] == "#cloud-config" and lines[1] == "write_files:"
i = lines.index("  - path: /run/peerpod/initdata")
assert lines[i + 1] == "    content: |"
blob = "".join(l.strip() for l in lines[i + 2:] if l.startswith("      "))
assert gzip.decompress(base64.b64decode(blob)) == open(sys.argv[2], "rb").read()
EOF

echo "== reference values with --initdata and --platform azure"
img=$top/out/disk.raw
if [ ! -f "$img" ]; then
	"$top/build.sh" --out "$work/img" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; echo "test-initdata: fatal: unable to build an image" >&2; exit 1; }
	img=$work/img/disk.raw
fi
pcr8() { $py -c 'import hashlib, sys, tomllib
raw = open(sys.argv[1], "rb").read(); a = tomllib.loads(raw.decode())["algorithm"]
print(hashlib.sha256(bytes(32) + hashlib.new(a, raw).digest()[:32]).hexdigest())' "$1"; }
p1=$(pcr8 "$ex") p2=$(pcr8 "$corpus/ok-three-files.toml")
"$bin" reference-values "$img" --format=map >"$work/plain.json"
"$bin" reference-values "$img" --format=map --initdata "$ex" --initdata "$corpus/ok-three-files.toml" --initdata none \
	--platform azure >"$work/rv.json" 2>"$work/rv.err"
check "reference-values --initdata x2 + none --platform azure exits 0" test $? -eq 0
check "PCR 8: both documents' values and zero, in every prefix; other PCRs unchanged; PCR 3 = observed separator" \
	$py - "$work/plain.json" "$work/rv.json" "$p1" "$p2" <<'EOF'
import json, sys
plain, rv = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want8 = [sys.argv[3], sys.argv[4], "00" * 32]
sep = "3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969"
for p in ("snp", "tdx", "tpm"):
    assert rv[p + "_pcr08"] == want8, rv[p + "_pcr08"]
    assert rv[p + "_pcr03"] == [sep]
for k, v in plain.items():
    if not k.endswith("_pcr08"):
        assert rv[k] == v, k
EOF
check "PCR 3 labelled observed on stderr" grep -q 'PCR 3 = 3d458cfe.* is observed on Azure' "$work/rv.err"
# Names the trustee-operator's stock policy queries (OP dec08eaf, trustee-reference-values.md §5).
check "every name the operator policy queries for az-snp-vtpm and az-tdx-vtpm is an array of 64-hex" $py - "$work/rv.json" <<'EOF'
import json, re, sys
rv = json.load(open(sys.argv[1]))
for tee in ("snp", "tdx"):
    for pcr in ("03", "08", "09", "11", "12"):
        v = rv.get("%s_pcr%s" % (tee, pcr))
        assert isinstance(v, list) and v and all(re.fullmatch("[0-9a-f]{64}", x) for x in v), (tee, pcr, v)
EOF
"$bin" reference-values "$img" --format=map >"$work/no-azure.json"
check "without --platform azure there is no pcr03 (it is not predicted)" bash -c "! grep -q pcr03 '$work/no-azure.json'"
"$bin" reference-values "$img" --initdata "$corpus/bad-integer.toml" >/dev/null 2>"$work/err"
check "a malformed --initdata document is refused (exit 3)" test $? -eq 3

echo "== trustee-operator outputs"
SOURCE_DATE_EPOCH=1767225600 "$bin" reference-values "$img" --format=local-json --initdata "$ex" --platform azure \
	>"$work/reference_value" 2>/dev/null
SOURCE_DATE_EPOCH=1767225600 "$bin" reference-values "$img" --format=configmap --initdata "$ex" --platform azure \
	>"$work/cm.yaml" 2>/dev/null
check "LocalJson: name -> base64url(padded) of {version,name,expiration,value} = the map's values" \
	$py - "$work/reference_value" "$work/rv.json" "$p1" <<'EOF'
import base64, json, re, sys
f = json.load(open(sys.argv[1]))
assert f["snp_pcr08"]
for name, enc in f.items():
    assert re.fullmatch(r"[A-Za-z0-9_-]+=*", enc) and len(enc) % 4 == 0, enc
    rv = json.loads(base64.urlsafe_b64decode(enc))
    assert rv["version"] == "0.1.0" and rv["name"] == name, rv
    assert rv["expiration"] == "2027-01-01T00:00:00Z", rv["expiration"]  # SOURCE_DATE_EPOCH + 365 days
    assert isinstance(rv["value"], list)
assert json.loads(base64.urlsafe_b64decode(f["tdx_pcr08"]))["value"] == [sys.argv[3]]
EOF
vec=$top/../shared/vectors/trustee/trustee-operator/05-rvps-reference-values.yaml
if [ -f "$vec" ]; then
	check "ConfigMap: the operator sample's kind, name, namespace and key; reference_value = the LocalJson file" \
		$py - "$work/cm.yaml" "$work/reference_value" "$vec" <<'EOF'
import json, sys
def parse(path):
    lines = open(path).read().split("\n")
    head = {l.strip().split(":")[0]: l.split(":", 1)[1].strip() for l in lines if ":" in l and not l.startswith("    ")}
    i = lines.index("  reference_value: |")
    body = "\n".join(l[4:] for l in lines[i + 1:] if l.startswith("    "))
    return head, json.loads(body)
ours, sample = parse(sys.argv[1]), parse(sys.argv[3])
for k in ("apiVersion", "kind", "name", "namespace"):
    assert ours[0][k] == sample[0][k], (k, ours[0][k], sample[0][k])
assert ours[1] == json.load(open(sys.argv[2]))
EOF
else
	[ "${CI:-}" = true ] && check "vector $vec present" false || echo "  skip: no vectors at $vec"
fi
"$bin" publish "$img" --out "$work/pub" --initdata "$ex" --platform azure 2>/dev/null
check "publish --initdata --platform azure writes reference_value and rvps-reference-values.yaml" \
	bash -c "[ -s '$work/pub/reference_value' ] && [ -s '$work/pub/rvps-reference-values.yaml' ]"
"$bin" reference-values "$img" --initdata "$ex" --platform azure >"$work/rvps.json" 2>/dev/null
check "publish's reference-values.json = reference-values with the same options" cmp -s "$work/rvps.json" "$work/pub/reference-values.json"

echo "== cvm-image checks [initdata] at build time"
"$top/build.sh" --out "$work/bad1" --initdata-require maybe >"$work/bad1.log" 2>&1
check "require = maybe: build fails naming the key" bash -c "[ $? -ne 0 ] && grep -q 'initdata\] require: yes or no' '$work/bad1.log'"
"$top/build.sh" --out "$work/bad2" --network-mode dhcp --kbs-url initdata --kbs-secret "A kbs:///a/b/c file" \
	--initdata-source none >"$work/bad2.log" 2>&1
check "url = initdata with source = none: build fails naming both" bash -c "[ $? -ne 0 ] && grep -q 'source = none contradicts' '$work/bad2.log'"
"$top/build.sh" --out "$work/bad3" --initdata-source imds >"$work/bad3.log" 2>&1
check "source = imds without a network: build fails" bash -c "[ $? -ne 0 ] && grep -q 'set \[network\] mode' '$work/bad3.log'"

echo "test-initdata: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
