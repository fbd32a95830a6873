#!/usr/bin/env bash
# Authenticated golden capture end to end: a nonce per deployment in initdata (data key
# cvmkit.report_nonce) -> the init's measured-boot line plus the vTPM evidence (the KBS's
# az-snp-vtpm / az-tdx-vtpm evidence, report data = SHA-384("cvmkit-capture-v1" || nonce)) on the
# console -> `cvm-measure capture --nonce` verifies it before it emits one platform value.
#
# One boot per TEE on the simulated Azure vTPM (tests/tools/azure-vtpm-sim.sh, tests/boot/imds.py
# for THIM / the TD quote and userData); everything else is offline on the saved serial logs:
# each single-field forgery of the console text is refused with the failed check named on stderr.
# The simulator's HCL report is static, so it is provisioned with the report data this run's
# nonce gives (evidence v2's user-data check then holds, as on Azure after the NV write).
#
# Expected values come from Python over the simulator's own files and the initdata document
# (hashlib), never from cvm-measure.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

kbs_test_begin capture swtpm swtpm_setup tpm2_nvdefine musl-gcc qemu-system-x86_64 jq
$py -c 'import cryptography' 2>/dev/null || bail "python3-cryptography installed"
cap=build/bin/cvm-measure

echo "== capture: tools and the rigs"
make -s -j2 guest build/bin/cvm-image build/bin/cvm-measure >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; bail "build"; }
init_size=$(stat -c %s build/guest/init)
echo "  init: $init_size bytes"
check "init <= 524288 bytes ($init_size)" [ "$init_size" -le 524288 ]
check "cvm-measure links no TLS (no mbedtls_ssl_ symbol)" bash -c "! nm $cap | grep -q mbedtls_ssl_"

nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
rd=$($py -c 'import hashlib, sys; print(hashlib.sha384(b"cvmkit-capture-v1" + bytes.fromhex(sys.argv[1])).hexdigest())' "$nonce")
sim=tests/tools/azure-vtpm-sim.sh
$sim provision --state "$work/snp-state" --out "$work/snp" --user-data "$rd" >"$work/provision-snp.log" 2>&1 ||
	{ cat "$work/provision-snp.log" >&2; bail "provision the simulated SNP vTPM"; }
$sim provision --tee tdx --state "$work/tdx-state" --out "$work/tdx" --user-data "$rd" >"$work/provision-tdx.log" 2>&1 ||
	{ cat "$work/provision-tdx.log" >&2; bail "provision the simulated TDX vTPM"; }
ok "simulated SNP and TDX vTPMs provisioned with this run's report data"

# The deployment's initdata: only the nonce (what scripts/cvm-deploy writes).
printf 'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n"cvmkit.report_nonce" = "%s"\n' "$nonce" >"$work/initdata.toml"
$cap initdata "$work/initdata.toml" --user-data-base64 "$work/userdata" >/dev/null || bail "cvm-measure initdata"
pcr8=$($py -c 'import hashlib, sys; print(hashlib.sha256(bytes(32) + hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).hexdigest())' "$work/initdata.toml")

build_image capture --network-mode dhcp --network-timeout 20 --init-report-evidence require --kbs-timeout 10 \
	--workload build/guest/hello || bail "build the image"
ok "image built ([init] report_evidence = require, no KBS)"
pred=$BOOT_WORK/capture/reference-values.json

boot() { # NAME STATE IMDS-ARGS...
	local name=$1 state=$2; shift 2
	local net=(-netdev "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:$py $BOOT_TOP/tests/boot/imds.py $* $work/$name.imds.log"
		-device virtio-net-pci,netdev=n0,romfile=)
	IMDS_USER_DATA=$work/userdata BOOT_TPM_STATE=$state boot_disk "$BOOT_WORK/capture/disk.raw" "$work/$name" -nodefaults "${net[@]}"
}

# payload of an RVPS message on stdin (exported: checks run it under bash -c)
payload() { jq -r .payload | base64 -d; }
export -f payload

# forge NAME TEE IN OUT: the saved log with one field changed, written as a forger would (the
# evidence lines re-encoded with a matching size and SHA-256, so only the signatures can tell).
forge() {
	$py - "$@" <<'EOF'
import base64, hashlib, json, re, sys
kind, tee, src, dst = sys.argv[1:5]
text = open(src, "rb").read().decode("latin-1")
lines = text.split("\n")
mi = max(i for i, l in enumerate(lines) if "CVMKIT-MEASURED-BOOT " in l)
head, js = lines[mi].split("CVMKIT-MEASURED-BOOT ", 1)
line = json.loads(js.rstrip("\r"))
chunks = {}
for l in lines[mi + 1:]:
    if "CVMKIT-EVIDENCE " in l:
        idx, data = l.split("CVMKIT-EVIDENCE ", 1)[1].rstrip("\r").split(" ", 1)
        chunks[int(idx.split("/")[0])] = data
ev = json.loads(base64.b64decode("".join(chunks[i] for i in sorted(chunks))))
def flip_hex(s, i):
    return s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]
