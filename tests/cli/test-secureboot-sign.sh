#!/usr/bin/env bash
# cvm-image sign: the Authenticode signature is accepted by independent tools
# (sbverify, pesign, osslsigncode), breaks when one byte changes, and is the
# same bytes on every run.  Keys: Debian's OVMF snakeoil key (encrypted with
# the passphrase "snakeoil", ../shared/notes/test-rig.md) and a fresh
# ECDSA P-256 key made by openssl.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
img=$top/build/bin/cvm-image
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
need() { # need WHAT PATH-OR-COMMAND: missing is a failure under CI, a skip otherwise
	if [ -e "$2" ] || command -v "$2" >/dev/null 2>&1; then return 0; fi
	if [ "${CI:-}" = true ]; then echo "test-secureboot-sign: fatal: $1 missing ($2)"; exit 1; fi
	echo "test-secureboot-sign: SKIP: $1 missing ($2)"; exit 0
}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
KEY=/usr/share/ovmf/PkKek-1-snakeoil.key CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
need "Debian ovmf snakeoil key" "$KEY"
for t in sbverify pesign osslsigncode openssl dpkg-deb; do need "$t" "$t"; done
[ -x "$img" ] || make -C "$top" -s build/bin/cvm-image >/dev/null || exit 1
deb=$("$top/scripts/deps.sh" path systemd-boot-efi) && dpkg-deb --fsys-tarfile "$deb" |
	tar -xOf - ./usr/lib/systemd/boot/efi/linuxx64.efi.stub >"$work/stub.efi" || { echo "no stub in the deps cache"; exit 1; }

sign() { CVMKIT_SECUREBOOT_KEY_PASS=snakeoil "$img" sign --secureboot-key "$KEY" --secureboot-cert "$CERT" "$@"; }
sign --in "$work/stub.efi" --out "$work/a.efi"; check "sign exits 0" test $? -eq 0
sign --in "$work/stub.efi" --out "$work/b.efi"
check "two runs give the same bytes" cmp -s "$work/a.efi" "$work/b.efi"
check "sbverify --cert accepts it" sbverify --cert "$CERT" "$work/a.efi"
check "pesign -S lists one signature" bash -c "pesign -S -i '$work/a.efi' | grep -q 'certificate address'"
check "osslsigncode verifies it against the cert" \
	bash -c "osslsigncode verify -CAfile '$CERT' '$work/a.efi' 2>&1 | grep -q '^Signature verification: ok'"
# The digest the signature carries is the image's own (independent tool: pesign -h on the unsigned file).
want=$(pesign -h -d sha256 -i "$work/stub.efi" | awk '{print $NF}')
got=$(osslsigncode verify -CAfile "$CERT" "$work/a.efi" 2>&1 | awk '/Current message digest/ {print $5; exit}')
check "signed digest = pesign -h of the unsigned stub (${want:0:16}...)" [ -n "$want" -a "${want,,}" = "${got,,}" ]

cp "$work/a.efi" "$work/mod.efi"
printf '\x01' | dd of="$work/mod.efi" bs=1 seek=1024 conv=notrunc status=none
check "one byte changed: sbverify refuses" bash -c "! sbverify --cert '$CERT' '$work/mod.efi' >/dev/null 2>&1"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/other.key" -out "$work/other.pem" -subj /CN=other -days 1 2>/dev/null
check "another certificate: sbverify refuses" bash -c "! sbverify --cert '$work/other.pem' '$work/a.efi' >/dev/null 2>&1"

"$img" sign --secureboot-key "$KEY" --secureboot-cert "$CERT" --in "$work/stub.efi" --out "$work/x.efi" 2>"$work/err"
check "no passphrase: exit 2, the message names it" bash -c "[ $? -eq 2 ] && grep -q passphrase '$work/err'"
printf 'wrong\n' >"$work/pass"
"$img" sign --secureboot-key "$KEY" --secureboot-cert "$CERT" --secureboot-key-pass-file "$work/pass" \
	--in "$work/stub.efi" --out "$work/x.efi" 2>/dev/null
check "wrong passphrase file: exit 2" test $? -eq 2
printf 'snakeoil\n' >"$work/pass"
"$img" sign --secureboot-key "$KEY" --secureboot-cert "$CERT" --secureboot-key-pass-file "$work/pass" \
	--in "$work/stub.efi" --out "$work/c.efi"
check "key_pass_file: same bytes as the environment variable" cmp -s "$work/a.efi" "$work/c.efi"
sign --secureboot-cert "$work/other.pem" --in "$work/stub.efi" --out "$work/x.efi" 2>/dev/null
check "key and cert that do not match: exit 2" test $? -eq 2
sign --in "$work/a.efi" --out "$work/x.efi" 2>/dev/null
check "an already signed image: exit 1" test $? -eq 1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ec.key" -out "$work/ec.pem" \
	-subj /CN=cvmkit-ec-test -days 1 2>/dev/null
