#!/usr/bin/env bash
# cvm-measure sign / verify / publish --sign-key: COSE_Sign1 (ES256, ES384) checked by an
# independent implementation (python3-cbor2 + python3-cryptography), deterministic
# signing, a provenance record naming every pinned input, and verify refusing a
# one-byte change of any file of the bundle.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-measure
py=/usr/bin/python3
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
not_ok() { fail=$((fail + 1)); echo "  FAILED: $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"

if ! $py -c 'import cbor2, cryptography' 2>/dev/null; then
	echo "test-measure-bundle: fatal: python3-cbor2 and python3-cryptography are needed (scripts/setup-host.sh test)" >&2
	exit 1
fi
openssl ecparam -name prime256v1 -genkey -noout -out p256.pem 2>/dev/null
openssl ec -in p256.pem -pubout -out p256.pub 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out p384.pem 2>/dev/null
openssl ec -in p384.pem -pubout -out p384.pub 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null
openssl ec -in other.pem -pubout -out other.pub 2>/dev/null
openssl genrsa -out rsa.pem 2048 2>/dev/null
openssl pkcs8 -topk8 -in p256.pem -v2 aes-256-cbc -passout pass:s3cret -out p256-enc.pem 2>/dev/null
printf 's3cret\n' >pass.txt

img=$top/out/disk.raw
if [ ! -f "$img" ]; then
	"$top/build.sh" --out "$work/img" >/dev/null 2>&1 || { echo "test-measure-bundle: fatal: unable to build an image" >&2; exit 1; }
	img=$work/img/disk.raw
fi
commit=0123456789abcdef0123456789abcdef01234567
export SOURCE_DATE_EPOCH=1700000000

echo "== publish --sign-key (P-256)"
"$bin" publish "$img" --out pub --sign-key p256.pem --lock "$top/deps/lock" --source-commit $commit \
	--builder urn:cvmkit:test
check "publish --sign-key exits 0" [ $? -eq 0 ]
for f in corim.signed.cbor reference-values.json.cose provenance.json provenance.json.cose; do
	check "publish wrote $f" [ -s "pub/$f" ]
done
"$bin" verify pub --key p256.pub >verify.out; check "verify accepts the bundle (exit 0)" [ $? -eq 0 ]
check "verify reports every check" grep -q 'bundle verified: 7 passed, 0 failed' verify.out

# The independent check: decode with cbor2, rebuild Sig_structure, verify with cryptography.
cat >indep.py <<'EOF'
import cbor2, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
d, pubfile, alg_want, ctype_want, name, sig_name, attached = sys.argv[1:8]
pub = serialization.load_pem_public_key(open(pubfile, "rb").read())
spki = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
msg = cbor2.loads(open(f"{d}/{sig_name}", "rb").read())
assert isinstance(msg, cbor2.CBORTag) and msg.tag == 18, "not tag 18"
prot_b, unprot, payload, sig = msg.value
prot = cbor2.loads(prot_b)
assert prot[1] == int(alg_want), f"alg {prot[1]}"
assert prot[3] == ctype_want, f"content type {prot[3]}"
assert prot[4] == hashlib.sha256(spki).digest(), "kid is not sha256(SPKI)"
assert unprot == {}, "unprotected header not empty"
data = open(f"{d}/{name}", "rb").read()
if attached == "1":
    assert payload == data, "payload differs from the file"
else:
    assert payload is None, "not detached"
    payload = data
h = hashes.SHA384() if int(alg_want) == -35 else hashes.SHA256()
half = len(sig) // 2
assert half == (48 if int(alg_want) == -35 else 32), "signature size"
tbs = cbor2.dumps(["Signature1", prot_b, b"", payload])
pub.verify(encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big")), tbs, ec.ECDSA(h))
if name == "corim.cbor":
    assert cbor2.loads(payload).tag == 501, "payload is not an unsigned CoRIM"
print("verified")
EOF
check "cbor2+cryptography verify corim.signed.cbor (ES256, rim+cbor, CoRIM inside)" \
	$py indep.py pub p256.pub -7 application/rim+cbor corim.cbor corim.signed.cbor 1
check "cbor2+cryptography verify reference-values.json.cose (detached)" \
	$py indep.py pub p256.pub -7 application/json reference-values.json reference-values.json.cose 0
check "cbor2+cryptography verify provenance.json.cose (detached, in-toto)" \
	$py indep.py pub p256.pub -7 application/vnd.in-toto+json provenance.json provenance.json.cose 0

cat >prov.py <<'EOF'
import hashlib, json, sys
d, lock, commit, sde = sys.argv[1:5]
p = json.load(open(f"{d}/provenance.json"))
assert p["_type"] == "https://in-toto.io/Statement/v1"
assert p["predicateType"] == "https://slsa.dev/provenance/v1"
subj = {s["name"]: s["digest"]["sha256"] for s in p["subject"]}
for n in ("measurements.json", "reference-values.json", "corim.cbor", "corim.signed.cbor"):
    assert subj[n] == hashlib.sha256(open(f"{d}/{n}", "rb").read()).hexdigest(), n
bd = p["predicate"]["buildDefinition"]
assert bd["externalParameters"]["source_date_epoch"] == int(sde)
deps = bd["resolvedDependencies"]
assert any(x.get("digest", {}).get("gitCommit") == commit for x in deps), "commit missing"
want = [l.split() for l in open(lock) if l.strip() and not l.lstrip().startswith("#")]
got = {x["digest"].get("sha256") for x in deps}
for w in want:
    assert w[5] in got, f"{w[2]} missing"
assert p["predicate"]["runDetails"]["builder"]["id"] == "urn:cvmkit:test"
print(len(want))
EOF
n=$($py prov.py pub "$top/deps/lock" $commit $SOURCE_DATE_EPOCH 2>&1)
check "provenance names the outputs' sha256, commit, SOURCE_DATE_EPOCH and all $n pinned inputs" grep -qxE '[0-9]+' <<<"$n"

echo "== determinism and key types"
"$bin" publish "$img" --out pub2 --sign-key p256.pem --lock "$top/deps/lock" --source-commit $commit \
	--builder urn:cvmkit:test
check "two signing runs give identical bundles" diff -r pub pub2
cp -r pub p384
"$bin" sign p384 --key p384.pem --lock "$top/deps/lock"; check "sign with P-384 exits 0" [ $? -eq 0 ]
check "cbor2+cryptography verify an ES384 corim.signed.cbor" \
	$py indep.py p384 p384.pub -35 application/rim+cbor corim.cbor corim.signed.cbor 1
"$bin" verify p384 --key p384.pub >/dev/null; check "verify accepts the ES384 bundle" [ $? -eq 0 ]
cp -r pub enc
"$bin" sign enc --key p256-enc.pem --key-pass-file pass.txt; check "an encrypted key with --key-pass-file signs" [ $? -eq 0 ]
"$bin" sign enc --key p256-enc.pem 2>err; rc=$?
check "an encrypted key without its passphrase is refused (exit 3)" [ $rc -eq 3 ]
"$bin" sign enc --key rsa.pem 2>err; rc=$?
check "an RSA key is refused, naming ES256/ES384 (exit 3)" bash -c "[ $rc -eq 3 ] && grep -q 'ES256' err"
"$bin" verify pub --key other.pub >/dev/null; check "another key does not verify (exit 1)" [ $? -eq 1 ]
"$bin" sign pub 2>/dev/null; check "sign without --key exits 2" [ $? -eq 2 ]
"$bin" publish "$img" --out x --lock "$top/deps/lock" 2>/dev/null; check "publish --lock without --sign-key exits 2" [ $? -eq 2 ]

echo "== a one-byte change of any file fails verify"
for f in measurements.json reference-values.json corim.cbor corim.signed.cbor provenance.json \
	reference-values.json.cose provenance.json.cose; do
	rm -rf t && cp -r pub t
	size=$(stat -c %s "t/$f")
	off=$((size / 2))
	b=$(od -An -tu1 -j$off -N1 "t/$f" | tr -d ' ')
	printf "$(printf '\\%03o' $(((b + 1) % 256)))" | dd of="t/$f" bs=1 seek=$off conv=notrunc 2>/dev/null
	"$bin" verify t --key p256.pub >v.out 2>&1; rc=$?
	check "a byte of $f changed: verify exits 1 naming a failed check" bash -c "[ $rc -eq 1 ] && grep -q FAILED v.out"
done
rm -rf t && cp -r pub t && rm t/corim.signed.cbor
"$bin" verify t --key p256.pub >/dev/null 2>&1; check "a missing signature fails verify" [ $? -eq 1 ]

echo "test-measure-bundle: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
