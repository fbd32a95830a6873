#!/usr/bin/env bash
# End to end on a simulated Azure TDX CVM: boot -> network -> attest (az-tdx-vtpm) -> secrets ->
# workload, failing closed.  Modelled on test-boot-kbs.sh (the SEV-SNP rig).
#
# The rig (all test code, started and stopped here):
#   - the simulated Azure TDX vTPM (tests/tools/azure-vtpm-sim.sh provision --tee tdx): an HCL
#     report of type 4 carrying a synthetic TDREPORT whose REPORTDATA binds the runtime claims
#     (SHA-256, as Azure's paravisor does), and the AK at 0x81000003;
#   - a test IMDS (tests/boot/imds.py --tdx) that answers POST /acc/tdquote with a TD quote v4
#     made from the TDREPORT the guest sends and signed by a test PCK chain (test root ->
#     platform CA -> PCK leaf -> QE report -> attestation key; tests/tools/azure_tdx_qe.py);
#   - the test KBS (tests/kbs/kbs.py) trusting that test root in place of Intel's (--intel-root)
#     and holding the `tdx_pcrNN` reference values `cvm-measure publish` wrote for the image.
# The image is configured with `[kbs] tee = auto` (the default): it must find the TEE in the
# HCL report.  The same golden image is also booted on the SEV-SNP rig in this run (the KBS
# trusts both test roots) for the boot-to-secret comparison.
# Evidence v1: the simulator's HCL report is static, so its user-data cannot hold the runtime
# data a fresh nonce produces (test-rig.md); freshness rests on the vTPM quote's qualifying data.
#
# Cases: golden image receives its secret (file and environment) on TDX and on SNP; an image
# with a changed kernel command line, built after publication, is refused (PolicyDeny); the IMDS
# quote endpoint closed, hanging, answering 500 or answering garbage ends the boot in bounded time with one line
# and no workload; a quote signed by an untrusted PCK chain is refused by the KBS.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

kbs_test_begin tdx swtpm swtpm_setup tpm2_nvdefine musl-gcc qemu-system-x86_64 jq
$py -c 'import cryptography, jwcrypto' 2>/dev/null || bail "python3-cryptography and python3-jwcrypto installed"

