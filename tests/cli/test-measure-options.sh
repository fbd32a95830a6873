#!/usr/bin/env bash
# cvm-measure's option tables (measure/cli/opts.c): the --help option lists
# they print and the refusal of each kind of bad option, checked against the
# texts the hand-written parsers printed before the tables replaced them
# (written out below).  No image or vector needed.  Prints "N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-measure
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
[ -x "$bin" ] || { echo "test-measure-options: fatal: unable to run: $bin not built" >&2; exit 1; }

# refused EXPECTED_STDERR ARGS...: exit 2, nothing on stdout, exactly that on stderr.
refused() {
	local want=$1; shift
	"$bin" "$@" >"$work/out" 2>"$work/err"; local rc=$?
	check "$* -> exit 2" [ "$rc" -eq 2 ]
	check "$* -> \"$want\"" bash -c '[ ! -s "$1" ] && [ "$(cat "$2")" = "$3" ]' _ "$work/out" "$work/err" "$want"
}

echo "== --help from the tables"
cat >"$work/replay" <<'EOF'
usage: cvm-measure replay EVENTLOG [--json] [--bank NAME[,NAME...]] [--pcrs LIST]
  Parse a TCG event log (binary_bios_measurements) and replay it.
  --json          one JSON object: {"banks":{...},"events":[...]}
  --bank NAMES    only these banks (sha1, sha256, sha384, sha512)
  --pcrs LIST     only these PCRs, e.g. 0,4,9 or 0-7,11
EOF
"$bin" replay --help >"$work/got"; check "replay --help exits 0" [ $? -eq 0 ]
check "replay --help" cmp -s "$work/replay" "$work/got"
"$bin" replay -h >"$work/got"; check "replay -h = --help" cmp -s "$work/replay" "$work/got"
# Descriptions at the verb's column, continuation lines indented to it, the
# text after the list, then the Secure Boot group at its own column.
cat >"$work/explain" <<'EOF'
  --eventlog FILE  binary_bios_measurements, or a serial log / file holding the
                   init's CVMKIT-MEASURED-BOOT line with the event log (base64)
  --pcrs FILE      quoted PCRs: a CVMKIT-MEASURED-BOOT line (serial log) or
                   "N: hex" lines; default: the line in --eventlog, if any
  --all            also list PCRs that are neither predicted nor in the log
  exit status 1 when any compared value differs
  --secureboot-vars SOURCE  the platform's Secure Boot variables for PCR 7: an edk2/OVMF
                    varstore (the VARS .fd the VM boots with) or an Azure key template JSON
                    (Hyper-V model, inferred) or a folder of PK.esl KEK.esl db.esl dbx.esl;
                    PCR 7 then joins the reference values
  --secure-boot on|off  Secure Boot state (default: from a varstore; required for a template)
  --secureboot-db-append CERT  a certificate the platform appends to db (Azure additionalSignatures)
EOF
"$bin" explain --help | tail -n +6 >"$work/got"
check "explain --help option list" cmp -s "$work/explain" "$work/got"
# An enum listed value by value (--format=...), one space when the option fills the column.
cat >"$work/rv" <<'EOF'
  --format=rvps       (default) the RVPS message {"version":"0.1.0","type":"sample","payload":base64}
  --format=map        the bare map
  --format=local-json the trustee-operator's LocalJson reference_value file
  --format=configmap  a ConfigMap (rvps-reference-values) carrying that file
  --capture FILE      also the PCRs of a golden boot, verified as capture verifies them
  --nonce HEX         the nonce the --capture evidence must be bound to
  --vcek FILE         as for capture
  --amd-root FILE     as for capture
  --intel-root FILE   as for capture
  --with-profile-pcrs also PCR 7 as the QEMU/OVMF profile predicts it (not for Azure)
