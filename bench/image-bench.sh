#!/usr/bin/env bash
# Issue A benchmarks: build times, sizes and boot times, with a dracut-built
# initramfs of the same kernel running the same workload as the baseline.
# Prints a table; not a pass/fail test.
#
#   bench/image-bench.sh [RUNS]      (default 3; medians are reported)
#   bench/image-bench.sh RUNS --builds   only the builds: one cold build, then
#                                        RUNS warm rebuilds (median), with the load
#   bench/image-bench.sh RUNS --warm-vs DIR   warm rebuilds only, alternating this
#                                        checkout with DIR (another built checkout,
#                                        e.g. the previous commit): the baseline
#                                        under the same load
#
# Cold build: a fresh clone with an empty build/ and an empty library cache
# (downloads pre-seeded, so the network is not measured).  Warm rebuild: the
# same clone, only the workload binary changed.  Boot: QEMU q35 + OVMF + swtpm
# under TCG (KVM when the probe says it works), host wall clock from QEMU start
# to the "phase workload" line and to QEMU's exit.  Kernel -> workload: direct
# kernel boot (no firmware) of our initramfs and of dracut's, both timed by
# the guest's own clock (seconds since kernel start).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}
builds_only=0
[ "${2:-}" = --builds ] && builds_only=1
work=$(mktemp -d "${TMPDIR:-/tmp}/cvmkit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
CVMKIT_CACHE=${CVMKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvmkit}

median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "n/a" }'; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
log() { echo "bench: $*" >&2; }

if [ "${2:-}" = --warm-vs ]; then
	other=$(cd "${3:?--warm-vs needs a directory}" && pwd)
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	ours=() theirs=()
	for side in "$top" "$other"; do # once each, so both are warm
		(cd "$side" && ./build.sh --out "$work/out-${side//\//_}" >/dev/null 2>&1) ||
			{ echo "bench: fatal: unable to build in $side" >&2; exit 1; }
	done
	for i in $(seq "$runs"); do
		for side in "$top" "$other"; do
			log "warm rebuild $i/$runs in $side"
			cp "$top/build/guest/hello" "$work/hello"
			printf 'bench %s' "$i" >>"$work/hello"
			t=$(now)
			(cd "$side" && ./build.sh --workload "$work/hello" --out "$work/out-${side//\//_}" >/dev/null 2>&1) ||
				{ echo "bench: fatal: warm build failed in $side" >&2; exit 1; }
			if [ "$side" = "$top" ]; then ours+=("$(since "$t")"); else theirs+=("$(since "$t")"); fi
		done
	done
	m_ours=$(printf '%s\n' "${ours[@]}" | median) m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
	printf '\n%-44s %14s %s\n' "warm rebuild, workload changed (median of $runs)" "value" "target"
	printf '%-44s %12s s %s\n' "this checkout ($(git -C "$top" rev-parse --short HEAD))" "$m_ours" "<= 0.3 s"
	printf '%-44s %12s s\n' "baseline $other ($(git -C "$other" rev-parse --short HEAD))" "$m_theirs"
	printf '%-44s %12s x\n' "ratio this / baseline" "$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN { printf "%.2f", a / b }')"
	printf '%-44s %s\n' "this, sorted" "$(printf '%s\n' "${ours[@]}" | sort -g | tr '\n' ' ')"
	printf '%-44s %s\n' "baseline, sorted" "$(printf '%s\n' "${theirs[@]}" | sort -g | tr '\n' ' ')"
	printf '%-44s %14s\n' "load average before (2 = both CPUs busy)" "$load0"
	printf '%-44s %14s\n' "load average after" "$(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

