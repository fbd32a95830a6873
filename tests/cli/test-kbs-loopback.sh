#!/usr/bin/env bash
# Host-side KBS round trip on loopback: `cvm-attest kbs-get` (attest/kbs.c, jose.c, sealed.c over
# net/'s HTTPS client) against the test KBS tests/kbs/kbs.py, with evidence collected from the
# simulated Azure vTPM (tests/tools/azure-vtpm-sim.sh, swtpm) by attest/azure.c.
#
# Evidence version: the simulator's HCL report is static, so its `user-data` never holds the
# runtime-data hash a fresh KBS nonce produces (test-rig.md).  The happy paths therefore send
# evidence v1, whose freshness rests on the quote's qualifying data (checked by the KBS); one
# case sends v2 and asserts that the KBS refuses exactly on the user-data check.
#
# Needs build/bin/cvm-attest, swtpm, swtpm_setup, tpm2-tools, /usr/bin/python3 with
# python3-cryptography and python3-jwcrypto.  Prints "N passed, M failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-attest
sim=$top/tests/tools/azure-vtpm-sim.sh
kbs_py=$top/tests/kbs/kbs.py
py=/usr/bin/python3
passed=0 failed=0

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

[ -x "$bin" ] || { echo "test-kbs-loopback: fatal: unable to run: $bin not built" >&2; exit 1; }
for tool in swtpm swtpm_setup tpm2_pcrextend $py; do
	command -v "$tool" >/dev/null || { echo "test-kbs-loopback: fatal: unable to run: $tool not installed" >&2; exit 1; }
done
$py -c 'import cryptography, jwcrypto' || { echo "test-kbs-loopback: fatal: unable to run: python3-jwcrypto missing" >&2; exit 1; }

