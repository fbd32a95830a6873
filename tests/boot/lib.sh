# Boot-test rig: QEMU (q35) + Debian's OVMF + swtpm (TPM 2.0, SHA-256 and
# SHA-384 banks) booting a cvmkit disk.  Sourced by tests/boot/test-*.sh.
# Facts behind the choices: ../shared/notes/test-rig.md.

BOOT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BOOT_WORK=${BOOT_WORK:-$BOOT_TOP/build/boot}
OVMF_CODE=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
OVMF_VARS=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
mkdir -p "$BOOT_WORK"

boot_pass=0 boot_fail=0
ok() { boot_pass=$((boot_pass + 1)); echo "  ok: $*"; }
not_ok() { boot_fail=$((boot_fail + 1)); echo "  FAILED: $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
boot_summary() {
	echo "$(basename "$0"): ${boot_pass} passed, ${boot_fail} failed"
	[ "$boot_fail" -eq 0 ]
}

# KVM on these machines exists but cannot run firmware (QEMU hangs in OVMF):
# use it only when a real boot of the image under test completes quickly.
# The probe runs once per checkout; BOOT_ACCEL=tcg|kvm overrides it.
boot_accel() { # boot_accel DISK
	local probe=$BOOT_WORK/accel
	if [ -n "${BOOT_ACCEL:-}" ]; then echo "$BOOT_ACCEL"; return; fi
	if [ ! -f "$probe" ]; then
		if [ -w /dev/kvm ] && BOOT_ACCEL=kvm BOOT_TIMEOUT=25 boot_disk "$1" "$BOOT_WORK/kvm-probe" >/dev/null 2>&1 &&
			grep -q 'powering off' "$BOOT_WORK/kvm-probe.serial"; then
			echo kvm >"$probe"
		else
			echo tcg >"$probe"
		fi
	fi
	cat "$probe"
}

# boot_disk DISK PREFIX [QEMU ARGS...]: boots DISK with a fresh swtpm and fresh
# OVMF variables; the serial console goes to PREFIX.serial, QEMU's own output
# to PREFIX.qemu.  Returns QEMU's exit status (124 on timeout).
# BOOT_NETNS=NAME: QEMU runs in that network namespace (see azure_rig_up).
# BOOT_TPM_STATE=DIR: start from a copy of that pre-provisioned swtpm state
# (e.g. tests/tools/azure-vtpm-sim.sh provision) instead of a fresh one; DIR
# itself is never modified.
boot_disk() {
	local disk=$1 prefix=$2; shift 2
	local tpm=$prefix.tpm accel=${BOOT_ACCEL:-} rc
	case $disk in /*) ;; *) disk=$PWD/$disk ;; esac
	case $prefix in /*) ;; *) prefix=$PWD/$prefix tpm=$PWD/$tpm ;; esac
	[ -n "$accel" ] || accel=$(boot_accel "$disk")
	rm -rf "$tpm"; mkdir -p "$tpm"
	cp "$OVMF_VARS" "$prefix.vars"
	if [ -n "${BOOT_TPM_STATE:-}" ]; then
		[ -f "$BOOT_TPM_STATE/tpm2-00.permall" ] || { echo "boot_disk: $BOOT_TPM_STATE holds no swtpm state" >&2; return 90; }
		cp -a "$BOOT_TPM_STATE/." "$tpm/"
	else
		printf 'active_pcr_banks = sha256,sha384\n' >"$tpm/setup.conf"
		swtpm_setup --tpm2 --tpmstate "$tpm" --config "$tpm/setup.conf" --pcr-banks sha256,sha384 \
			--overwrite >"$tpm/setup.log" 2>&1 || { cat "$tpm/setup.log" >&2; return 90; }
	fi
	swtpm socket --tpm2 --tpmstate dir="$tpm" --ctrl type=unixio,path="$tpm/sock" \
		--terminate --daemon --pid file="$tpm/pid" --log file="$tpm/log" || return 91
	local cpu=max
	[ "$accel" = kvm ] && cpu=host
	local start=$SECONDS ns=()
	# BOOT_NETNS=NAME: run QEMU inside that network namespace (azure_rig_up).
	[ -n "${BOOT_NETNS:-}" ] && ns=(ip netns exec "$BOOT_NETNS")
	"${ns[@]}" timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -machine q35 -accel "$accel" -cpu "$cpu" -m 512 -smp 1 \
		-display none -no-reboot -serial "file:$prefix.serial" -monitor none \
		-drive if=pflash,format=raw,unit=0,file="$OVMF_CODE",readonly=on \
		-drive if=pflash,format=raw,unit=1,file="$prefix.vars" \
		-drive file="$disk",if=virtio,format=raw,readonly=on \
		-chardev socket,id=chrtpm,path="$tpm/sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-crb,tpmdev=tpm0 "$@" >"$prefix.qemu" 2>&1
	rc=$?
	echo "$((SECONDS - start))" >"$prefix.seconds"
	[ -f "$tpm/pid" ] && kill "$(cat "$tpm/pid")" 2>/dev/null
	return $rc
}

# The image under test: built once per run into build/boot/NAME with extra
# cvm-image options, reusing the build of the tree.
build_image() { # build_image NAME [OPTIONS...]
	local name=$1; shift
	"$BOOT_TOP/build.sh" --out "$BOOT_WORK/$name" "$@" >"$BOOT_WORK/$name.build.log" 2>&1 ||
		{ cat "$BOOT_WORK/$name.build.log" >&2; return 1; }
}

# ---------------------------------------------------------------- Azure-faithful network rig
# A TAP device in a network namespace the test creates, whose host side owns
# Azure's fixed addresses: the WireServer 168.63.129.16 and IMDS
# 169.254.169.254 (both /32 on the namespace's lo), with Debian's dnsmasq
# answering DHCP on the TAP (guest 10.213.0.15/24, gateway 10.213.0.1).
# QEMU's user network cannot do this (guestfwd only reaches addresses inside
# its own subnet; ../shared/notes/test-rig.md).  Needs root, iproute2,
# dnsmasq and /dev/net/tun.
#
#   azure_rig_up TAG      sets RIG_NS (namespace cvmkit-TAG-PID), RIG_DIR,
#                         RIG_NETDEV (QEMU NIC arguments) and BOOT_NETNS,
#                         so boot_disk runs QEMU inside the namespace
#   rig_run CMD...        runs CMD inside the namespace in the background
#                         (its pid is killed by azure_rig_down)
#   azure_rig_down        stops what runs in the namespace and deletes it,
#                         and RIG_DIR unless RIG_KEEP=1 (call it from the
#                         test's EXIT trap)
RIG_PIDS=()
RIG_GUEST_IP=10.213.0.15
RIG_HOST_IP=10.213.0.1

rig_missing() { # prints what the rig lacks on this machine, nothing when complete
	[ "$(id -u)" -eq 0 ] || echo "root"
	command -v ip >/dev/null || echo "iproute2"
	command -v dnsmasq >/dev/null || echo "dnsmasq (dnsmasq-base)"
	[ -c /dev/net/tun ] || echo "/dev/net/tun"
}

azure_rig_up() {
	local tag=$1
	RIG_NS=cvmkit-$tag-$$
	RIG_DIR=$BOOT_WORK/rig-$tag-$$
	rm -rf "$RIG_DIR"; mkdir -p "$RIG_DIR"
	ip netns add "$RIG_NS" || return 1
	ip -n "$RIG_NS" link set lo up &&
		ip -n "$RIG_NS" tuntap add dev tap0 mode tap &&
		ip -n "$RIG_NS" addr add "$RIG_HOST_IP/24" dev tap0 &&
		ip -n "$RIG_NS" addr add 168.63.129.16/32 dev lo &&
		ip -n "$RIG_NS" addr add 169.254.169.254/32 dev lo &&
		ip -n "$RIG_NS" link set tap0 up || return 1
	# No DNS (port 0); one lease; the router option gives the guest its
	# default route, which is how it reaches 168.63.129.16 on Azure too.
	rig_run dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --port=0 --interface=tap0 --except-interface=lo \
		--bind-interfaces --dhcp-range="$RIG_GUEST_IP,$RIG_GUEST_IP,255.255.255.0,1h" \
		--dhcp-option=option:router,"$RIG_HOST_IP" --dhcp-leasefile="$RIG_DIR/leases" \
		--log-dhcp --log-facility="$RIG_DIR/dnsmasq.log"
	BOOT_NETNS=$RIG_NS
	RIG_NETDEV=(-netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=n0)
}

rig_run() {
	ip netns exec "$RIG_NS" "$@" &
	RIG_PIDS+=($!)
}

azure_rig_down() {
	local p
	for p in "${RIG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${RIG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	RIG_PIDS=()
	if [ -n "${RIG_NS:-}" ]; then
		# Anything still inside (only what this test started) goes too.
		for p in $(ip netns pids "$RIG_NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$RIG_NS" 2>/dev/null
	fi
	[ "${RIG_KEEP:-}" = 1 ] || [ -z "${RIG_DIR:-}" ] || rm -rf "$RIG_DIR"
	unset BOOT_NETNS
	RIG_NS=
}

# kbs_test_begin NAME TOOL...: the prologue of the boot tests that run the test KBS.
# Sets py, work ($BOOT_WORK/NAME, emptied) and kbs_pid (the KBS, stopped on exit),
# defines bail DESCRIPTION (one failed check, the summary, exit 1), and bails unless
# every TOOL is on PATH.
kbs_test_begin() {
	local name=$1 tool; shift
	py=/usr/bin/python3
	work=$BOOT_WORK/$name
	rm -rf "$work"; mkdir -p "$work"
	kbs_pid=
	trap '[ -n "$kbs_pid" ] && kill "$kbs_pid" 2>/dev/null' EXIT
	bail() { not_ok "$1"; boot_summary; exit 1; }
	for tool in "$@"; do
		command -v "$tool" >/dev/null || bail "$tool installed"
	done
}