def b64url_edit(s, f):
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    f(raw)
    return base64.urlsafe_b64encode(bytes(raw)).decode()
if kind == "pcr":
    line["pcrs"]["sha256"]["0"] = flip_hex(line["pcrs"]["sha256"]["0"], 5)
elif kind == "measurement":
    k = "measurement" if tee == "snp" else "mrtd"
    line["platform"][k] = flip_hex(line["platform"][k], 7)
elif kind == "line-nonce":
    line["evidence"]["nonce"] = flip_hex(line["evidence"]["nonce"], 3)
elif kind == "quote-byte":
    ev["tpm_quote"]["message"] = flip_hex(ev["tpm_quote"]["message"], 40)
elif kind == "quoted-pcr":   # a PCR changed in the quote's list and in the line alike
    v = flip_hex(ev["tpm_quote"]["pcrs"][1], 9)
    ev["tpm_quote"]["pcrs"][1] = v
    line["pcrs"]["sha256"]["1"] = v
elif kind == "hcl-byte":
    # SNP: one MEASUREMENT byte of the hardware report (HCL offset 32 + 0x90);
    # TDX: one byte of the runtime claims' vmUniqueId (still valid JSON).
    def f(raw):
        if tee == "snp":
            raw[32 + 0x90] ^= 1
        else:
            i = raw.index(b'"vmUniqueId"') + len(b'"vmUniqueId":"') + 1
            raw[i] = ord("A") if raw[i] != ord("A") else ord("B")
    ev["hcl_report"] = b64url_edit(ev["hcl_report"], f)
elif kind == "no-evidence":
    del line["evidence"]
    chunks = {}
elif kind == "drop-line":
    del chunks[2]
out = lines[:mi] + [head + "CVMKIT-MEASURED-BOOT " + json.dumps(line, separators=(",", ":"))]
if kind not in ("no-evidence",):
    if kind not in ("drop-line",):
        blob = json.dumps(ev, separators=(",", ":")).encode()
        b = base64.b64encode(blob).decode()
        n = (len(b) + 95) // 96
        line["evidence"].update(size=len(blob), lines=n, sha256=hashlib.sha256(blob).hexdigest())
        out[-1] = head + "CVMKIT-MEASURED-BOOT " + json.dumps(line, separators=(",", ":"))
        out += ["CVMKIT-EVIDENCE %d/%d %s" % (i + 1, n, b[i * 96:(i + 1) * 96]) for i in range(n)]
    else:
        n = line["evidence"]["lines"]
        out += ["CVMKIT-EVIDENCE %d/%d %s" % (i, n, chunks[i]) for i in sorted(chunks)]
out += [l for l in lines[mi + 1:] if "CVMKIT-EVIDENCE " not in l]
open(dst, "w", encoding="latin-1").write("\n".join(out))
EOF
}

# refused NAME CHECK LOG CAPTURE-ARGS...: exit 1 and stderr names CHECK, nothing on stdout
refused() {
	local name=$1 chk=$2 log=$3; shift 3
	$cap capture "$log" "$@" >"$work/$name.out" 2>"$work/$name.err"
	local rc=$?
	echo "  $name: $(head -c 300 "$work/$name.err")"
	check "$name: refused (exit $rc = 1), no output" bash -c "[ $rc -eq 1 ] && [ ! -s '$work/$name.out' ]"
	check "$name: stderr names check $chk" grep -q "check $chk failed" "$work/$name.err"
}