if [ $builds_only = 1 ]; then
	# One cold build, then the warm rebuilds: each a different workload
	# binary, so nothing of the previous output can be reused as is.
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	git clone -q "$top" "$work/clone"
	mkdir -p "$work/cache"
	cp -r "$CVMKIT_CACHE/downloads" "$work/cache/"
	log "cold build"
	t=$(now)
	(cd "$work/clone" && CVMKIT_CACHE=$work/cache ./build.sh --out "$work/clone/out" >/dev/null 2>&1) ||
		{ echo "bench: fatal: cold build failed" >&2; exit 1; }
	cold=$(since "$t")
	warm=()
	for i in $(seq "$runs"); do
		log "warm rebuild $i/$runs (workload changed)"
		cp "$work/clone/build/guest/hello" "$work/hello"
		printf 'bench %s' "$i" >>"$work/hello"
		t=$(now)
		(cd "$work/clone" && CVMKIT_CACHE=$work/cache ./build.sh --workload "$work/hello" --out "$work/clone/out" >/dev/null 2>&1) ||
			{ echo "bench: fatal: warm build failed" >&2; exit 1; }
		warm+=("$(since "$t")")
	done
	printf '\n%-44s %14s %s\n' "metric" "value" "target"
	printf '%-44s %12s s\n' "cold build (fresh clone, empty cache), 1 run" "$cold"
	printf '%-44s %12s s %s\n' "warm rebuild, workload changed (median of $runs)" "$(printf '%s\n' "${warm[@]}" | median)" "<= 0.3 s"
	printf '%-44s %14s\n' "warm rebuilds, sorted" "$(printf '%s\n' "${warm[@]}" | sort -g | tr '\n' ' ')"
	printf '%-44s %14s\n' "load average before (2 = both CPUs busy)" "$load0"
	printf '%-44s %14s\n' "load average after" "$(cut -d' ' -f1-3 /proc/loadavg)"
	exit 0
fi

"$top/build.sh" --out "$work/ref" >/dev/null 2>&1 || { echo "bench: fatal: unable to build the image" >&2; exit 1; }

# ---- cold and warm builds
cold=() warm=()
for i in $(seq "$runs"); do
	log "cold build $i/$runs"
	rm -rf "$work/clone" "$work/cache"
	git clone -q "$top" "$work/clone"
	mkdir -p "$work/cache"
	cp -r "$CVMKIT_CACHE/downloads" "$work/cache/"
	t=$(now)
	(cd "$work/clone" && CVMKIT_CACHE=$work/cache ./build.sh --out "$work/clone/out" >/dev/null 2>&1) ||
		{ echo "bench: fatal: cold build failed" >&2; exit 1; }
	cold+=("$(since "$t")")
	log "warm rebuild $i/$runs (workload changed)"
	cp "$top/build/guest/hello" "$work/hello"
	printf 'bench %s' "$i" >>"$work/hello" # a different workload binary, still runnable
	t=$(now)
	(cd "$work/clone" && CVMKIT_CACHE=$work/cache ./build.sh --workload "$work/hello" --out "$work/clone/out" >/dev/null 2>&1) ||
		{ echo "bench: fatal: warm build failed" >&2; exit 1; }
	warm+=("$(since "$t")")
done

# ---- sizes
initrd_size=$(printf '%d' "0x$(objdump -h "$work/ref/uki.efi" | awk '$2 == ".initrd" { print $3 }')")
size_of() { stat -c %s "$1"; }

# ---- boots under OVMF + swtpm
. "$top/tests/boot/lib.sh"
accel=$(boot_accel "$work/ref/disk.raw")
to_wl=() to_off=()
for i in $(seq "$runs"); do
	log "OVMF boot $i/$runs ($accel)"
	t=$(now)
	boot_disk "$work/ref/disk.raw" "$work/boot$i" &
	pid=$!
	wl=""
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$wl" ] && grep -aq 'init: phase workload' "$work/boot$i.serial" 2>/dev/null; then
			wl=$(since "$t")
		fi
		sleep 0.02
	done
	wait "$pid"
	to_off+=("$(since "$t")")
	to_wl+=("${wl:-nan}")
done