echo "== tdx: tools, the test workload and the rigs"
make -s -j2 guest build/bin/cvm-image build/bin/cvm-measure >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; bail "build"; }
musl_cppflags=$(sed -n 's/^DEPS_MUSL_CPPFLAGS *:= *//p' build/deps.mk)
musl_ldflags=$(sed -n 's/^DEPS_MUSL_LDFLAGS *:= *//p' build/deps.mk)
# shellcheck disable=SC2086
musl-gcc -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude $musl_cppflags -static -Wl,--gc-sections -s \
	-o "$work/secret-digest" tests/boot/secret-digest.c build/musl/common/*.o $musl_ldflags -lmbedcrypto \
	2>"$work/cc.log" || { cat "$work/cc.log" >&2; bail "build secret-digest"; }

sim=tests/tools/azure-vtpm-sim.sh
$sim provision --tee tdx --state "$work/tdx-state" --out "$work/tdx" >"$work/provision-tdx.log" 2>&1 ||
	{ cat "$work/provision-tdx.log" >&2; bail "provision the simulated TDX vTPM"; }
$sim provision --state "$work/snp-state" --out "$work/snp" >"$work/provision-snp.log" 2>&1 ||
	{ cat "$work/provision-snp.log" >&2; bail "provision the simulated SNP vTPM"; }
ok "simulated Azure vTPMs provisioned (TDX: HCL report with a TDREPORT and a test PCK chain; SNP)"

# The simulator's HCL report, checked with an independent reading of the layout
# (azure-vtpm-evidence.md §3-4), not with the code under test.
check "TDX HCL report: type 4, SHA-256 binding, TDREPORT type 0x81, REPORTDATA = SHA-256(runtime claims), fits 2048 bytes" \
	$py - "$work/tdx" <<'EOF'
import hashlib, struct, sys
d = sys.argv[1]
h = open(d + "/hcl-report.bin", "rb").read()
var = open(d + "/runtime-claims.json", "rb").read()
rtype, htype, vsize = struct.unpack("<III", h[1224:1236])
assert len(h) == 2048 and h[:4] == b"HCLA" and rtype == 4 and htype == 1 and h[1236:1236 + vsize] == var
assert h[32] == 0x81 and h[32 + 128:32 + 160] == hashlib.sha256(var).digest() and not any(h[160 + 32:160 + 64])
EOF

# A secret random per run, so a leak cannot hide behind a constant.
S1="tdx-boot-one-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
res=$work/resources
mkdir -p "$res/default/key"
printf '%s' "$S1" >"$res/default/key/one"
D1=$(printf '%s' "$S1" | sha256sum | cut -c1-64)

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kbs_state=$work/kbs-state
start_kbs() { # RV-FILE [kbs.py options...]
	local rv=$1; shift
	rm -f "$kbs_state/port"
	$py tests/kbs/kbs.py --state "$kbs_state" --port "$port" --amd-root "$work/snp/amd-root.pem" \
		--intel-root "$work/tdx/intel-root.pem" --reference-values "$rv" --resources "$res" "$@" 2>>"$work/kbs.log" &
	kbs_pid=$!
	for _ in $(seq 100); do [ -s "$kbs_state/port" ] && return 0; sleep 0.1; done
	return 1
}
stop_kbs() { [ -n "$kbs_pid" ] && { kill "$kbs_pid" 2>/dev/null; wait "$kbs_pid" 2>/dev/null; }; kbs_pid=; }

# The KBS's CA exists before any image: images embed it.
$py -c 'import base64, json; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(json.dumps({"tdx_pcr11":["00"*32]}).encode()).decode()}))' >"$work/rv-placeholder.json"
start_kbs "$work/rv-placeholder.json" || bail "start the test KBS"
stop_kbs

common=(--network-mode dhcp --network-timeout 20
	--kbs-url "https://169.254.0.2:$port" --kbs-ca "$kbs_state/ca.pem" --kbs-evidence-version 1 --kbs-timeout 10
	--kbs-secret "ONE kbs:///default/key/one file,env" --workload-arg file:ONE --workload-arg env:ONE)

echo "== tdx: the golden image (tee = auto) and its published reference values"
build_image tdx-good "${common[@]}" --workload "$work/secret-digest" || bail "build the golden image"
rv=$BOOT_WORK/tdx-good/reference-values.json
check "tdx_pcrNN reference values published (cvm-measure publish)" \
	bash -c "jq -r .payload '$rv' | base64 -d | jq -e '.tdx_pcr04 and .tdx_pcr09 and .tdx_pcr11' >/dev/null"
# The KBS sees only the tdx_ names on the TDX rig: prove the appraisal uses them by giving it a
# copy whose snp_ values are wrong.
jq -r .payload "$rv" | base64 -d | jq -c 'with_entries(if (.key | startswith("snp_pcr")) then .value = ["00"] else . end)' |
	$py -c 'import base64, json, sys; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(sys.stdin.buffer.read().strip()).decode()}))' \
	>"$work/rv-tdx-only.json"

base_cmdline=$(build/bin/cvm-image config --get kernel.cmdline)
build_image tdx-cmdline "${common[@]}" --workload "$work/secret-digest" --kernel-cmdline "$base_cmdline cvmkit.tamper=tdx" ||
	bail "build the tampered image"
check "tamper image differs from the golden UKI" bash -c "! cmp -s '$BOOT_WORK/tdx-good/uki.efi' '$BOOT_WORK/tdx-cmdline/uki.efi'"

boot() { # NAME IMAGE STATE IMDS-ARGS...
	local name=$1 image=$2 state=$3; shift 3
	local net=(-netdev "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:$py $BOOT_TOP/tests/boot/imds.py $* $work/$name.imds.log"
		-device virtio-net-pci,netdev=n0,romfile=)
	BOOT_TPM_STATE=$state boot_disk "$BOOT_WORK/$image/disk.raw" "$work/$name" -nodefaults "${net[@]}"
}
tdx_imds=(--tdx "$work/tdx/tdx-pck")
# kernel timestamp of the first line matching REGEX: LOG REGEX
stamp() { grep -aE "$2" "$1" | head -n1 | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p'; }
span() { # LOG START-REGEX END-REGEX
	local s f
	s=$(stamp "$1" "$2") f=$(stamp "$1" "$3")
	[ -n "$s" ] && [ -n "$f" ] && awk -v s="$s" -v f="$f" 'BEGIN { printf "%.1f\n", f - s }'
}
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }
no_workload() { ! grep -aq 'init: phase workload' "$1" && ! grep -aq '^secret ' "$1"; }
fatal_line() { grep -a 'init: fatal: unable to' "$1" | head -n1 | sed 's/^\[[^]]*\] //'; }

golden() { # NAME STATE TEE IMDS-ARGS...
	local name=$1 state=$2 tee=$3; shift 3
	boot "$name" tdx-good "$state" "$@"
	local rc=$? log=$work/$name.serial
	check "$name: QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "$name: attest phase picked $tee from the HCL report" grep -aq "init: attest: $tee vTPM" "$log"
	check "$name: workload got ONE as a file (mode 0400), digest = resource" grep -aq "^secret file:ONE sha256 $D1 mode 0400" "$log"
	check "$name: workload got ONE in its environment, digest = resource" grep -aq "^secret env:ONE sha256 $D1" "$log"
	check "$name: workload exit status 0" grep -aq 'init: workload exited with status 0' "$log"
	# Boot-to-secret as the init sees it (its first line to the secret in place), and the attest +
	# secrets phases alone (network up to secret): kernel timestamps, so firmware time is out.
	local to_secret attest total
	to_secret=$(span "$log" 'init: phase start' 'init: secrets: ONE')
	attest=$(span "$log" 'init: phase attest' 'init: secrets: ONE')
	total=$(cat "$work/$name.seconds")
	echo "  $name: init start -> secret ${to_secret:-?} s, attest + secrets phases ${attest:-?} s, QEMU run ${total} s"
	echo "${tee} ${to_secret:-?} ${attest:-?} $total" >>"$work/timing"
}

# TDX_TIMING_RUNS=N boots the golden pair N times (alternating) for the medians below.
for run in $(seq "${TDX_TIMING_RUNS:-1}"); do
	echo "== boot: golden image on the TDX rig, KBS holds the published reference values (run $run)"
	start_kbs "$work/rv-tdx-only.json" || bail "start the KBS"
	golden tdx-golden-$run "$work/tdx-state" az-tdx-vtpm "${tdx_imds[@]}"
	check "tdx-golden-$run: IMDS asked for a TD quote (POST /acc/tdquote, Metadata and JSON content type)" \
		grep -q '^POST /acc/tdquote HTTP/1.1 -> 200' "$work/tdx-golden-$run.imds.log"
	check "tdx-golden-$run: no THIM request on TDX" bash -c "! grep -q THIM '$work/tdx-golden-$run.imds.log'"
	stop_kbs

	echo "== boot: the same golden image on the SNP rig (comparison, same KBS code; run $run)"
	start_kbs "$rv" || bail "start the KBS"
	golden snp-golden-$run "$work/snp-state" az-snp-vtpm "$work/snp/thim-certification.json"
	stop_kbs
done

echo "== boot: refused and faulted on the TDX rig"
refused() { # NAME IMAGE TEXT IMDS-ARGS...
	local name=$1 image=$2 text=$3; shift 3
	boot "$name" "$image" "$work/tdx-state" "$@"
	local rc=$? log=$work/$name.serial
	echo "  $name: $(fatal_line "$log")"
	check "$name: powered off (exit $rc)" [ "$rc" -eq 0 ]
	check "$name: KBS refused: $text" bash -c "grep -aF 'init: fatal: unable to fetch secret ONE from the KBS' '$log' | grep -qF -- '$text'"
	check "$name: workload never ran" no_workload "$log"
}
start_kbs "$rv" || bail "start the KBS"
refused tdx-cmdline tdx-cmdline "errors/PolicyDeny" "${tdx_imds[@]}"
check "tdx-cmdline: the denial names tdx_pcr11 (the UKI's PCR)" grep -aq 'tdx_pcr11' "$work/tdx-cmdline.serial"
refused tdx-untrusted-pck tdx-good "td_quote PCK chain: PCK chain root is not the trusted root" --tdx "$work/tdx/tdx-untrusted"

fault() { # FAULT EXPECTED-TEXT MAX-SECONDS
	local f=$1 text=$2 max=$3 name=tdx-imds-$1
	boot "$name" tdx-good "$work/tdx-state" "${tdx_imds[@]}" --fault "$f"
	local rc=$? log=$work/$name.serial secs
	secs=$(span "$log" 'init: phase secrets' 'init: fatal: unable to')
	echo "  imds $f (${secs:-?} s): $(fatal_line "$log")"
	check "imds $f: powered off (exit $rc)" [ "$rc" -eq 0 ]
	check "imds $f: exactly one fatal line, naming IMDS and '$text'" \
		bash -c "[ \$(grep -ac 'init: fatal:' '$log') -eq 1 ] && grep -aF 'init: fatal: unable to' '$log' | grep -F 'IMDS' | grep -qF -- '$text'"
	check "imds $f: bounded (${secs:-?} s <= $max s)" within "${secs:-}" 0 "$max"
	check "imds $f: workload never ran" no_workload "$log"
	check "imds $f: power off after the failure" grep -aq 'init: powering off' "$log"
}
fault down "/acc/tdquote" 15
fault hang "/acc/tdquote" 15
fault 500 "HTTP 500" 15
fault garbage "TD quote answer" 15
stop_kbs

echo "== tdx: boot-to-secret, TDX rig vs SNP rig (this run, TCG; medians of ${TDX_TIMING_RUNS:-1})"
for tee in az-tdx-vtpm az-snp-vtpm; do
	med() { awk -v t="$tee" -v c="$1" '$1 == t { print $c }' "$work/timing" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	echo "  $tee: init start -> secret $(med 2) s, attest + secrets $(med 3) s, QEMU run $(med 4) s"
done

echo "== tdx: no secret byte on any console"
leaks=0 logs=0
for f in "$work"/*.serial; do
	logs=$((logs + 1))
	for form in "$S1" "$(printf '%s' "$S1" | base64 -w0)" "$(printf '%s' "$S1" | od -An -tx1 | tr -d ' \n')"; do
		grep -aqiF -- "$form" "$f" && { leaks=$((leaks + 1)); echo "  LEAK in $f"; }
	done
done
check "$logs serial logs scanned: no secret (raw, base64, hex)" [ "$leaks" -eq 0 -a "$logs" -ge 7 ]
boot_summary
