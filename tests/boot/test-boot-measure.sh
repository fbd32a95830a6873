#!/usr/bin/env bash
# Proof that cvm-measure predicts what a real boot measures: build an image,
# predict it from disk.raw alone, boot it under OVMF + swtpm (SHA-256 and
# SHA-384 banks) and compare byte for byte with the PCRs the init read from
# the TPM and with a replay of the event log it dumped.  Then change only the
# kernel command line and check that `explain` names the command-line events.
#
# The first boot uses -nodefaults: QEMU's default empty CD-ROM is otherwise
# the first boot option, and its failed attempt adds "Returning from EFI
# Application" + "Calling EFI Application" to PCR 4 (a platform property,
# modelled by --failed-boot-options; the second boot checks that model).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

M=$BOOT_TOP/build/bin/cvm-measure
[ -x "$M" ] || make -C "$BOOT_TOP" -s build/bin/cvm-measure >/dev/null || { echo "cannot build cvm-measure"; exit 1; }

# report_json SERIAL OUT: the JSON of the last CVMKIT-MEASURED-BOOT line.
report_json() {
	grep -a -o 'CVMKIT-MEASURED-BOOT {.*' "$1" | tail -n 1 | tr -d '\r' | sed 's/^CVMKIT-MEASURED-BOOT //' >"$2"
	[ -s "$2" ] && jq -e . "$2" >/dev/null
}
same() { [ -n "$1" ] && [ "$1" != null ] && [ "$1" = "$2" ]; }

echo "== measure: the prediction equals a real boot"
W=$BOOT_WORK/measure
build_image measure --init-dump-eventlog yes || { not_ok "build the image"; boot_summary; exit 1; }
"$M" predict "$W/disk.raw" --json >"$W.pred.json"
check "predict disk.raw" jq -e '.pcrs["4"].status == "predicted"' "$W.pred.json" >/dev/null
boot_disk "$W/disk.raw" "$W" -nodefaults
rc=$?
echo "  (booted in $(cat "$W.seconds") s)"
check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
check "init printed CVMKIT-MEASURED-BOOT" report_json "$W.serial" "$W.report.json"
for bank in sha256 sha384; do
	for pcr in 4 5 7 9 11 12; do
		p=$(jq -r ".pcrs[\"$pcr\"].values.$bank" "$W.pred.json")
		t=$(jq -r ".pcrs.$bank[\"$pcr\"]" "$W.report.json" 2>/dev/null)
		check "PCR $pcr $bank: predicted ${p:0:16}... = TPM ${t:0:16}..." same "$p" "$t"
	done
done

jq -r '.eventlog.base64' "$W.report.json" | base64 -d >"$W.eventlog.bin" 2>/dev/null
check "event log dumped (size and sha256 as reported)" bash -c \
	"[ \$(stat -c %s '$W.eventlog.bin') = \$(jq -r .eventlog.size '$W.report.json') ] &&
	 [ \$(sha256sum <'$W.eventlog.bin' | cut -d' ' -f1) = \$(jq -r .eventlog.sha256 '$W.report.json') ]"
"$M" replay "$W.eventlog.bin" --json >"$W.replay.json"
check "cvm-measure replay of the dumped log" jq -e '.banks.sha256 and .banks.sha384' "$W.replay.json" >/dev/null
for bank in sha256 sha384; do
	n=0 bad=""
	for pcr in $(jq -r ".banks.$bank | keys[]" "$W.replay.json"); do
		n=$((n + 1))
		same "$(jq -r ".banks.$bank[\"$pcr\"]" "$W.replay.json")" "$(jq -r ".pcrs.$bank[\"$pcr\"]" "$W.report.json")" ||
			bad="$bad $pcr"
	done
	check "replayed $bank = TPM for all $n PCRs the log covers (differ:${bad:- none})" [ -z "$bad" -a "$n" -ge 10 ]
done
"$M" explain "$W/disk.raw" --eventlog "$W.serial" >"$W.explain.txt"
check "explain: prediction, log and TPM agree (exit 0)" [ $? -eq 0 ]

echo "== measure: only the command line changed -> explain names the command-line events"
base=$("$BOOT_TOP/build/bin/cvm-image" config --config "$BOOT_TOP/configs/demo.conf" --get kernel.cmdline)
W2=$BOOT_WORK/measure-cmdline
build_image measure-cmdline --init-dump-eventlog yes --kernel-cmdline "$base cvmkit.explain=1" ||
	{ not_ok "build the second image"; boot_summary; exit 1; }
boot_disk "$W2/disk.raw" "$W2" # the rig's defaults: one failed boot option (the empty CD-ROM) first
rc=$?
check "second image booted (exit $rc)" [ "$rc" -eq 0 ]
"$M" explain "$W2/disk.raw" --eventlog "$W2.serial" --failed-boot-options 1 >"$W2.self.txt"
check "second image: its own prediction (--failed-boot-options 1) matches its boot" [ $? -eq 0 ]
"$M" explain "$W/disk.raw" --eventlog "$W2.serial" --failed-boot-options 1 --json >"$W2.explain.json"
check "explain of the first image against the second boot exits 1" [ $? -eq 1 ]
for bank in sha256 sha384; do
	q() { jq -r --arg b "$bank" --argjson p "$1" ".pcrs[] | select(.bank == \$b and .pcr == \$p) | $2" "$W2.explain.json"; }
	check "$bank PCR 9: first difference is event 0, LoadOptions" \
		same "$(q 9 '.first_difference.event'):$(q 9 '.first_difference.expected.description' | cut -c1-25)" \
		"0:LOADED_IMAGE::LoadOptions"
	check "$bank PCR 9: the logged event is the LoadOptions tag" \
		bash -c "[[ '$(q 9 '.first_difference.logged.description')' == *LoadOptions* ]]"
	check "$bank PCR 11: first difference is the .cmdline content (after 5 equal events)" \
		same "$(q 11 '.first_difference.event'):$(q 11 '.first_difference.expected.description' | cut -c1-24)" \
		"5:section .cmdline content"
	check "$bank PCR 7, 12: still equal" same "$(q 7 .match)$(q 12 .match)" truetrue
done
boot_summary