# ---- kernel start -> workload: ours vs dracut (direct kernel boot)
vmlinuz=$("$top/scripts/kernel.sh" vmlinuz)
kver=$("$top/scripts/kernel.sh" kver)
kroot=$("$top/scripts/kernel.sh" root)
objcopy -O binary --only-section=.initrd "$work/ref/uki.efi" "$work/ours.img"
mkdir -p "$work/dracut"
cat >"$work/dracut/99-workload.sh" <<'EOF'
#!/bin/sh
read up _ </proc/uptime
echo "dracut-baseline: workload start at $up"
/usr/bin/hello
echo "dracut-baseline: workload exited with status $?"
echo o >/proc/sysrq-trigger
EOF
chmod +x "$work/dracut/99-workload.sh"
read -r -a mods <<<"$("$top/build/bin/cvm-image" config --config "$top/configs/demo.conf" --get kernel.modules)"
dracut_ok=1
dracut --no-hostonly --force --quiet --kver "$kver" --kmoddir "$kroot/lib/modules/$kver" -m base \
	--add-drivers "${mods[*]}" --include "$top/build/guest/hello" /usr/bin/hello \
	--include "$work/dracut/99-workload.sh" /lib/dracut/hooks/cmdline/99-workload.sh \
	--compress "lz4 -l -9" "$work/dracut.img" >/dev/null 2>&1 || dracut_ok=0
direct_boot() { # IMG LOG
	timeout 120 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 512 -display none -no-reboot \
		-serial "file:$2" -kernel "$vmlinuz" -initrd "$1" -append "console=ttyS0 quiet panic=-1" >/dev/null 2>&1
}
ours=() theirs=() kstart=()
for i in $(seq "$runs"); do
	log "direct kernel boot $i/$runs"
	direct_boot "$work/ours.img" "$work/ours$i.log"
	ours+=("$(grep -a 'init: phase workload' "$work/ours$i.log" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')")
	kstart+=("$(grep -a 'init: phase start' "$work/ours$i.log" | sed 's/^\[ *\([0-9.]*\)\].*/\1/')")
	if [ $dracut_ok = 1 ]; then
		direct_boot "$work/dracut.img" "$work/dracut$i.log"
		theirs+=("$(grep -a 'dracut-baseline: workload start at' "$work/dracut$i.log" | awk '{print $NF}')")
	fi
done

m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_theirs=$(printf '%s\n' "${theirs[@]:-}" | grep . | median)
ratio=$(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')

printf '\n%-44s %14s %s\n' "metric (median of $runs)" "value" "target"
printf '%-44s %12s s %s\n' "cold build (fresh clone, empty cache)" "$(printf '%s\n' "${cold[@]}" | median)" ""
printf '%-44s %12s s %s\n' "warm rebuild, workload changed" "$(printf '%s\n' "${warm[@]}" | median)" "<= 0.3 s"
printf '%-44s %12s\n' "load average at the end (2 = both CPUs busy)" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-44s %12s B %s\n' "init (static, stripped)" "$(size_of "$top/build/guest/init")" "<= 512 KiB"
printf '%-44s %12s B\n' "demo workload" "$(size_of "$top/build/guest/hello")"
printf '%-44s %12s B\n' "initramfs (.initrd, lz4)" "$initrd_size"
printf '%-44s %12s B\n' "uki.efi" "$(size_of "$work/ref/uki.efi")"
printf '%-44s %12s B %s\n' "disk.vhd" "$(size_of "$work/ref/disk.vhd")" "<= 24 MiB"
printf '%-44s %12s s\n' "QEMU start -> workload start ($accel, OVMF)" "$(printf '%s\n' "${to_wl[@]}" | median)"
printf '%-44s %12s s\n' "QEMU start -> power-off ($accel, OVMF)" "$(printf '%s\n' "${to_off[@]}" | median)"
printf '%-44s %12s s\n' "kernel start -> workload, cvmkit init" "$m_ours"
printf '%-44s %12s s\n' "kernel start -> workload, dracut baseline" "$m_theirs"
printf '%-44s %12s x %s\n' "ratio cvmkit / dracut" "$ratio" "<= 0.2"
# The kernel's own start-up (to the first line of PID 1) is the same for both;
# the init-only ratio shows what each initramfs adds on top of it.
k_ours=$(printf '%s\n' "${kstart[@]:-}" | grep . | median)
init_ratio=$(awk -v a="$m_ours" -v b="$m_theirs" -v k="$k_ours" 'BEGIN { if (b > k) printf "%.2f", (a - k) / (b - k); else print "n/a" }')
printf '%-44s %12s s\n' "kernel start -> PID 1 (cvmkit)" "$k_ours"
printf '%-44s %12s x\n' "ratio of init time only (after PID 1 starts)" "$init_ratio"