run_tee() { # TEE (snp|tdx) STATE-DIR SIM-DIR IMDS-ARGS...
	local tee=$1 state=$2 simd=$3; shift 3
	local log=$work/$tee.serial roots p
	echo "== boot: $tee"
	boot "$tee" "$state" "$@"
	local rc=$?
	echo "  (booted in $(cat "$work/$tee.seconds") s)"
	check "$tee: QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "$tee: the initdata carried the nonce, PCR 8 = SHA-256(0^32 || SHA-256(doc))" grep -aq "init: initdata: PCR 8 sha256 $pcr8" "$log"
	check "$tee: the report line carries evidence" grep -aq 'CVMKIT-MEASURED-BOOT .*"evidence":{"format":"az-'"$tee"'-vtpm","nonce":"'"$nonce"'"' "$log"
	check "$tee: the workload ran after the report" grep -aq 'init: workload exited with status 0' "$log"
	local maxlen
	maxlen=$(grep -a 'CVMKIT-EVIDENCE ' "$log" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	echo "  $tee: evidence $(grep -ac 'CVMKIT-EVIDENCE ' "$log") lines of at most $maxlen characters, $(grep -a 'CVMKIT-EVIDENCE ' "$log" | wc -c) bytes"
	check "$tee: evidence lines are short (<= 128 characters)" [ "$maxlen" -le 128 ]

	if [ "$tee" = snp ]; then roots=(--amd-root "$simd/amd-root.pem"); else roots=(--intel-root "$simd/intel-root.pem"); fi
	$cap capture "$log" --nonce "$nonce" "${roots[@]}" --format map >"$work/$tee.map" 2>"$work/$tee.err"
	rc=$?
	echo "  $(cat "$work/$tee.err")"
	check "$tee: capture --nonce accepted the evidence (exit $rc)" [ "$rc" -eq 0 ]
	check "$tee: no unauthenticated label" bash -c "! jq -e 'has(\"cvmkit_capture\")' '$work/$tee.map' >/dev/null"
	# Independent expectations: the line's PCRs (jq), the simulator's hardware report (Python),
	# PCR 8 (hashlib), the image's published prediction for what is predictable.
	grep -a 'CVMKIT-MEASURED-BOOT ' "$log" | tail -n1 | sed 's/.*CVMKIT-MEASURED-BOOT //' >"$work/$tee.line"
	for p in 0 1 2 3; do
		check "$tee: ${tee}_pcr0$p = the quoted line's PCR $p" \
			bash -c "[ \"\$(jq -r '.pcrs.sha256[\"$p\"]' '$work/$tee.line')\" = \"\$(jq -r '.${tee}_pcr0$p[0]' '$work/$tee.map')\" ]"
	done
	check "$tee: ${tee}_pcr08 = initdata's PCR 8 (hashlib)" [ "$(jq -r ".${tee}_pcr08[0]" "$work/$tee.map")" = "$pcr8" ]
	for p in 04 09 11; do
		check "$tee: ${tee}_pcr$p = the image's prediction (cvm-measure publish)" \
			bash -c "[ \"\$(payload <'$pred' | jq -c '.${tee}_pcr$p')\" = \"\$(jq -c '.${tee}_pcr$p' '$work/$tee.map')\" ]"
	done
	check "$tee: PCR 6 never emitted" bash -c "! grep -q pcr06 '$work/$tee.map'"
	if [ "$tee" = snp ]; then
		want=$($py -c 'import base64, sys; print(base64.b64encode(open(sys.argv[1], "rb").read()[0x90:0xC0]).decode())' "$simd/snp-report.bin")
		check "snp: measurement = the simulator's SNP report MEASUREMENT (standard base64)" [ "$(jq -r '.measurement[0]' "$work/$tee.map")" = "$want" ]
	else
		want=$($py -c 'import sys; print(open(sys.argv[1], "rb").read()[528:576].hex())' "$simd/td-report.bin")
		check "tdx: mr_td = the simulator's TDREPORT MRTD" [ "$(jq -r '.mr_td[0]' "$work/$tee.map")" = "$want" ]
	fi
	$cap capture "$log" --nonce "$nonce" "${roots[@]}" >"$work/$tee.rvps" 2>/dev/null
	check "$tee: RVPS output carries the same values" bash -c "[ \"\$(payload <'$work/$tee.rvps' | jq -S .)\" = \"\$(jq -S . '$work/$tee.map')\" ]"

	echo "== capture: forgeries of the $tee log (offline)"
	wrong=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	local mcheck=measurement sig=snp-report-signature
	# TDX: the changed runtime claims no longer hash to the HCL report's REPORTDATA (checked
	# before the TD quote's copy of it).
	[ "$tee" = tdx ] && mcheck=mr-td sig=runtime-claims-hash
	for k in pcr measurement line-nonce quote-byte quoted-pcr hcl-byte no-evidence drop-line; do
		forge "$k" "$tee" "$log" "$work/$tee-$k.serial" || not_ok "$tee: forge $k"
	done
	refused "$tee-pcr" pcr-values "$work/$tee-pcr.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-measurement" "$mcheck" "$work/$tee-measurement.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-wrong-nonce" nonce "$log" --nonce "$wrong" "${roots[@]}"
	# The line's nonce changed and --nonce agreeing with it: the quote's qualifying data says no.
	refused "$tee-line-nonce" quote-nonce "$work/$tee-line-nonce.serial" \
		--nonce "$(grep -a 'CVMKIT-MEASURED-BOOT ' "$work/$tee-line-nonce.serial" | sed 's/.*CVMKIT-MEASURED-BOOT //' | jq -r .evidence.nonce)" "${roots[@]}"
	refused "$tee-quote-byte" ak-quote-signature "$work/$tee-quote-byte.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-quoted-pcr" pcr-digest "$work/$tee-quoted-pcr.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-hcl-byte" "$sig" "$work/$tee-hcl-byte.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-no-evidence" evidence "$work/$tee-no-evidence.serial" --nonce "$nonce" "${roots[@]}"
	refused "$tee-drop-line" evidence "$work/$tee-drop-line.serial" --nonce "$nonce" "${roots[@]}"
	if [ "$tee" = snp ]; then
		$cap capture "$log" --nonce "$nonce" "${roots[@]}" --vcek "$simd/vcek.pem" >/dev/null 2>&1
		check "snp: --vcek FILE (the simulator's VCEK, PEM) replaces the evidence's: accepted" [ $? -eq 0 ]
		refused "snp-other-vcek" amd-vcek-chain "$log" --nonce "$nonce" "${roots[@]}" --vcek "$simd/ark.pem"
	fi
	# The compiled-in roots (AMD's / Intel's) do not vouch for the simulator's chain.
	if [ "$tee" = snp ]; then
		refused "$tee-real-roots" amd-vcek-chain "$log" --nonce "$nonce"
	else
		refused "$tee-real-roots" pck-chain "$log" --nonce "$nonce"
	fi
	$cap capture "$work/$tee-pcr.serial" --unauthenticated --format map >"$work/$tee-unauth.map" 2>"$work/$tee-unauth.err"
	check "$tee: --unauthenticated takes even the forged log, labelled" \
		bash -c "jq -e '.cvmkit_capture == \"unauthenticated\"' '$work/$tee-unauth.map' >/dev/null && grep -q UNAUTHENTICATED '$work/$tee-unauth.err'"
	$cap capture "$work/$tee-pcr.serial" --unauthenticated >"$work/$tee-unauth.rvps" 2>/dev/null
	check "$tee: --unauthenticated RVPS payload carries the label" \
		bash -c "payload <'$work/$tee-unauth.rvps' | jq -e '.cvmkit_capture == \"unauthenticated\"' >/dev/null"
	$cap capture "$log" >/dev/null 2>"$work/$tee-nononce.err"
	check "$tee: no --nonce and no --unauthenticated is a usage error (exit 2)" [ $? -eq 2 ]
	# reference-values --capture verifies the same way: the golden values join the image's,
	# a forged log is refused, and there is no unauthenticated way in.
	$cap reference-values "$BOOT_WORK/capture/disk.raw" --capture "$log" --nonce "$nonce" "${roots[@]}" \
		--format map >"$work/$tee.rv-map" 2>"$work/$tee.rv-err"
	check "$tee: reference-values --capture --nonce: accepted, ${tee}_pcr00-03 = capture's" bash -c \
		"[ \"\$(jq -c '[.${tee}_pcr00, .${tee}_pcr01, .${tee}_pcr02, .${tee}_pcr03]' '$work/$tee.rv-map')\" = \
		   \"\$(jq -c '[.${tee}_pcr00, .${tee}_pcr01, .${tee}_pcr02, .${tee}_pcr03]' '$work/$tee.map')\" ] &&
		 jq -e '.${tee}_pcr00[0] | length == 64' '$work/$tee.rv-map' >/dev/null"
	$cap reference-values "$BOOT_WORK/capture/disk.raw" --capture "$work/$tee-pcr.serial" --nonce "$nonce" \
		"${roots[@]}" >/dev/null 2>"$work/$tee.rv-forged.err"
	rc=$?
	check "$tee: reference-values --capture of a forged PCR: exit 1, check pcr-values named" \
		bash -c "[ $rc -eq 1 ] && grep -q 'check pcr-values failed' '$work/$tee.rv-forged.err'"
	$cap reference-values "$BOOT_WORK/capture/disk.raw" --capture "$log" >/dev/null 2>&1
	check "$tee: reference-values --capture without --nonce: usage error (exit 2)" [ $? -eq 2 ]

	# Verification time: median of 9 runs of the whole verb.
	local t
	t=$($py - "$cap" "$log" "$nonce" "${roots[@]}" <<'EOF'
import statistics, subprocess, sys, time
cap, log, nonce, *roots = sys.argv[1:]
ts = []
for _ in range(9):
    t0 = time.perf_counter()
    subprocess.run([cap, "capture", log, "--nonce", nonce, *roots], check=True, capture_output=True)
    ts.append(time.perf_counter() - t0)
print("%.1f" % (statistics.median(ts) * 1000))
EOF
)
	echo "  $tee: capture --nonce (parse + verify + compare + print), median of 9: ${t:-?} ms"
}

run_tee snp "$work/snp-state" "$work/snp" "$work/snp/thim-certification.json"
run_tee tdx "$work/tdx-state" "$work/tdx" --tdx "$work/tdx/tdx-pck"
boot_summary
