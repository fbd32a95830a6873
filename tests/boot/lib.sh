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
	local start=$SECONDS
	timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -machine q35 -accel "$accel" -cpu "$cpu" -m 512 -smp 1 \
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
