#!/usr/bin/env bash
# End to end, failing closed: boot -> network -> attest -> secrets -> workload.
#
# The rig (all test code, started and stopped here):
#   - the simulated Azure SEV-SNP vTPM (tests/tools/azure-vtpm-sim.sh) provisioned into a swtpm
#     state every boot starts from (BOOT_TPM_STATE);
#   - a test IMDS (tests/boot/imds.py) that QEMU's user network starts per guest connection to
#     169.254.169.254:80 (guestfwd), serving the THIM VCEK chain of the simulator's test root;
#   - the test KBS (tests/kbs/kbs.py) on 127.0.0.1:PORT, reached by the guest as 169.254.0.2:PORT,
#     HTTPS with its test CA (embedded in the image, so measured), holding the reference values
#     `cvm-measure reference-values` published for the golden image, and the resources.
# Evidence v1: the simulator's HCL report is static, so its user-data cannot hold the runtime
# data a fresh nonce produces (test-rig.md); freshness rests on the quote's qualifying data.
#
# Cases: the golden image receives its secrets (file and environment, plain resources and a
# sealed secret) and the workload prints their digests, checked against the resources on the
# host, and so does a container image (OCI) as the workload; images built after the reference values were published (changed command line, initrd
# content, workload, kernel build) are refused and never run the workload; KBS faults (down,
# slow, reset, malformed JSON, oversized, wrong nonce, wrong JWE key) end the boot in bounded
# time with one clear line.  Every serial log is scanned for the secrets (raw, hex, base64).
#
# Boots use -nodefaults and a NIC without option ROM, so OVMF tries no other boot option first
# and PCR 4 is what `cvm-measure reference-values` predicts (--failed-boot-options 0).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

kbs_test_begin kbs swtpm swtpm_setup tpm2_nvdefine musl-gcc qemu-system-x86_64 jq
$py -c 'import cryptography, jwcrypto' 2>/dev/null || bail "python3-cryptography and python3-jwcrypto installed"

