#!/usr/bin/env bash
# PCR 7 for the Azure (Hyper-V) Secure Boot key templates in
# ../shared/vectors/azure-uefi, Secure Boot off and on, with the user's
# certificate appended to db as an image version's additionalSignatures.db
# does.  Expected values come from an independent Python model of the
# Hyper-V firmware (openvmm firmware_uefi nvram: one X509 list per
# certificate, one SHA-256 list per sha256 group, owner 77fa9abd-...; edk2
# Tcg2Dxe PCR 7 events).  The model itself is inferred until a real Azure
# event log confirms it: the output must say so.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
M=$top/build/bin/cvm-measure I=$top/build/bin/cvm-image
vec=${CVMKIT_VECTORS:-$top/../shared/vectors}/azure-uefi
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
if [ ! -f "$vec/MicrosoftUEFI_Template.json" ]; then
	[ "${CI:-}" = true ] && { echo "test-secureboot-azure: fatal: vectors $vec missing"; exit 1; }
	echo "test-secureboot-azure: SKIP: vectors $vec missing"; exit 0
fi
make -C "$top" -s build/bin/cvm-image build/bin/cvm-measure >/dev/null || exit 1
deb=$("$top/scripts/deps.sh" path systemd-boot-efi) && dpkg-deb --fsys-tarfile "$deb" |
	tar -xOf - ./usr/lib/systemd/boot/efi/linuxx64.efi.stub >"$work/stub.efi" || { echo "no stub in the deps cache"; exit 1; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/user.key" -out "$work/user.pem" -subj /CN=cvmkit-user-db -days 1 2>/dev/null
"$I" sign --secureboot-key "$work/user.key" --secureboot-cert "$work/user.pem" --in "$work/stub.efi" --out "$work/uki.efi" ||
	{ echo "cannot sign"; exit 1; }

model() { # TEMPLATE on|off [CERT]: the model's PCR 7 (sha256)
	/usr/bin/python3 - "$@" <<'PYEOF'
import base64, hashlib, json, struct, subprocess, sys, uuid
tmpl, state = sys.argv[1], sys.argv[2]
g = lambda s: uuid.UUID(s).bytes_le
GLOBAL, SECDB = g("8be4df61-93ca-11d2-aa0d-00e098032b8c"), g("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
X509, SHA256 = g("a5c059a1-94e4-4aa7-87b5-ab155c2bf072"), g("c1c41626-504c-4092-aca9-41f936934328")
OWNER = g("77fa9abd-0359-4d32-bd60-28f4e78f784b")
def esl(kind, entries):
    size = 16 + len(entries[0])
    return kind + struct.pack("<III", 28 + size * len(entries), 0, size) + b"".join(OWNER + e for e in entries)
def lists(sig):
    vals = [base64.b64decode(v) for v in sig["value"]]
    if not vals:
        return b""
    return b"".join(esl(X509, [v]) for v in vals) if sig["type"] == "x509" else esl(SHA256, vals)
s = json.load(open(tmpl))["properties"]["uefiSettings"]["signatures"]
var = {"PK": lists(s["PK"]) if "PK" in s else b""}
for k in ("KEK", "db", "dbx"):
    var[k] = b"".join(lists(x) for x in s.get(k, []))
user = None
if len(sys.argv) > 3:
    user = subprocess.run(["openssl", "x509", "-in", sys.argv[3], "-outform", "DER"], capture_output=True, check=True).stdout
    var["db"] += esl(X509, [user])
def ev(vendor, name, data):
    n = name.encode("utf-16-le")
    return hashlib.sha256(vendor + struct.pack("<QQ", len(name), len(data)) + n + data).digest()
pcr = bytes(32)
ext = lambda d: hashlib.sha256(pcr + d).digest()
pcr = ext(ev(GLOBAL, "SecureBoot", b"\x01" if state == "on" else b"\x00"))
for name, vendor in (("PK", GLOBAL), ("KEK", GLOBAL), ("db", SECDB), ("dbx", SECDB)):
    pcr = ext(ev(vendor, name, var[name]))
pcr = ext(hashlib.sha256(bytes(4)).digest())
if state == "on":
    pcr = ext(ev(SECDB, "db", OWNER + user))
print(pcr.hex())
PYEOF
}
p7() { "$M" predict "$work/uki.efi" --bank sha256 --json "$@" | jq -r '.pcrs["7"].values.sha256'; }

for t in MicrosoftUEFI MicrosoftUEFI_Confidential MicrosoftWindows; do
	f=$vec/${t}_Template.json
	want=$(model "$f" off)
	got=$(p7 --secureboot-vars "$f" --secure-boot off)
	check "$t, Secure Boot off: PCR 7 = model ${want:0:16}..." [ -n "$got" -a "$got" = "$want" ]
	want=$(model "$f" on "$work/user.pem")
	got=$(p7 --secureboot-vars "$f" --secure-boot on --secureboot-db-append "$work/user.pem")
	check "$t + user db cert, Secure Boot on: PCR 7 = model ${want:0:16}..." [ -n "$got" -a "$got" = "$want" ]
done
f=$vec/MicrosoftUEFI_Template.json
"$M" predict "$work/uki.efi" --json --secureboot-vars "$f" --secure-boot off >"$work/off.json"
check "labelled: secureboot_vars.inferred, source names the template and 'inferred'" \
	jq -e '.secureboot_vars.inferred == true and (.secureboot_vars.source | test("MicrosoftUEFI_Template.json.*inferred"))' "$work/off.json"
check "secure_boot false from --secure-boot off" jq -e '.secure_boot == false' "$work/off.json"
check "the same template, on vs off: PCR 7 differs" \
	[ "$(p7 --secureboot-vars "$f" --secure-boot off)" != "$(p7 --secureboot-vars "$f" --secure-boot on --secureboot-db-append "$work/user.pem")" ]
"$M" predict "$work/uki.efi" --secureboot-vars "$f" --secure-boot on >/dev/null 2>"$work/err"
check "Secure Boot on without the user's cert in db: exit 3 (the firmware would refuse the UKI)" \
	bash -c "[ $? -eq 3 ] && grep -q 'no db entry' '$work/err'"
"$M" predict "$work/uki.efi" --secureboot-vars "$f" >/dev/null 2>&1
check "a template without --secure-boot: exit 2" [ $? -eq 2 ]
"$M" predict "$work/uki.efi" --secure-boot on >/dev/null 2>&1
check "--secure-boot without --secureboot-vars: exit 2" [ $? -eq 2 ]
"$M" reference-values "$work/uki.efi" --format=map --secureboot-vars "$f" --secure-boot on \
	--secureboot-db-append "$work/user.pem" >"$work/rv.json"
check "reference values carry snp_pcr07 = the model's value" \
	[ "$(jq -r '.snp_pcr07[0]' "$work/rv.json")" = "$(model "$f" on "$work/user.pem")" ]
"$M" reference-values "$work/uki.efi" --format=map >"$work/rv-none.json"
check "without --secureboot-vars no PCR 7 reference value" jq -e 'has("snp_pcr07") | not' "$work/rv-none.json"
# A folder of .esl files: the snakeoil varstore's variables, extracted by an independent parser.
KEY=/usr/share/ovmf/PkKek-1-snakeoil.key CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
if [ -f "$VARS" ]; then
	/usr/bin/python3 - "$VARS" "$work/esl" <<'PYEOF'
import os, struct, sys
d = open(sys.argv[1], "rb").read()
os.makedirs(sys.argv[2])
off = struct.unpack_from("<H", d, 48)[0] + 28
while struct.unpack_from("<H", d, off)[0] == 0x55AA:
    state, ns, ds = d[off + 2], *struct.unpack_from("<II", d, off + 36)
    name = d[off + 60:off + 60 + ns].decode("utf-16-le").rstrip("\0")
    data = d[off + 60 + ns:off + 60 + ns + ds]
    if state == 0x3F and name in ("PK", "KEK", "db", "dbx"):
        open(os.path.join(sys.argv[2], name + ".esl"), "wb").write(data)
    off = (off + 60 + ns + ds + 3) & ~3
PYEOF
	CVMKIT_SECUREBOOT_KEY_PASS=snakeoil "$I" sign --secureboot-key "$KEY" --secureboot-cert "$CERT" --in "$work/stub.efi" --out "$work/so.efi"
	a=$("$M" predict "$work/so.efi" --bank sha256 --json --secureboot-vars "$VARS" | jq -r '.pcrs["7"].values.sha256')
	b=$("$M" predict "$work/so.efi" --bank sha256 --json --secureboot-vars "$work/esl" --secure-boot on | jq -r '.pcrs["7"].values.sha256')
	check "a folder of PK/KEK/db/dbx .esl = the varstore they came from (PCR 7 ${a:0:16}...)" [ -n "$a" -a "$a" != null -a "$a" = "$b" ]
	printf 'junk' >"$work/esl/dbx.esl"
	"$M" predict "$work/so.efi" --secureboot-vars "$work/esl" --secure-boot on >/dev/null 2>&1
	check "a malformed .esl: exit 3" [ $? -eq 3 ]
elif [ "${CI:-}" = true ]; then
	check "Debian ovmf snakeoil varstore present" false
fi
echo "test-secureboot-azure: ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
