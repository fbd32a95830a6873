#!/usr/bin/env bash
# Boots the demo image under OVMF + swtpm: the greeting appears, the init's
# phase timestamps appear, the workload's status is reported and the VM powers
# off by itself.  A second image whose workload fails must report its status.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

echo "== boot: demo workload"
build_image demo || { not_ok "build the demo image"; boot_summary; exit 1; }
# The build's summary names each artifact's sha256; sha256sum must agree.
for f in uki.efi disk.raw disk.vhd; do
	want=$(sha256sum <"$BOOT_WORK/demo/$f" | cut -c1-64)
	check "build summary: sha256 of $f" grep -Eq "^$f +[0-9]+ +$want\$" "$BOOT_WORK/demo.build.log"
done
check "disk.vhd = disk.raw + 512-byte footer" cmp -s -n "$(stat -c %s "$BOOT_WORK/demo/disk.raw")" \
	"$BOOT_WORK/demo/disk.raw" "$BOOT_WORK/demo/disk.vhd"
boot_disk "$BOOT_WORK/demo/disk.raw" "$BOOT_WORK/demo"
rc=$?
log=$BOOT_WORK/demo.serial
echo "  (booted in $(cat "$BOOT_WORK/demo.seconds") s with $(boot_accel "$BOOT_WORK/demo/disk.raw"))"
check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
check "greeting printed" grep -q '^Hello OpenShift!' "$log"
check "phase timestamps" grep -Eq '^\[ *[0-9]+\.[0-9]{6}\] init: phase start' "$log"
check "workload phase" grep -q 'init: phase workload' "$log"
check "exit status 0 reported" grep -q 'init: workload exited with status 0' "$log"
check "power off announced" grep -q 'init: powering off' "$log"
check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
check "TPM found (measured-boot report)" grep -q '^CVMKIT-MEASURED-BOOT {' "$log"

echo "== boot: failing workload"
build_image fail --workload-arg --exit --workload-arg 3 || { not_ok "build the failing image"; boot_summary; exit 1; }
boot_disk "$BOOT_WORK/fail/disk.raw" "$BOOT_WORK/fail"
rc=$?
log=$BOOT_WORK/fail.serial
check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
check "greeting printed" grep -q '^Hello OpenShift!' "$log"
check "exit status 3 reported" grep -q 'init: workload exited with status 3' "$log"

echo "== boot: a workload that cannot run is reported (126), then power off, no panic"
build_image broken --workload "$BOOT_TOP/configs/demo.conf" || { not_ok "build the broken image"; boot_summary; exit 1; }
boot_disk "$BOOT_WORK/broken/disk.raw" "$BOOT_WORK/broken"
rc=$?
log=$BOOT_WORK/broken.serial
check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
check "exec failure named" grep -q 'init: fatal: unable to run /usr/bin/demo.conf' "$log"
check "exit status 126 reported" grep -q 'init: workload exited with status 126' "$log"
check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
boot_summary