echo "== kbs: tools, the test workload and the rig"
make -s -j2 guest build/bin/cvm-image build/bin/cvm-measure >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; bail "build"; }
init_size=$(stat -c %s build/guest/init)
echo "  init: $init_size bytes ($((init_size / 1024)) KiB) with everything linked"
musl_cppflags=$(sed -n 's/^DEPS_MUSL_CPPFLAGS *:= *//p' build/deps.mk)
musl_ldflags=$(sed -n 's/^DEPS_MUSL_LDFLAGS *:= *//p' build/deps.mk)
# shellcheck disable=SC2086
musl-gcc -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude $musl_cppflags -static -Wl,--gc-sections -s \
	-o "$work/secret-digest" tests/boot/secret-digest.c build/musl/common/*.o $musl_ldflags -lmbedcrypto -lz \
	2>"$work/cc.log" || { cat "$work/cc.log" >&2; bail "build secret-digest"; }
ok "secret-digest built ($(stat -c %s "$work/secret-digest") bytes)"

tests/tools/azure-vtpm-sim.sh provision --state "$work/state" --out "$work/sim" >"$work/provision.log" 2>&1 ||
	{ cat "$work/provision.log" >&2; bail "provision the simulated vTPM"; }
ok "simulated Azure vTPM provisioned (AK, HCL report with a test-root SNP report)"

# Secrets: random per run, so a leak cannot hide behind a constant.
S1="kbs-boot-one-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
S2="kbs-boot-two-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
S3="kbs-boot-sealed-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
res=$work/resources
mkdir -p "$res/default/key" "$res/default/signing-key" "$res/default/sealed-secret"
printf '%s' "$S1" >"$res/default/key/one"
printf '%s' "$S2" >"$res/default/key/two"
printf '%s' "$S3" >"$res/default/sealed-secret/three"
sealed=$($py - "$res" <<'EOF'
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
d = sys.argv[1]
k = jwk.JWK.generate(kty="EC", crv="P-256")
open(d + "/default/signing-key/k1", "w").write(k.export_public())
payload = json.dumps({"version": "0.1.0", "type": "vault", "name": "kbs:///default/sealed-secret/three",
                      "provider": "kbs", "provider_settings": {}, "annotations": {}}).encode()
s = jws.JWS(payload)
s.add_signature(k, None, json_encode({"alg": "ES256", "kid": "kbs:///default/signing-key/k1"}))
print("sealed." + s.serialize(compact=True))
EOF
) || bail "make the sealed secret"
digest() { printf '%s' "$1" | sha256sum | cut -c1-64; }
D1=$(digest "$S1") D2=$(digest "$S2") D3=$(digest "$S3")

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kbs_state=$work/kbs-state
start_kbs() { # RV-FILE [kbs.py options...]
	local rv=$1; shift
	rm -f "$kbs_state/port"
	$py tests/kbs/kbs.py --state "$kbs_state" --port "$port" --amd-root "$work/sim/amd-root.pem" \
		--reference-values "$rv" --resources "$res" "$@" 2>>"$work/kbs.log" &
	kbs_pid=$!
	for _ in $(seq 100); do [ -s "$kbs_state/port" ] && return 0; sleep 0.1; done
	return 1
}
stop_kbs() { [ -n "$kbs_pid" ] && { kill "$kbs_pid" 2>/dev/null; wait "$kbs_pid" 2>/dev/null; }; kbs_pid=; }

# The KBS's CA exists before any image: images embed it.
$py -c 'import base64, json; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(json.dumps({"snp_pcr11":["00"*32]}).encode()).decode()}))' >"$work/rv-placeholder.json"
start_kbs "$work/rv-placeholder.json" || bail "start the test KBS"
stop_kbs
ok "test KBS CA made (port $port, SAN 169.254.0.2)"

common=(--network-mode dhcp --network-timeout 20
	--kbs-url "https://169.254.0.2:$port" --kbs-ca "$kbs_state/ca.pem" --kbs-evidence-version 1 --kbs-timeout 10
	--kbs-secret "ONE kbs:///default/key/one file,env" --kbs-secret "TWO kbs:///default/key/two env"
	--kbs-sealed "THREE $sealed file"
	--workload-arg file:ONE --workload-arg env:ONE --workload-arg env:TWO --workload-arg file:THREE)

echo "== kbs: the golden image and its published reference values"
build_image kbs-good "${common[@]}" --workload "$work/secret-digest" || bail "build the golden image"
rv=$BOOT_WORK/kbs-good/reference-values.json
check "reference values published by build.sh (cvm-measure reference-values)" \
	bash -c "jq -r .payload '$rv' | base64 -d | jq -e '.snp_pcr04 and .snp_pcr09 and .snp_pcr11' >/dev/null"

echo "== kbs: tamper images, built after publication"
base_cmdline=$(build/bin/cvm-image config --get kernel.cmdline)
cp "$work/secret-digest" "$work/secret-digest-tampered" && printf 'tampered' >>"$work/secret-digest-tampered"
cp "$(scripts/kernel.sh vmlinuz)" "$work/vmlinuz-tampered" && printf 'another kernel build' >>"$work/vmlinuz-tampered"
tampers=(cmdline initrd workload kernel)
build_image kbs-cmdline "${common[@]}" --workload "$work/secret-digest" --kernel-cmdline "$base_cmdline cvmkit.tamper=1" &&
	build_image kbs-initrd "${common[@]}" --workload "$work/secret-digest" --workload-env TAMPERED=1 &&
	build_image kbs-workload "${common[@]}" --workload "$work/secret-digest-tampered" &&
	build_image kbs-kernel "${common[@]}" --workload "$work/secret-digest" --kernel-image "$work/vmlinuz-tampered" ||
	bail "build the tamper images"
for t in "${tampers[@]}"; do
	check "tamper image $t differs from the golden UKI" \
		bash -c "! cmp -s '$BOOT_WORK/kbs-good/uki.efi' '$BOOT_WORK/kbs-$t/uki.efi'"
done

net=(-netdev "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:$py $BOOT_TOP/tests/boot/imds.py $work/sim/thim-certification.json $work/imds.log"
	-device virtio-net-pci,netdev=n0,romfile=)
boot() { # NAME IMAGE
	BOOT_TPM_STATE=$work/state boot_disk "$BOOT_WORK/$2/disk.raw" "$work/$1" -nodefaults "${net[@]}"
}
# seconds between two of the init's own timestamps: LOG START-REGEX END-REGEX
span() {
	local s f
	s=$(grep -aE "$2" "$1" | head -n1 | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p')
	f=$(grep -aE "$3" "$1" | head -n1 | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p')
	[ -n "$s" ] && [ -n "$f" ] && awk -v s="$s" -v f="$f" 'BEGIN { printf "%.1f\n", f - s }'
}
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }
no_workload() { ! grep -aq 'init: phase workload' "$1" && ! grep -aq '^secret ' "$1"; }
fatal_line() { grep -a 'init: fatal: unable to' "$1" | head -n1 | sed 's/^\[[^]]*\] //'; }

echo "== boot: golden image, KBS affirms"
start_kbs "$rv" || bail "start the KBS with the published reference values"
boot good kbs-good
rc=$?
log=$work/good.serial
echo "  (booted in $(cat "$work/good.seconds") s)"
check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
check "attest phase: az-snp-vtpm from the HCL report, VCEK from the test IMDS" \
	grep -aq 'init: attest: az-snp-vtpm vTPM, VCEK from IMDS, evidence v1' "$log"
check "IMDS asked for THIM with Metadata: true" grep -q 'GET /metadata/THIM/amd/certification HTTP/1.1 -> 200' "$work/imds.log"
check "secrets phase delivered ONE to file and environment" grep -aq 'init: secrets: ONE -> /run/secrets/ONE and environment' "$log"
check "workload got ONE as a file (mode 0400, uid 0), digest = resource" grep -aq "^secret file:ONE sha256 $D1 mode 0400 uid 0" "$log"
check "workload got ONE in its environment, digest = resource" grep -aq "^secret env:ONE sha256 $D1" "$log"
check "workload got TWO in its environment, digest = resource" grep -aq "^secret env:TWO sha256 $D2" "$log"
check "workload got the sealed secret THREE as a file, digest = resource" grep -aq "^secret file:THREE sha256 $D3 mode 0400" "$log"
check "workload exit status 0" grep -aq 'init: workload exited with status 0' "$log"
rss=$(sed -nE 's/.*init: peak RSS ([0-9]+) KiB.*/\1/p' "$log" | head -n1)
echo "  init peak RSS after the secrets phase: ${rss:-?} KiB"
check "peak RSS reported (${rss:-?} KiB <= 4096)" within "${rss:-}" 1 4096
secs=$(span "$log" 'init: phase attest' 'init: phase workload')
echo "  attest + secrets phases: ${secs:-?} s under TCG"
grep -a 'CVMKIT-MEASURED-BOOT' "$log" | tail -n1 | tr -d '\r' | sed 's/^.*CVMKIT-MEASURED-BOOT //' >"$work/good.report.json"
stop_kbs