"$img" sign --secureboot-key "$work/ec.key" --secureboot-cert "$work/ec.pem" --in "$work/stub.efi" --out "$work/e1.efi"
"$img" sign --secureboot-key "$work/ec.key" --secureboot-cert "$work/ec.pem" --in "$work/stub.efi" --out "$work/e2.efi"
check "ECDSA P-256: sbverify accepts it" sbverify --cert "$work/ec.pem" "$work/e1.efi"
check "ECDSA P-256: deterministic (RFC 6979)" cmp -s "$work/e1.efi" "$work/e2.efi"

# ---- [secureboot] db must authorise the signing certificate (itself or its
# issuer), or the CVM would refuse the image at its first boot.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" \
	-subj /CN=cvmkit-test-db-ca -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/leaf.key" -out "$work/leaf.csr" \
	-subj /CN=cvmkit-test-signer 2>/dev/null
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial 7 -days 1 \
	-out "$work/leaf.pem" 2>/dev/null
check "openssl: the CA issued the signing certificate" openssl verify -CAfile "$work/ca.pem" "$work/leaf.pem"
[ -x "$top/build/guest/init" ] || make -C "$top" -s build/guest/init >/dev/null || exit 1
dbbuild() { # NAME DB...: cvm-image build signed with leaf, db as given
	local out=$work/db-$1; shift
	local dbs=()
	for d in "$@"; do dbs+=(--secureboot-db "$d"); done
	"$img" build --workload "$top/build/guest/hello" --init "$top/build/guest/init" \
		--stub "$work/stub.efi" --linux "$("$top/scripts/kernel.sh" vmlinuz)" --uname test \
		--secureboot-key "$work/leaf.key" --secureboot-cert "$work/leaf.pem" "${dbs[@]}" \
		--out "$out" >"$out.log" 2>&1
}
dbbuild unrelated "$work/other.pem"; rc=$?
check "db without the signer or its issuer: exit 2, the message says why" \
	bash -c "[ $rc -eq 2 ] && grep -qF 'unable to use [secureboot] db: none of its certificates is [secureboot] cert or the one that issued it' '$work/db-unrelated.log'"
check "db without the signer or its issuer: no image written" test ! -e "$work/db-unrelated/uki.efi" -a ! -e "$work/db-unrelated/azure-uefi-settings.json"
dbbuild issuer "$work/other.pem" "$work/ca.pem"
check "db holding the issuing CA: built" test $? -eq 0 -a -s "$work/db-issuer/uki.efi"
check "the UKI it signed verifies against that CA (sbverify)" sbverify --cert "$work/ca.pem" "$work/db-issuer/uki.efi"
dbbuild self "$work/leaf.pem"
check "db holding the signing certificate itself: built" test $? -eq 0 -a -s "$work/db-self/uki.efi"

# ---- build.sh hands the platform's Secure Boot variables to publish, so the
# published PCR 7 is the one test-boot-secureboot proves against the TPM.
VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
need "Debian OVMF snakeoil varstore" "$VARS"
bsb() { CVMKIT_SECUREBOOT_KEY_PASS=snakeoil "$top/build.sh" --out "$work/bsb-$1" --secureboot-key "$KEY" \
	--secureboot-cert "$CERT" "${@:2}" >"$work/bsb-$1.log" 2>&1; }
bsb novars
check "build.sh, signed, no --secureboot-vars: says PCR 7 is not pinned, predicts Secure Boot off" bash -c \
	"grep -q 'no --secureboot-vars was given' '$work/bsb-novars.log' && jq -e '.secure_boot == false' '$work/bsb-novars/measurements.json' >/dev/null"
bsb vars --secureboot-vars "$VARS"
"$top/build/bin/cvm-measure" predict "$work/bsb-vars/disk.raw" --secureboot-vars "$VARS" --json >"$work/bsb-pred.json" 2>/dev/null
want=$(jq -r '.pcrs["7"].values.sha256' "$work/bsb-pred.json")
check "build.sh --secureboot-vars: measurements.json has Secure Boot on and PCR 7 = predict's (${want:0:16}...)" bash -c \
	"jq -e --arg w '$want' '.secure_boot == true and .pcrs[\"7\"].values.sha256 == \$w' '$work/bsb-vars/measurements.json' >/dev/null"
check "build.sh --secureboot-vars: the reference values pin PCR 7" bash -c \
	"jq -r .payload '$work/bsb-vars/reference-values.json' | base64 -d | jq -e --arg w '$want' '.snp_pcr07 == [\$w]' >/dev/null"
echo "test-secureboot-sign: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
