#!/usr/bin/env bash
# UEFI Secure Boot with the user's own key, on firmware that enforces it:
# Debian's OVMF_CODE_4M.secboot.fd with a copy of OVMF_VARS_4M.snakeoil.fd,
# whose PK, KEK and db hold PkKek-1-snakeoil.pem (../shared/notes/test-rig.md).
#
#   1. The image signed by cvm-image ([secureboot] key/cert = the snakeoil pair)
#      boots; PCRs 4, 5, 7, 9, 11, 12 quoted by the TPM equal `cvm-measure
#      predict --secureboot-vars VARS` byte for byte in both banks, the event
#      log replays to them, and predicting from the varstore the VM really used
#      (read back after the boot) gives the same PCR 7.
#   2. The firmware refuses an unsigned image and a signed image changed by
#      one byte: the init never starts; the test ends the VM as soon as the
#      firmware reports the refusal (bounded).
#   3. With PCR 7 in the reference values, the test KBS releases the secret to
#      the signed image; the same image booted with Secure Boot off (the rig's
#      default firmware and fresh variables) quotes another PCR 7 and is
#      refused — on PCR 7 alone (the reference values also accept its PCR 4).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

M=build/bin/cvm-measure
KEY=/usr/share/ovmf/PkKek-1-snakeoil.key CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd SB_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
export CVMKIT_SECUREBOOT_KEY_PASS=snakeoil
kbs_test_begin secureboot swtpm qemu-system-x86_64 jq sbverify musl-gcc tpm2_nvdefine
for f in "$KEY" "$CERT" "$SB_CODE" "$SB_VARS"; do [ -f "$f" ] || bail "$f present (Debian ovmf)"; done
make -s -j2 guest build/bin/cvm-image build/bin/cvm-measure >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; bail "build"; }

sbq=(-nodefaults -machine smm=on -global driver=cfi.pflash01,property=secure,value=on)
sb_boot() { # PREFIX DISK [QEMU ARGS...]: a boot on the enforcing firmware
	local prefix=$1 disk=$2; shift 2
	OVMF_CODE=$SB_CODE OVMF_VARS=$SB_VARS boot_disk "$disk" "$prefix" "${sbq[@]}" "$@"
}
report_json() { grep -a -o 'CVMKIT-MEASURED-BOOT {.*' "$1" | tail -n 1 | tr -d '\r' | sed 's/^CVMKIT-MEASURED-BOOT //' >"$2"; [ -s "$2" ] && jq -e . "$2" >/dev/null; }
same() { [ -n "$1" ] && [ "$1" != null ] && [ "$1" = "$2" ]; }

echo "== secureboot: the signed image boots and its PCRs are predicted"
build_image sb-good --secureboot-key "$KEY" --secureboot-cert "$CERT" --init-dump-eventlog yes ||
	bail "build the signed image"
G=$BOOT_WORK/sb-good
check "uki.efi: sbverify --cert snakeoil accepts it" sbverify --cert "$CERT" "$G/uki.efi"
check "azure-uefi-settings.json: db holds the snakeoil certificate (DER)" bash -c \
	"[ \"\$(jq -r '.securityProfile.uefiSettings.additionalSignatures.db[0].value[0]' '$G/azure-uefi-settings.json')\" = \
	   \"\$(openssl x509 -in '$CERT' -outform DER | base64 -w0)\" ]"
"$M" predict "$G/disk.raw" --secureboot-vars "$SB_VARS" --json >"$work/pred.json"
check "predict: secure_boot true, source named" jq -e '.secure_boot == true and (.secureboot_vars.source | test("snakeoil"))' "$work/pred.json"
check "predict: PCR 7 ends with the db authority event" \
	jq -e '.pcrs["7"].events[-1].type == "EV_EFI_VARIABLE_AUTHORITY"' "$work/pred.json"
check "predict: PCR 4 = action, separator, UKI (no .linux under Secure Boot)" jq -e '.pcrs["4"].events | length == 3' "$work/pred.json"
W=$work/good
sb_boot "$W" "$G/disk.raw"
rc=$?
echo "  (booted in $(cat "$W.seconds") s)"
check "signed image booted to the init and powered off (exit $rc)" [ "$rc" -eq 0 ]
check "init printed CVMKIT-MEASURED-BOOT" report_json "$W.serial" "$W.report.json"
for bank in sha256 sha384; do
	for pcr in 4 5 7 9 11 12; do
		p=$(jq -r ".pcrs[\"$pcr\"].values.$bank" "$work/pred.json")
		t=$(jq -r ".pcrs.$bank[\"$pcr\"]" "$W.report.json" 2>/dev/null)
		check "PCR $pcr $bank: predicted ${p:0:16}... = TPM ${t:0:16}..." same "$p" "$t"
	done