echo "== boot: a container image as the workload, the same secrets (OCI, User 1001)"
# The container sees /run/secrets through a read-only bind of the init's
# folder and the environment through the image's process: both paths are
# the init's (init/container.c), not the plain workload's.
tests/tools/mkoci.py "$work/oci" --tag v1 --entrypoint /secret-digest --user 1001 \
	--layer "secret-digest=$work/secret-digest:0755" >"$work/oci.ids" 2>"$work/mkoci.log" ||
	{ cat "$work/mkoci.log" >&2; bail "make the OCI image"; }
if build_image kbs-oci "${common[@]}" --workload-image "$work/oci:v1"; then
	start_kbs "$BOOT_WORK/kbs-oci/reference-values.json" || bail "start the KBS with the OCI image's reference values"
	boot oci kbs-oci
	rc=$?
	stop_kbs
	log=$work/oci.serial
	echo "  (booted in $(cat "$work/oci.seconds") s)"
	check "oci: QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "oci: the container got ONE as a file owned by its user 1001 (mode 0400), digest = resource" \
		grep -aq "^secret file:ONE sha256 $D1 mode 0400 uid 1001" "$log"
	check "oci: the container got ONE and TWO in its environment, digests = resources" \
		bash -c "grep -aq '^secret env:ONE sha256 $D1' '$log' && grep -aq '^secret env:TWO sha256 $D2' '$log'"
	check "oci: the container got the sealed secret THREE as a file, digest = resource" \
		grep -aq "^secret file:THREE sha256 $D3 mode 0400 uid 1001" "$log"
	check "oci: workload exit status 0" grep -aq 'init: workload exited with status 0' "$log"
