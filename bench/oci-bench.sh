#!/usr/bin/env bash
# Container images as the workload: build time, image size and boot time to
# the workload's first output, for
#   static  - the static demo binary as [workload] binary (the baseline)
#   hello   - a hello-openshift-sized OCI image: one layer, one ~7 MB static
#             binary (the demo server padded with random bytes), User 1001
#   distro  - Debian's dash, id, ls, cat with loader and libraries (2 layers,
#             a whiteout), as in tests/boot/test-boot-oci.sh
# and the warm rebuild (only the image changed) of the hello-sized image.
# Prints a table of medians; not a pass/fail test.
#
#   bench/oci-bench.sh [RUNS] [BOOT_RUNS]    (defaults 3 and 1)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3} boot_runs=${2:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/cvmkit-oci-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$top"

median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "n/a" }'; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
log() { echo "bench: $*" >&2; }

make -s -j2 all >/dev/null || { echo "bench: fatal: unable to build" >&2; exit 1; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
mkdir -p "$work/modules"
read -r -a mods <<<"$(build/bin/cvm-image config --config configs/demo.conf --get kernel.modules)"
scripts/kernel.sh modules "$work/modules" "${mods[@]}" >/dev/null
kargs=(--init build/guest/init --modules "$work/modules" --stub "$(scripts/kernel.sh stub)"
	--linux "$(scripts/kernel.sh vmlinuz)" --uname "$(scripts/kernel.sh kver)")

# ---- the images
mk_hello() { # mk_hello SEED: a fresh ~7 MB binary and image
	cp build/guest/hello "$work/hello-7m"
	head -c $((7 << 20)) /dev/urandom >>"$work/hello-7m" # still runnable: the ELF ignores the tail
	rm -rf "$work/hello"
	tests/tools/mkoci.py "$work/hello" --tag latest --entrypoint /hello-openshift --user 1001 --expose 8080/tcp \
		--layer hello-openshift="$work/hello-7m":0755 >/dev/null
}
mk_hello
libs=$(ldd /usr/bin/dash /usr/bin/id /usr/bin/ls /usr/bin/cat | awk '$3 ~ /^\// { print $3 }' | sort -u)
ld=$(ldd /usr/bin/dash | awk '$1 ~ /^\/lib64/ { print $1 }')
specs=(bin-\>usr/bin lib-\>usr/lib lib64-\>usr/lib64 usr/ usr/bin/ usr/lib/ usr/lib/x86_64-linux-gnu/ usr/lib64/
	usr/bin/dash=/usr/bin/dash usr/bin/sh-\>dash usr/bin/id=/usr/bin/id usr/bin/ls=/usr/bin/ls usr/bin/cat=/usr/bin/cat
	"usr/lib64/$(basename "$ld")->../lib/x86_64-linux-gnu/$(basename "$(readlink -f "$ld")")"
	"usr/lib/x86_64-linux-gnu/$(basename "$(readlink -f "$ld")")=$(readlink -f "$ld")" data/ data/keep=/etc/hostname)
for l in $libs; do specs+=("usr/lib/x86_64-linux-gnu/$(basename "$l")=$(readlink -f "$l")"); done
tests/tools/mkoci.py "$work/distro" --tag v1 --entrypoint /bin/sh --cmd -c --cmd 'id; ls -A /data' \
	--layer "${specs[@]}" --layer data/keep=- >/dev/null || { echo "bench: fatal: unable to make the distro image" >&2; exit 1; }

declare -A wl=([static]="--workload build/guest/hello" [hello]="--workload-image $work/hello:latest"
	[distro]="--workload-image $work/distro:v1")
declare -A first=([static]='Hello OpenShift!' [hello]='Hello OpenShift!' [distro]='uid=0')
names=(static hello distro)

# ---- builds (cvm-image alone: the step the workload changes)
declare -A bt
for n in "${names[@]}"; do
	t=()
	for i in $(seq "$runs"); do
		log "cvm-image build $n $i/$runs"
		s=$(now)
		# shellcheck disable=SC2086
		build/bin/cvm-image build "${kargs[@]}" ${wl[$n]} --out "$work/out-$n" >/dev/null 2>&1 ||
			{ echo "bench: fatal: build $n failed" >&2; exit 1; }
		t+=("$(since "$s")")
	done
	bt[$n]=$(printf '%s\n' "${t[@]}" | median)
done

# ---- warm rebuild of the hello-sized image, whole build.sh (image changed)
./build.sh --workload-image "$work/hello:latest" --out "$work/warm" >/dev/null 2>&1
wt=() ct=()
for i in $(seq "$runs"); do
	mk_hello
	log "warm rebuild $i/$runs (image changed)"
	s=$(now)
	./build.sh --workload-image "$work/hello:latest" --out "$work/warm" >/dev/null 2>&1 || { echo "bench: fatal: warm rebuild" >&2; exit 1; }
	wt+=("$(since "$s")")
	s=$(now)
	build/bin/cvm-image build "${kargs[@]}" --workload-image "$work/hello:latest" --out "$work/warm2" >/dev/null 2>&1
	ct+=("$(since "$s")")
done

# ---- boots: QEMU start -> the workload's first line (host clock), and the
# guest's own clock from kernel start to "phase workload"
# TCG on a loaded 2-CPU host takes minutes per boot; the 8 MB initrd longer.
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-900}
. tests/boot/lib.sh
declare -A boot kern
for n in "${names[@]}"; do
	b=() k=()
	for i in $(seq "$boot_runs"); do
		log "boot $n $i/$boot_runs"
		s=$(now)
		boot_disk "$work/out-$n/disk.raw" "$work/boot-$n$i" -nodefaults &
		pid=$!
		got=""
		while kill -0 "$pid" 2>/dev/null; do
			if [ -z "$got" ] && grep -aqF "${first[$n]}" "$work/boot-$n$i.serial" 2>/dev/null; then got=$(since "$s"); fi
			sleep 0.05
		done
		wait "$pid"
		[ -z "$got" ] && grep -aqF "${first[$n]}" "$work/boot-$n$i.serial" && got=$(since "$s")
		b+=("${got:-nan}")
		k+=("$(sed -nE 's/^\[ *([0-9]+\.[0-9]+)\] init: phase workload.*/\1/p' "$work/boot-$n$i.serial" | head -1)")
	done
	boot[$n]=$(printf '%s\n' "${b[@]}" | median)
	kern[$n]=$(printf '%s\n' "${k[@]}" | grep . | median)
done

initrd() { printf '%d' "0x$(objdump -h "$1" | awk '$2 == ".initrd" { print $3 }')"; }
printf '\nload average: %s; %d CPUs; builds: median of %d, boots: median of %d (%s)\n' \
	"$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$runs" "$boot_runs" "$(cat build/boot/accel 2>/dev/null || echo tcg)"
printf '%-8s %10s %12s %12s %12s %14s %14s\n' workload "build s" ".initrd B" "uki.efi B" "disk.raw B" "QEMU->output s" "kernel->wl s"
for n in "${names[@]}"; do
	printf '%-8s %10s %12s %12s %12s %14s %14s\n' "$n" "${bt[$n]}" "$(initrd "$work/out-$n/uki.efi")" \
		"$(stat -c %s "$work/out-$n/uki.efi")" "$(stat -c %s "$work/out-$n/disk.raw")" "${boot[$n]}" "${kern[$n]}"
done
printf '\n%-52s %8s s  (target <= 2 s)\n' "warm rebuild, hello-sized image changed: cvm-image" "$(printf '%s\n' "${ct[@]}" | median)"
printf '%-52s %8s s\n' "warm rebuild, hello-sized image changed: build.sh" "$(printf '%s\n' "${wt[@]}" | median)"