done
jq -r '.eventlog.base64' "$W.report.json" | base64 -d >"$W.eventlog.bin" 2>/dev/null
"$M" replay "$W.eventlog.bin" --json >"$W.replay.json"
for bank in sha256 sha384; do
	bad=""
	for pcr in 4 5 7 9 11; do # (nothing extends PCR 12: it has no events in the log)
		same "$(jq -r ".banks.$bank[\"$pcr\"]" "$W.replay.json")" "$(jq -r ".pcrs.$bank[\"$pcr\"]" "$W.report.json")" || bad="$bad $pcr"
	done
	check "$bank: the event log replays to the quoted PCRs (differ:${bad:- none})" [ -z "$bad" ]
done
check "the log holds one EV_EFI_VARIABLE_AUTHORITY, in PCR 7 (tpm2_eventlog)" bash -c \
	"tpm2_eventlog '$W.eventlog.bin' 2>/dev/null | grep -B1 EV_EFI_VARIABLE_AUTHORITY | grep -c 'PCRIndex: 7' | grep -qx 1"
"$M" explain "$G/disk.raw" --secureboot-vars "$SB_VARS" --eventlog "$W.serial" >"$W.explain.txt"
check "explain --secureboot-vars: prediction, log and TPM agree (exit 0)" [ $? -eq 0 ]
"$M" predict "$G/disk.raw" --secureboot-vars "$W.vars" --json >"$work/pred-readback.json"
check "PCR 7 from the varstore the VM used (read back after boot) = the quoted one" \
	same "$(jq -r '.pcrs["7"].values.sha256' "$work/pred-readback.json")" "$(jq -r '.pcrs.sha256["7"]' "$W.report.json")"

echo "== secureboot: the firmware refuses what db does not authorise"
# refused PREFIX DISK: boots on the enforcing firmware, ends QEMU when the
# firmware reports the refusal; true when the init never started.
refused() {
	local prefix=$1 disk=$2 bpid waited=0
	rm -f "$prefix.serial" "$prefix.qpid"
	sb_boot "$prefix" "$disk" -pidfile "$prefix.qpid" &
	bpid=$!
	while kill -0 "$bpid" 2>/dev/null && [ "$waited" -lt 240 ]; do
		if grep -aqE 'Access Denied|Security Violation' "$prefix.serial" 2>/dev/null; then
			sleep 2 # let the firmware finish its line
			break
		fi
		grep -aq 'init:' "$prefix.serial" 2>/dev/null && break
		sleep 1
		waited=$((waited + 1))
	done
	[ -s "$prefix.qpid" ] && kill "$(cat "$prefix.qpid")" 2>/dev/null
	wait "$bpid" 2>/dev/null
	echo "  $(basename "$prefix"): ended after ${waited} s: $(grep -aoE 'Access Denied|Security Violation' "$prefix.serial" | head -n1)"
	grep -aqE 'Access Denied|Security Violation' "$prefix.serial" && ! grep -aq 'init:' "$prefix.serial" && [ "$waited" -lt 240 ]
}
build_image sb-unsigned --init-dump-eventlog yes || bail "build the unsigned image"
check "unsigned image: firmware refuses it, init never starts, VM ended in bounded time" \
	refused "$work/unsigned" "$BOOT_WORK/sb-unsigned/disk.raw"
"$M" predict "$BOOT_WORK/sb-unsigned/disk.raw" --secureboot-vars "$SB_VARS" >/dev/null 2>"$work/unsigned.predict.err"
check "predict of the unsigned image under Secure Boot: exit 3, says db authorises nothing" \
	bash -c "[ $? -eq 3 ] && grep -q 'no db entry' '$work/unsigned.predict.err'"
cp "$G/disk.raw" "$work/modified.raw"
off=$($py - "$work/modified.raw" <<'PYEOF'
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"PRETTY_NAME=")
print(i if i > 0 and d.find(b"PRETTY_NAME=", i + 1) < 0 else -1)
PYEOF
)
check "the signed UKI's .osrel found once in the disk (offset $off)" [ "$off" -gt 0 ]
printf 'X' | dd of="$work/modified.raw" bs=1 seek="$off" conv=notrunc status=none
check "signed-then-modified image (one .osrel byte): firmware refuses it, init never starts" \
	refused "$work/modified" "$work/modified.raw"

echo "== secureboot: KBS with PCR 7 in the reference values"
tests/tools/azure-vtpm-sim.sh provision --state "$work/state" --out "$work/sim" >"$work/provision.log" 2>&1 ||
	{ cat "$work/provision.log" >&2; bail "provision the simulated vTPM"; }