else
	not_ok "build the OCI image with KBS secrets"
fi

echo "== boot: tamper cases, KBS holds the golden image's reference values"
start_kbs "$rv" || bail "start the KBS"
for t in "${tampers[@]}"; do
	boot "tamper-$t" "kbs-$t"
	rc=$?
	log=$work/tamper-$t.serial
	line=$(fatal_line "$log")
	echo "  $t: ${line:-no fatal line}"
	check "$t: powered off (exit $rc)" [ "$rc" -eq 0 ]
	check "$t: KBS refused (PolicyDeny, printed by the init)" \
		grep -aqE 'init: fatal: unable to fetch secret ONE from the KBS: step resource: HTTP 401 https://github.com/confidential-containers/kbs/errors/PolicyDeny' "$log"
	check "$t: workload never ran" no_workload "$log"
	check "$t: power off after the failure" grep -aq 'init: powering off' "$log"
done
stop_kbs

echo "== boot: KBS faults on the golden image (timeout 10 s)"
fault() { # NAME EXPECTED-TEXT MAX-SECONDS
	local f=$1 text=$2 max=$3
	start_kbs "$rv" --fault "$f" --slow-seconds 60 || { not_ok "start the KBS with --fault $f"; return; }
	boot "fault-$f" kbs-good
	rc=$?
	stop_kbs
	log=$work/fault-$f.serial
	line=$(fatal_line "$log")
	secs=$(span "$log" 'init: phase secrets' 'init: fatal: unable to')
	echo "  $f (${secs:-?} s): ${line:-no fatal line}"
	check "fault $f: powered off (exit $rc)" [ "$rc" -eq 0 ]
	check "fault $f: one line naming the step and '$text'" bash -c "grep -aF 'init: fatal: unable to' '$log' | grep -qF -- '$text'"
	check "fault $f: bounded (${secs:-?} s <= $max s)" within "${secs:-}" 0 "$max"
	check "fault $f: workload never ran" no_workload "$log"
}
fault down "step auth" 15
fault slow "timed out" 15
fault reset "step auth" 15
fault bad-json "malformed challenge" 15
fault oversized "too large" 15
fault wrong-nonce "errors/AttestationError" 20
fault wrong-jwe-key "step decrypt" 20

echo "== kbs: no secret byte on any console"
b64() { printf '%s' "$1" | base64 -w0; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
leaks=0 logs=0
for f in "$work"/*.serial; do
	logs=$((logs + 1))
	for s in "$S1" "$S2" "$S3"; do
		for form in "$s" "$(b64 "$s")" "$(b64 "$s" | tr '+/' '-_' | tr -d '=')" "$(hex "$s")"; do
			grep -aqiF -- "$form" "$f" && { leaks=$((leaks + 1)); echo "  LEAK in $f"; }
		done
	done
done
check "$logs serial logs scanned: no secret (raw, base64, base64url, hex)" [ "$leaks" -eq 0 -a "$logs" -ge 13 ]
boot_summary