EOF
"$bin" reference-values --help | sed -n 10,19p >"$work/got"
check "reference-values --help enum lines" cmp -s "$work/rv" "$work/got"
cat >"$work/initdata" <<'EOF'
  --user-data OUT        the file for `az vm create --user-data OUT` (the CLI base64-encodes
                         it): FILE itself (native) or cloud-api-adaptor's cloud-config (peer-pod)
  --user-data-base64 OUT the same, base64-encoded: ARM's properties.userData, what IMDS serves
  Send init-data to Trustee only with algorithm = "sha256" (its PCR 8 check takes 32 bytes).
EOF
"$bin" initdata --help | tail -n 4 >"$work/got"
check "initdata --help option list and text after it" cmp -s "$work/initdata" "$work/got"
# Verbs whose options are not listed print their prose only.
"$bin" capture --help >"${TMPDIR:-/tmp}/capture-help.$$"
check "capture --help: its prose, then the authentication options from the table" \
	bash -c 'grep -q "^  --nonce HEX  *the deployment" "$0" && grep -q "^  --unauthenticated  *verify nothing" "$0" &&
		grep -q "Exit: 0 ok, 1 evidence" "$0"' "${TMPDIR:-/tmp}/capture-help.$$"
rm -f "${TMPDIR:-/tmp}/capture-help.$$"
check "sign --help is its prose (9 lines)" [ "$("$bin" sign --help | wc -l)" -eq 9 ]

echo "== refusals, one per kind"
s="(see cvm-measure --help)"
refused "cvm-measure: fatal: unable to parse --secure-boot maybe: expected on or off $s" predict x --secure-boot maybe
refused "cvm-measure: fatal: unable to parse --format=xml: expected rvps, map, local-json or configmap $s" reference-values x --format=xml
refused "cvm-measure: fatal: unable to parse --format=xml: expected rvps, map, local-json or configmap $s" capture x --format xml
refused "cvm-measure: fatal: unable to parse --form x: expected native or peer-pod $s" initdata x --form x
refused "cvm-measure: fatal: unable to parse --stub-version 0: expected a number like 257 $s" predict x --stub-version 0
refused "cvm-measure: fatal: unable to parse --stub-version 100001: expected a number like 257 $s" corim x --stub-version 100001
refused "cvm-measure: fatal: unable to parse --failed-boot-options 9: expected 0-8 $s" predict x --failed-boot-options 9
refused "cvm-measure: fatal: unable to parse --failed-boot-options 2x: expected 0-8 $s" publish x --failed-boot-options 2x
refused "cvm-measure: fatal: unable to parse --bank md5: unknown bank $s" replay x --bank md5
refused "cvm-measure: fatal: unable to parse --bank sha256,sha256: unknown or repeated bank $s" explain x --bank sha256,sha256
refused "cvm-measure: fatal: unable to parse --pcrs 7-3: expected indices 0-23 like 4,9,11 $s" predict x --pcrs 7-3
refused "cvm-measure: fatal: unable to take more than 8 --secureboot-db-append certificates $s" predict x \
	$(for i in 1 2 3 4 5 6 7 8 9; do printf -- '--secureboot-db-append c '; done)
refused "cvm-measure: fatal: unable to take more than 16 --capture files $s" reference-values x \
	$(for i in $(seq 17); do printf -- '--capture c '; done)
refused "cvm-measure: fatal: unable to take more than 8 --initdata documents $s" publish x \
	$(for i in $(seq 9); do printf -- '--initdata none '; done)
refused "predict: unrecognized option '--nope'" predict x --nope
refused "predict: option '--json' doesn't allow an argument" predict x --json=yes
refused "corim: option requires an argument -- 'o'" corim x -o
refused "replay: option '--bank' requires an argument" replay x --bank
refused "predict: option '--secure' is ambiguous; possibilities: '--secureboot-vars' '--secure-boot' '--secureboot-db-append'" predict x --secure on
# The first bad option wins; --help before it wins.
refused "cvm-measure: fatal: unable to parse --bank md5: unknown or repeated bank $s" predict --bank md5 --help
"$bin" predict --help --bank md5 >/dev/null 2>&1; check "--help before a bad option exits 0" [ $? -eq 0 ]

echo "test-measure-options: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
