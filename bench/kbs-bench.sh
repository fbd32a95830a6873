#!/usr/bin/env bash
# Issue C2 benchmark: the KBS round trip on loopback, split by step.  A host-side run of the same
# client code the init links (attest/kbs.c, jose.c over net/'s HTTPS client) through
# `cvm-attest kbs-get --timing`, against the test KBS (tests/kbs/kbs.py), with evidence from the
# simulated Azure vTPM (swtpm over TCP, tests/tools/azure-vtpm-sim.sh).  Each run is a fresh
# process: new TEE key, new TLS connection per request, auth + attest + one resource.
# Prints a table of medians (and min / max); not a pass/fail test.
#
#   bench/kbs-bench.sh [RUNS]      (default 50)
#
# Steps: key = ephemeral P-256 key generation; auth = POST /auth; evidence = vTPM collection
# (NV write, HCL report read, quote, PCR reads; no 3 s settle: the simulator's report is
# static); attest = POST /attest (server-side verification included); resource = GET + JWE
# decryption.  The issue's target (<= 50 ms) is for auth + attest + resource.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-50}
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/cvmkit-kbs-bench.XXXXXX")
kbs_pid=
cleanup() {
	[ -n "$kbs_pid" ] && kill "$kbs_pid" 2>/dev/null
	[ -s "$work/swtpm.pid" ] && kill "$(cat "$work/swtpm.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

make -s -C "$top" build/bin/cvm-attest >/dev/null || { echo "kbs-bench: fatal: unable to build cvm-attest" >&2; exit 1; }
"$top/tests/tools/azure-vtpm-sim.sh" provision --state "$work/state" --out "$work/sim" >/dev/null 2>&1 ||
	{ echo "kbs-bench: fatal: unable to provision the simulated vTPM" >&2; exit 1; }
tport=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$top/tests/tools/azure-vtpm-sim.sh" serve --state "$work/state" --port "$tport" --pidfile "$work/swtpm.pid" || exit 1
mkdir -p "$work/res/default/key"
head -c 64 /dev/urandom >"$work/res/default/key/1"
$py -c 'import base64, json
p = {"snp_pcr11": ["00" * 32]}
print(json.dumps({"version": "0.1.0", "type": "sample", "payload": base64.b64encode(json.dumps(p).encode()).decode()}))' >"$work/rv.json"
$py "$top/tests/kbs/kbs.py" --state "$work/kbs" --amd-root "$work/sim/amd-root.pem" --reference-values "$work/rv.json" \
	--resources "$work/res" 2>/dev/null &
kbs_pid=$!
for _ in $(seq 100); do [ -s "$work/kbs/port" ] && break; sleep 0.1; done
[ -s "$work/kbs/port" ] || { echo "kbs-bench: fatal: unable to start the test KBS" >&2; exit 1; }

for i in $(seq "$runs"); do
	"$top/build/bin/cvm-attest" kbs-get --url "https://127.0.0.1:$(cat "$work/kbs/port")" --ca "$work/kbs/ca.pem" \
		--tpm "tcp:127.0.0.1:$tport" --vcek "$work/sim/vcek.der" --settle-ms 0 --evidence-version 1 --timing \
		default/key/1 2>>"$work/timing" >/dev/null || { echo "kbs-bench: fatal: run $i failed" >&2; grep -v timing-ms "$work/timing" >&2; exit 1; }
done

stat() { # field name -> "median min max"
	grep '^timing-ms' "$work/timing" | awk -v f="$1" '{ for (i = 2; i < NF; i += 2) if ($i == f) print $(i + 1) }' |
		sort -g | awk '{ a[NR] = $1 } END { printf "%8.2f %8.2f %8.2f", a[int((NR + 1) / 2)], a[1], a[NR] }'
}
grep '^timing-ms' "$work/timing" | awk '{ for (i = 2; i < NF; i += 2) if ($i == "auth" || $i == "attest" || $i == "resource") s += $(i + 1); print s; s = 0 }' |
	sort -g | awk '{ a[NR] = $1 } END { printf "%8.2f %8.2f %8.2f\n", a[int((NR + 1) / 2)], a[1], a[NR] }' >"$work/kbs3"

printf 'KBS round trip on loopback, %d runs (ms)\n\n' "$runs"
printf '| %-34s | %8s | %8s | %8s |\n' step median min max
printf '|%s|%s|%s|%s|\n' "------------------------------------" "----------" "----------" "----------"
for f in key auth evidence attest resource total; do
	read -r med lo hi <<<"$(stat "$f")"
	case $f in
	key) label="TEE key (P-256) generation" ;;
	auth) label="POST /kbs/v0/auth" ;;
	evidence) label="evidence (simulated vTPM)" ;;
	attest) label="POST /kbs/v0/attest" ;;
	resource) label="GET resource + JWE decryption" ;;
	total) label="total" ;;
	esac
	printf '| %-34s | %8s | %8s | %8s |\n' "$label" "$med" "$lo" "$hi"
done
read -r med lo hi <"$work/kbs3"
printf '| %-34s | %8s | %8s | %8s |\n' "auth + attest + resource (target 50)" "$med" "$lo" "$hi"
