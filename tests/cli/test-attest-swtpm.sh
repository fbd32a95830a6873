#!/usr/bin/env bash
# Host-side integration test of Azure vTPM evidence: swtpm provisioned like an Azure SEV-SNP
# vTPM by tests/tools/azure-vtpm-sim.sh (AK at 0x81000003, HCL report with a synthetic SNP
# report signed by a generated test VCEK chain), evidence collected by `cvm-attest collect`
# over swtpm's TCP port with attest/tpm2.c + attest/azure.c, verified by `cvm-attest verify`
# against the test root (--amd-root).  Independent cross-checks use tpm2-tools and openssl.
#
# About evidence v2's user-data check: a real paravisor regenerates the HCL report after the
# guest writes the nonce to NV 0x01400002, so `user-data` carries that nonce.  The simulator's
# report is static (test-rig.md), so the check can only pass for the nonce baked in at
# provisioning time (NONCE below); with any other nonce v2 evidence fails exactly that check,
# which is asserted here rather than weakened in the product.  Freshness against the simulator
# rests on the quote's qualifying data.
#
# Needs build/bin/cvm-attest, swtpm, swtpm_setup, tpm2-tools, openssl, python3.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-attest
sim=$top/tests/tools/azure-vtpm-sim.sh
passed=0 failed=0

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

