#!/usr/bin/env bash
# The Ready report to Azure's WireServer, on an Azure-faithful rig: the guest
# gets its address from dnsmasq on a TAP device in a network namespace whose
# host side owns 168.63.129.16 (and 169.254.169.254), where a test
# WireServer (tests/boot/wireserver.py) answers and records.  QEMU's
# -smbios sets the DMI strings an Azure host shows (sys_vendor "Microsoft
# Corporation", Azure's chassis asset tag), which report_ready = auto keys on.
#
# Checked: a well-formed health report carrying the goal state's
# incarnation, container id and instance id (validated by xml.etree); a
# garbage goal state, an oversized one, HTTP 500 and a WireServer that never
# answers each give one line, in bounded time, and the workload still runs;
# report_ready = no sends nothing; auto without the Azure DMI strings sends
# nothing.  Prints the time the phase took on each boot.  RIG_KEEP=1 keeps
# the rig's logs (dnsmasq, the WireServer's recorded requests).
set -uo pipefail
# Each boot is about a minute under TCG; allow for a busy machine.
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

missing=$(rig_missing)
if [ -n "$missing" ]; then
	echo "test-boot-azure-ready: the rig needs: $(echo $missing)"
	[ "${CI:-}" = true ] && { not_ok "rig prerequisites (scripts/setup-host.sh test)"; boot_summary; exit 1; }
	echo "test-boot-azure-ready: SKIPPED (not CI)"; exit 0
fi

work=$BOOT_WORK/azure-ready
rm -rf "$work"; mkdir -p "$work"
trap azure_rig_down EXIT
timeout_s=6

echo "== rig: network namespace, TAP, dnsmasq, test WireServer on 168.63.129.16:80"
if ! azure_rig_up ready; then not_ok "create the network namespace"; boot_summary; exit 1; fi
ws=$RIG_DIR/wireserver; mkdir -p "$ws"
incarnation=$((RANDOM % 90 + 2))
container=$(cat /proc/sys/kernel/random/uuid)
instance="$(cat /proc/sys/kernel/random/uuid)._cvmkit-ready-$$"
printf '{"incarnation": "%s", "container_id": "%s", "instance_id": "%s"}\n' "$incarnation" "$container" \
	"$instance" >"$ws/goalstate.json"
rig_run python3 -u tests/boot/wireserver.py --bind 168.63.129.16 --port 80 --dir "$ws" 2>"$ws/server.log"
for _ in $(seq 50); do [ -f "$ws/ready" ] && break; sleep 0.1; done
check "test WireServer answers on 168.63.129.16 inside $RIG_NS" \
	bash -c "ip netns exec '$RIG_NS' curl -fsS -m 5 'http://168.63.129.16/?comp=versions' | grep -q '<Versions>'"
rm -f "$ws/requests.jsonl"

echo "== images"
build_image az-ready --network-mode dhcp --network-timeout 30 --azure-report-ready auto \
	--azure-ready-timeout "$timeout_s" || { not_ok "build the report_ready = auto image"; boot_summary; exit 1; }
build_image az-ready-no --network-mode dhcp --network-timeout 30 --azure-report-ready no ||
	{ not_ok "build the report_ready = no image"; boot_summary; exit 1; }
ok "images built"
azure_dmi=(-smbios "type=1,manufacturer=Microsoft Corporation,product=Virtual Machine"
	-smbios "type=3,manufacturer=Microsoft Corporation,asset=7783-7084-3265-9085-8269-3286-77")

# seconds from "phase azure-ready" to the init's next line (the one result line)
phase_secs() {
	awk '/init: phase azure-ready/ { s = substr($0, 2, index($0, "]") - 2) + 0; next }
	     s && /init: / { e = substr($0, 2, index($0, "]") - 2) + 0; printf "%.2f\n", e - s; exit }' "$1"
}
within() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }
n_requests() { [ -f "$ws/requests.jsonl" ] && wc -l <"$ws/requests.jsonl" || echo 0; }