tmp=$(mktemp -d)
kbs_pid=
cleanup() {
	[ -n "$kbs_pid" ] && kill "$kbs_pid" 2>/dev/null
	[ -s "$tmp/swtpm.pid" ] && kill "$(cat "$tmp/swtpm.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

"$sim" provision --state "$tmp/state" --out "$tmp/sim" >"$tmp/provision.log" 2>&1 ||
	{ cat "$tmp/provision.log" >&2; echo "test-kbs-loopback: fatal: unable to provision the simulated vTPM" >&2; exit 1; }
tport=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sim" serve --state "$tmp/state" --port "$tport" --pidfile "$tmp/swtpm.pid" || exit 1
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$tport"

# Resources, and a sealed secret signed with a key the KBS serves (independently made here).
SECRET='loopback-secret-7c1f0e'
mkdir -p "$tmp/res/default/key" "$tmp/res/default/signing-key" "$tmp/res/default/sealed-secret"
printf '%s' "$SECRET" >"$tmp/res/default/key/1"
printf '%s-sealed' "$SECRET" >"$tmp/res/default/sealed-secret/s1"
$py - "$tmp" <<'EOF' || exit 1
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
d = sys.argv[1]
k = jwk.JWK.generate(kty="EC", crv="P-256")
open(d + "/res/default/signing-key/k1", "w").write(k.export_public())
payload = json.dumps({"version": "0.1.0", "type": "vault", "name": "kbs:///default/sealed-secret/s1",
                      "provider": "kbs", "provider_settings": {}, "annotations": {}}).encode()
s = jws.JWS(payload)
s.add_signature(k, None, json_encode({"alg": "ES256", "kid": "kbs:///default/signing-key/k1"}))
open(d + "/secret.sealed", "w").write("sealed." + s.serialize(compact=True) + "\n")
EOF

# Reference values in the RVPS message format: a fresh vTPM's PCR 11 is 32 zero bytes.
rv() { # file, pcr11-hex
	$py -c 'import base64, json, sys
p = {"snp_pcr11": [sys.argv[2]], "snp_pcr12": ["00" * 32], "tdx_pcr11": ["ff" * 32]}
print(json.dumps({"version": "0.1.0", "type": "sample", "payload": base64.b64encode(json.dumps(p).encode()).decode()}))' "$1" "$2" >"$1"
}
rv "$tmp/rv-good.json" "$(printf '0%.0s' $(seq 64))"
rv "$tmp/rv-other.json" "$(printf 'ab%.0s' $(seq 32))"

start_kbs() { # rv-file, kbs.py options...
	local rvf=$1; shift
	rm -rf "$tmp/kbs"
	$py "$kbs_py" --state "$tmp/kbs" --amd-root "$tmp/sim/amd-root.pem" --reference-values "$rvf" \
		--resources "$tmp/res" "$@" 2>>"$tmp/kbs.log" &
	kbs_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/kbs/port" ] && break; sleep 0.1; done
	url=https://127.0.0.1:$(cat "$tmp/kbs/port")
}
stop_kbs() { kill "$kbs_pid" 2>/dev/null; wait "$kbs_pid" 2>/dev/null; kbs_pid=; }

n=0
get() { # options... ; sets rc, out, err, secs
	n=$((n + 1))
	local t0=$SECONDS
	"$bin" kbs-get --url "$url" --ca "$tmp/kbs/ca.pem" --tpm "tcp:127.0.0.1:$tport" --vcek "$tmp/sim/vcek.der" \
		--settle-ms 0 --evidence-version 1 "$@" >"$tmp/out.$n" 2>"$tmp/err.$n"
	rc=$?
	secs=$((SECONDS - t0))
	out=$(cat "$tmp/out.$n")
	err=$(cat "$tmp/err.$n")
}
want_digest() { sha256sum | cut -c1-64; }
D1=$(printf '%s' "$SECRET" | want_digest)
DS=$(printf '%s-sealed' "$SECRET" | want_digest)

# ---------------------------------------------------------------- happy paths
start_kbs "$tmp/rv-good.json"
mkdir "$tmp/outdir"
get --out-dir "$tmp/outdir" default/key/1
check "resource fetched (rc $rc: $err)" test "$rc" -eq 0
check "digest of the secret printed" test "$out" = "default/key/1 sha256:$D1 ${#SECRET}"
check "secret written to the out dir" test "$(cat "$tmp/outdir/1" 2>/dev/null)" = "$SECRET"
check "secret file mode 0400" test "$(stat -c %a "$tmp/outdir/1" 2>/dev/null)" = 400
get --sealed "$tmp/secret.sealed"
check "sealed secret unsealed (rc $rc: $err)" test "$rc" -eq 0
check "sealed digest" test "$out" = "sealed:$tmp/secret.sealed sha256:$DS $((${#SECRET} + 7))"
get --key rsa default/key/1
check "RSA-OAEP-256 tee key (rc $rc: $err)" test "$rc" -eq 0 -a "$out" = "default/key/1 sha256:$D1 ${#SECRET}"
get --legacy-tee-names default/key/1
check "pre-0.16 TEE name (rc $rc: $err)" test "$rc" -eq 0
get default/key/missing
check "missing resource refused verbatim" test "$rc" -eq 1 -a -n "$(echo "$err" | grep -F 'HTTP 401 https://github.com/confidential-containers/kbs/errors/PluginInternalError')"
get --evidence-version 2 default/key/1
check "v2 evidence refused on the static simulator's user-data" \
	test "$rc" -eq 1 -a -n "$(echo "$err" | grep -F 'AttestationError' | grep -F 'user-data')"
stop_kbs
start_kbs "$tmp/rv-good.json" --jwe-library jwcrypto
get default/key/1
check "jwcrypto's JWE layout (epk in the recipient header) (rc $rc: $err)" test "$rc" -eq 0 -a "$out" = "default/key/1 sha256:$D1 ${#SECRET}"
stop_kbs

# ---------------------------------------------------------------- reference values do not affirm
start_kbs "$tmp/rv-other.json"
get default/key/1
check "other image's PCR 11: PolicyDeny" test "$rc" -eq 1 -a -n "$(echo "$err" | grep -F 'errors/PolicyDeny' | grep -F 'snp_pcr11')"
stop_kbs

# ---------------------------------------------------------------- faults: bounded time, clear message
fault() { # name, expected rc, expected stderr text, max seconds, kbs-get options...
	local name=$1 want_rc=$2 text=$3 max=$4; shift 4
	start_kbs "$tmp/rv-good.json" --fault "$name" --slow-seconds 20
	get "$@" default/key/1
	check "fault $name: rc $rc (want $want_rc), ${secs}s <= ${max}s, '$text' in: $err" \
		test "$rc" -eq "$want_rc" -a "$secs" -le "$max" -a -n "$(echo "$err" | grep -F -- "$text")"
	stop_kbs
}
fault down 3 "connection refused" 10 --attempts 2
fault slow 3 "timed out" 10 --timeout-ms 2000 --attempts 1
fault reset 3 "step auth" 10 --attempts 1
fault bad-json 1 "malformed challenge" 10
fault oversized 3 "too large" 10
fault wrong-nonce 1 "errors/AttestationError" 10
fault wrong-jwe-key 1 "step decrypt" 10

# ---------------------------------------------------------------- the vTPM's PCR 11 changes (last: irreversible)
start_kbs "$tmp/rv-good.json"
tpm2_pcrextend "11:sha256=$(printf tamper | sha256sum | cut -c1-64)" >/dev/null
get default/key/1
check "PCR 11 extended after publication: PolicyDeny" test "$rc" -eq 1 -a -n "$(echo "$err" | grep -F 'errors/PolicyDeny')"
stop_kbs

# ---------------------------------------------------------------- no secret byte on any console
check "no secret on stdout/stderr" test -z "$(cat "$tmp"/out.* "$tmp"/err.* | grep -F "$SECRET")"

echo "test-kbs-loopback: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