[ -x "$bin" ] || { echo "test-attest-swtpm: fatal: unable to run: $bin not built" >&2; exit 1; }
for tool in swtpm swtpm_setup tpm2_pcrextend tpm2_rc_decode openssl python3; do
	command -v "$tool" >/dev/null || { echo "test-attest-swtpm: fatal: unable to run: $tool not installed (scripts/setup-host.sh test)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pidfile=$tmp/swtpm.pid
cleanup() {
	[ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

NONCE=$(printf 'cvmkit test nonce' | openssl dgst -sha384 -r | cut -c1-96)  # 48 bytes, as from a KBS
OTHER=$(printf 'another nonce' | openssl dgst -sha384 -r | cut -c1-96)
INITDATA=$(printf 'version = "0.1.0"\nalgorithm = "sha256"\n' | openssl dgst -sha256 -r | cut -c1-64)

if ! "$sim" provision --state "$tmp/state" --out "$tmp/sim" --user-data "$NONCE" --other-ak >"$tmp/provision.log" 2>&1; then
	cat "$tmp/provision.log" >&2
	echo "test-attest-swtpm: fatal: unable to provision the simulated vTPM" >&2
	exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sim" serve --state "$tmp/state" --port "$port" --pidfile "$pidfile" || exit 1
tpm=tcp:127.0.0.1:$port
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

# Independent changes to the PCRs before collecting: PCR 8 gets the init-data digest
# (Trustee's init-data binding), PCR 16 an arbitrary value.
tpm2_pcrextend "8:sha256=$INITDATA" && tpm2_pcrextend "16:sha256=$(printf x | openssl dgst -sha256 -r | cut -c1-64)"
check "tpm2-tools extends PCRs" test $? -eq 0

collect() { # out-file, collect options...
	local out=$1; shift
	"$bin" collect --tpm "$tpm" --vcek "$tmp/sim/vcek.pem" --settle-ms 0 --out "$out" "$@"
}
verify() { # evidence, verify options... (JSON on stdout)
	local ev=$1; shift
	"$bin" verify --tee az-snp-vtpm --evidence "$ev" --amd-root "$tmp/sim/amd-root.pem" --json "$@" 2>/dev/null
}
json() { # file-or-string, python expression over j
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
failed_check() { # verify-json
	json "$1" 'j.get("failed_check", "none")'
}

# --- the good path: v2 evidence for the baked-in nonce passes every check
collect "$tmp/ev.json" --report-data "$NONCE"
check "collect v2 exits 0" test $? -eq 0
out=$(verify "$tmp/ev.json" --report-data "$NONCE" --init-data-digest "$INITDATA"); rc=$?
check "verify v2 exits 0" test "$rc" -eq 0
check "verify v2 verified" test "$(json "$out" 'j["verified"]')" = True
check "init-data ok" test "$(json "$out" '[c["status"] for c in j["checks"] if c["name"]=="init-data"][0]')" = ok
check "user-data ok" test "$(json "$out" '[c["status"] for c in j["checks"] if c["name"]=="user-data"][0]')" = ok
ev=$(cat "$tmp/ev.json")
check "evidence version 2" test "$(json "$ev" 'j["version"]')" = 2
check "24 PCRs" test "$(json "$ev" 'len(j["tpm_quote"]["pcrs"])')" = 24

# Claims against independent values: PCRs from tpm2_pcrread, measurement and TCB from the
# simulator's inputs, the HCL report from the NV index read by tpm2-tools.
for i in 8 16 17; do
	want=$(tpm2_pcrread "sha256:$i" | awk -F'0x' '/:/ && NF > 1 { print tolower($2) }')
	check "claim tpm.pcr$i" test "$(json "$out" "j['claims']['az-snp-vtpm']['tpm']['pcr$(printf %02d "$i")']")" = "$want"
done
want=$(printf 'cvmkit azure-vtpm-sim paravisor' | openssl dgst -sha384 -binary | base64)
check "claim measurement" test "$(json "$out" 'j["claims"]["az-snp-vtpm"]["measurement"]')" = "$want"
check "claim reported_tcb_snp" test "$(json "$out" 'j["claims"]["az-snp-vtpm"]["reported_tcb_snp"]')" = 24
check "claim report_data" test "$(json "$out" 'j["claims"]["report_data"]')" = "$NONCE"
tpm2_nvread 0x01400001 -C o -s 2048 -o "$tmp/nv-hcl.bin" 2>/dev/null
python3 -c 'import base64,json,sys; j=json.load(open(sys.argv[1])); h=j["hcl_report"]; sys.stdout.buffer.write(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))' \
	"$tmp/ev.json" >"$tmp/ev-hcl.bin"
check "hcl_report = NV 0x01400001" cmp -s "$tmp/nv-hcl.bin" "$tmp/ev-hcl.bin"
tpm2_nvread 0x01400002 -C o -s 48 -o "$tmp/nv-ud.bin" 2>/dev/null
check "nonce written to NV 0x01400002" test "$(od -An -tx1 -v "$tmp/nv-ud.bin" | tr -d ' \n')" = "$NONCE"
python3 -c 'import base64,json,sys; j=json.load(open(sys.argv[1])); v=j["vcek"]; sys.stdout.buffer.write(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4)))' \
	"$tmp/ev.json" >"$tmp/ev-vcek.der"
check "vcek = the sim's DER" cmp -s "$tmp/sim/vcek.der" "$tmp/ev-vcek.der"

# The VCEK may also come as DER or as the IMDS THIM body.
collect "$tmp/ev-der.json" --report-data "$NONCE" --vcek "$tmp/sim/vcek.der" &&
	collect "$tmp/ev-thim.json" --report-data "$NONCE" --vcek "$tmp/sim/thim-certification.json"
check "collect with DER and THIM VCEK" test $? -eq 0
check "THIM VCEK verifies" test "$(failed_check "$(verify "$tmp/ev-thim.json" --report-data "$NONCE")")" = none

# --- v1 with a fresh nonce: no user-data check in v1, so it verifies
collect "$tmp/ev1.json" --report-data "$OTHER" --evidence-version 1
out=$(verify "$tmp/ev1.json" --report-data "$OTHER"); rc=$?
check "v1 fresh nonce verifies" test "$rc" -eq 0
check "v1 user-data skipped" test "$(json "$out" '[c["status"] for c in j["checks"] if c["name"]=="user-data"][0]')" = skipped

# --- v2 with a fresh nonce: the static report cannot carry it (see the header)
collect "$tmp/ev2-other.json" --report-data "$OTHER"
out=$(verify "$tmp/ev2-other.json" --report-data "$OTHER"); rc=$?
check "v2 fresh nonce: exit 1" test "$rc" -eq 1
check "v2 fresh nonce: fails user-data only" test "$(failed_check "$out")" = user-data

# --- tampering
out=$(verify "$tmp/ev.json" --report-data "$OTHER"); rc=$?
check "wrong nonce: exit 1" test "$rc" -eq 1
check "wrong nonce: quote-nonce" test "$(failed_check "$out")" = quote-nonce

python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); p=j["tpm_quote"]["pcrs"]; p[5]="11"*32; json.dump(j,open(sys.argv[2],"w"))' \
	"$tmp/ev.json" "$tmp/ev-pcr.json"
out=$(verify "$tmp/ev-pcr.json" --report-data "$NONCE"); rc=$?
check "modified PCR: exit 1" test "$rc" -eq 1
check "modified PCR: pcr-digest" test "$(failed_check "$out")" = pcr-digest

python3 - "$tmp/ev.json" "$tmp/ev-hcl-tampered.json" <<'EOF'
import base64, json, sys
j = json.load(open(sys.argv[1]))
h = bytearray(base64.urlsafe_b64decode(j["hcl_report"] + "=" * (-len(j["hcl_report"]) % 4)))
i = h.index(b"C0FFEE00")  # inside vmUniqueId of the var data
h[i] = ord("D")
j["hcl_report"] = base64.urlsafe_b64encode(bytes(h)).decode()
json.dump(j, open(sys.argv[2], "w"))
EOF
out=$(verify "$tmp/ev-hcl-tampered.json" --report-data "$NONCE")
check "modified var data: runtime-claims-hash" test "$(failed_check "$out")" = runtime-claims-hash

"$bin" collect --tpm "$tpm" --vcek "$tmp/sim/vcek.pem" --settle-ms 0 --report-data "$NONCE" --ak 0x81000004 \
	--out "$tmp/ev-ak.json" 2>"$tmp/err"; rc=$?
check "other AK: collect refuses (exit 1)" test "$rc" -eq 1
check "other AK: diagnostic" grep -q '^cvm-attest: fatal: unable to collect evidence from .*HCLAkPub' "$tmp/err"
collect "$tmp/ev-ak.json" --report-data "$NONCE" --ak 0x81000004 --allow-ak-mismatch 2>"$tmp/err"
check "other AK allowed: warning" grep -q 'warning: the AK is not the HCLAkPub' "$tmp/err"
out=$(verify "$tmp/ev-ak.json" --report-data "$NONCE"); rc=$?
check "other AK: exit 1" test "$rc" -eq 1
check "other AK: ak-quote-signature" test "$(failed_check "$out")" = ak-quote-signature

out=$("$bin" verify --tee az-snp-vtpm --evidence "$tmp/ev.json" --report-data "$NONCE" --json 2>/dev/null); rc=$?
check "AMD's real roots reject the test VCEK" test "$(failed_check "$out")" = amd-vcek-chain

# --- errors of the collector
"$bin" collect --tpm "tcp:127.0.0.1:$port" --report-data zz --vcek "$tmp/sim/vcek.pem" 2>/dev/null
check "bad --report-data exits 2" test $? -eq 2
"$bin" collect --tpm "tcp:localhost" --report-data "$NONCE" --vcek "$tmp/sim/vcek.pem" 2>/dev/null
check "bad --tpm exits 2" test $? -eq 2
"$bin" collect --tpm /nonexistent/tpm --report-data "$NONCE" --vcek "$tmp/sim/vcek.pem" 2>"$tmp/err"
check "absent TPM exits 3" test $? -eq 3
check "absent TPM diagnostic" grep -q '^cvm-attest: fatal: unable to open the TPM /nonexistent/tpm: ' "$tmp/err"
"$bin" collect --tpm "$tpm" --report-data "$NONCE" 2>/dev/null
check "no --vcek exits 2" test $? -eq 2
tpm2_nvundefine 0x01400001 -C o >/dev/null 2>&1
"$bin" collect --tpm "$tpm" --report-data "$NONCE" --vcek "$tmp/sim/vcek.pem" --settle-ms 0 2>"$tmp/err"; rc=$?
check "no HCL report: exit 1" test "$rc" -eq 1
check "no HCL report: names the TPM code" grep -q 'TPM_RC_HANDLE' "$tmp/err"

# --- tpm-rc: the names the init leaves out (it prints "TPM_RC 0x0000098e").
# Names from TPM 2.0 Part 2 §6.6; explanations and the handle/session/parameter
# number from tpm2-tools' decoder.
for want in 0x0000018b:TPM_RC_HANDLE 0x0000098e:TPM_RC_AUTH_FAIL 0x0000014c:TPM_RC_NV_DEFINED \
	0x000002d5:TPM_RC_SIZE 0x00000101:TPM_RC_FAILURE 0x00000922:TPM_RC_RETRY 0x000001c4:TPM_RC_VALUE; do
	code=${want%%:*} name=${want#*:}
	got=$("$bin" tpm-rc "$code" 2>&1)
	decoded=$(tpm2_rc_decode "$code")
	where=$(printf '%s' "$decoded" | sed -n 's/^tpm:\(handle\|session\|parameter\)(\([0-9]\)):.*/ (\1 \2)/p')
	text=$(printf '%s' "$decoded" | sed 's/^tpm:[^:]*: *//')
	check "tpm-rc $code: $name$where" test "${got%%:*}" = "$code $name$where"
	check "tpm-rc $code: tpm2_rc_decode's text" test "${got#*: }" = "$text"
done
"$bin" tpm-rc 98e zz >/dev/null 2>&1
check "tpm-rc: not hex exits 2" test $? -eq 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