S1="sb-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
res=$work/resources
mkdir -p "$res/default/key"
printf '%s' "$S1" >"$res/default/key/one"
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kbs_state=$work/kbs-state
start_kbs() { # RV-FILE
	rm -f "$kbs_state/port"
	$py tests/kbs/kbs.py --state "$kbs_state" --port "$port" --amd-root "$work/sim/amd-root.pem" \
		--reference-values "$1" --resources "$res" 2>>"$work/kbs.log" &
	kbs_pid=$!
	for _ in $(seq 100); do [ -s "$kbs_state/port" ] && return 0; sleep 0.1; done
	return 1
}
stop_kbs() { [ -n "$kbs_pid" ] && { kill "$kbs_pid" 2>/dev/null; wait "$kbs_pid" 2>/dev/null; }; kbs_pid=; }
$py -c 'import base64, json; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(json.dumps({"snp_pcr11":["00"*32]}).encode()).decode()}))' >"$work/rv-placeholder.json"
start_kbs "$work/rv-placeholder.json" || bail "start the test KBS"
stop_kbs
build_image sb-kbs --secureboot-key "$KEY" --secureboot-cert "$CERT" --network-mode dhcp --network-timeout 20 \
	--kbs-url "https://169.254.0.2:$port" --kbs-ca "$kbs_state/ca.pem" --kbs-evidence-version 1 --kbs-timeout 10 \
	--kbs-secret "ONE kbs:///default/key/one file" || bail "build the signed KBS image"
K=$BOOT_WORK/sb-kbs
"$M" reference-values "$K/disk.raw" --secureboot-vars "$SB_VARS" --format=map >"$work/rv-sb.map" 2>"$work/rv-sb.err"
check "reference values with --secureboot-vars include snp_pcr07 (= the predicted PCR 7)" same \
	"$(jq -r '.snp_pcr07[0]' "$work/rv-sb.map")" \
	"$("$M" predict "$K/disk.raw" --secureboot-vars "$SB_VARS" --json | jq -r '.pcrs["7"].values.sha256')"
off4=$("$M" predict "$K/disk.raw" --json | jq -r '.pcrs["4"].values.sha256')
# Also accept the Secure-Boot-off PCR 4, so the only PCR that can refuse the SB-off boot is 7.
jq --arg p4 "$off4" '.snp_pcr04 += [$p4]' "$work/rv-sb.map" >"$work/rv.map"
$py -c 'import base64, json, sys; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(open(sys.argv[1],"rb").read()).decode()}))' \
	"$work/rv.map" >"$work/rv.json"
net=(-netdev "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:$py $BOOT_TOP/tests/boot/imds.py $work/sim/thim-certification.json $work/imds.log"
	-device virtio-net-pci,netdev=n0,romfile=)
start_kbs "$work/rv.json" || bail "start the KBS with the Secure Boot reference values"
BOOT_TPM_STATE=$work/state sb_boot "$work/kbs-on" "$K/disk.raw" "${net[@]}"
rc=$?
check "Secure Boot on: booted and powered off (exit $rc)" [ "$rc" -eq 0 ]
check "Secure Boot on: the KBS released ONE to the signed image" grep -aq 'init: secrets: ONE -> /run/secrets/ONE' "$work/kbs-on.serial"
check "Secure Boot on: workload ran" grep -aq 'init: phase workload' "$work/kbs-on.serial"
BOOT_TPM_STATE=$work/state boot_disk "$K/disk.raw" "$work/kbs-off" -nodefaults "${net[@]}"
rc=$?
stop_kbs
check "Secure Boot off: booted and powered off (exit $rc)" [ "$rc" -eq 0 ]
report_json "$work/kbs-on.serial" "$work/kbs-on.json"; report_json "$work/kbs-off.serial" "$work/kbs-off.json"
p7on=$(jq -r '.pcrs.sha256["7"]' "$work/kbs-on.json" 2>/dev/null) p7off=$(jq -r '.pcrs.sha256["7"]' "$work/kbs-off.json" 2>/dev/null)
check "PCR 7 differs: on ${p7on:0:16}... off ${p7off:0:16}..." bash -c "[ -n '$p7on' ] && [ '$p7on' != null ] && [ -n '$p7off' ] && [ '$p7off' != null ] && [ '$p7on' != '$p7off' ]"
check "Secure Boot off: KBS refused (PolicyDeny)" grep -aq 'errors/PolicyDeny' "$work/kbs-off.serial"
# Which reference values the Secure-Boot-off quote fails, computed on the host from its quoted PCRs.
failing() { # QUOTE-JSON: the snp_pcrNN names of rv.map whose values do not hold the quoted PCR
	jq -r --slurpfile q "$1" 'to_entries[] | select(.key | test("^snp_pcr")) | .key as $k | .value as $v |
		($k[7:] | tonumber | tostring) as $i | select([$v[] | select(. == $q[0].pcrs.sha256[$i])] | length == 0) | $k' \
		"$work/rv.map" | tr '\n' ' '
}
failing=$(failing "$work/kbs-off.json")
check "Secure Boot on: its quote fails no reference value" [ -z "$(failing "$work/kbs-on.json")" ]
check "Secure Boot off: the only reference value its quote fails is snp_pcr07 (fails: ${failing:-none})" [ "$failing" = "snp_pcr07 " ]
check "Secure Boot off: workload never ran" bash -c "! grep -aq 'init: phase workload' '$work/kbs-off.serial'"
boot_summary