# boot_case NAME MODE IMAGE [QEMU ARGS...]: boots with the WireServer in MODE
boot_case() {
	local name=$1 mode=$2 image=$3; shift 3
	echo "$mode" >"$ws/mode"
	rm -f "$ws/requests.jsonl"
	boot_disk "$BOOT_WORK/$image/disk.raw" "$work/$name" "${RIG_NETDEV[@]}" "$@"
	rc=$?
	log=$work/$name.serial
	echo "  (booted in $(cat "$work/$name.seconds") s; azure-ready phase $(phase_secs "$log") s)"
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "DHCP lease from dnsmasq ($RIG_GUEST_IP via $RIG_HOST_IP)" \
		grep -Eq "init: network: [a-z0-9]+ $RIG_GUEST_IP/24 gateway $RIG_HOST_IP" "$log"
	check "the workload still ran (status 0)" grep -q 'init: workload exited with status 0' "$log"
	check "workload output present" grep -q 'Hello OpenShift!' "$log"
	check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
}

# failure_case NAME MODE MESSAGE_REGEX LOW HIGH
failure_case() {
	local name=$1 mode=$2 re=$3 lo=$4 hi=$5 secs
	echo "== boot: WireServer $mode"
	boot_case "$name" "$mode" az-ready "${azure_dmi[@]}"
	check "exactly one azure line" [ "$(grep -c 'init: azure:' "$log")" -eq 1 ]
	check "it says why: $re" grep -Eq "init: azure: Ready not reported \(unable to $re" "$log"
	check "and that the boot goes on" grep -q 'continuing without it' "$log"
	secs=$(phase_secs "$log")
	check "bounded: phase took ${secs:-?} s (expected $lo-$hi s)" within "$secs" "$lo" "$hi"
	check "azure-ready came before the workload" \
		bash -c "grep -n 'init: phase' '$log' | grep -A1 azure-ready | tail -1 | grep -q 'phase workload'"
}

echo "== boot: report_ready = auto on 'Azure' (DMI), WireServer well-behaved"
boot_case ok ok az-ready "${azure_dmi[@]}"
check "azure-ready phase ran" grep -q 'init: phase azure-ready' "$log"
check "one line: reported Ready with the goal state's ids" \
	grep -q "init: azure: reported Ready to 168.63.129.16 (protocol 2012-11-30, incarnation $incarnation, container $container, instance $instance)" "$log"
check "phase before attestation and workload (order of phases)" \
	bash -c "grep -o 'init: phase [a-z-]*' '$log' | tr '\n' ' ' | grep -q 'network init: phase azure-ready init: phase workload'"
echo "  WireServer's view (independent check with xml.etree):"
if python3 tests/boot/wireserver.py validate "$ws"; then ok "health report validated"; else not_ok "health report validated"; fi
ok_secs=$(phase_secs "$log")

failure_case garbage garbage "fetch the goal state: malformed answer; not retried after 1 attempt" 0 3
failure_case oversized oversized "fetch the goal state: answer larger than 65536 bytes; not retried" 0 3
failure_case status500 status500 "probe the protocol versions: HTTP 500; gave up at the deadline" "$((timeout_s - 1))" "$((timeout_s + 2))"
check "500s were retried (more than one attempt recorded: $(n_requests))" [ "$(n_requests)" -gt 1 ]
failure_case hang hang "probe the protocol versions: .*; gave up at the deadline" "$((timeout_s - 1))" "$((timeout_s + 2))"

echo "== boot: report_ready = no on 'Azure'"
boot_case no ok az-ready-no "${azure_dmi[@]}"
check "no azure-ready phase" bash -c "! grep -q 'init: phase azure-ready' '$log' && ! grep -q 'init: azure:' '$log'"
check "the WireServer received nothing ($(n_requests) requests)" [ "$(n_requests)" -eq 0 ]

echo "== boot: report_ready = auto, not Azure (QEMU's own DMI strings)"
boot_case notazure ok az-ready
check "one line: not Azure, not reported" grep -q 'init: azure: not Azure .*Ready not reported (report_ready = auto)' "$log"
check "the WireServer received nothing ($(n_requests) requests)" [ "$(n_requests)" -eq 0 ]

echo "  time the Ready phase added (rig, TCG): ${ok_secs:-?} s when reported"
boot_summary
