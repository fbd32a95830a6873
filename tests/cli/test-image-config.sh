#!/usr/bin/env bash
# The front door: `cvm-image config --check` refuses what a build would refuse
# (or what would silently not work at boot) with one sentence naming the key,
# and ./build.sh stops on it before doing anything with the configuration.
# Cases: plain-http KBS urls (and the removed allow_plain_http), an https
# imds_url, a secret for the environment named like a [workload] env entry,
# a kernel command line longer than x86 Linux keeps (COMMAND_LINE_SIZE 2048
# with the NUL, cmdline_size 2047 in the pinned kernel's setup header),
# unknown keys and options.  Needs `make` (build/bin/cvm-image).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
img=$top/build/bin/cvm-image
conf=$top/configs/demo.conf
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}
[ -x "$img" ] || { echo "test-image-config: fatal: unable to run: $img not built (make)" >&2; exit 1; }

pin=$(printf '%064d' 0)
kbs=(--network-mode dhcp --kbs-url https://kbs.example:8443 --kbs-pin "$pin")

# refused NAME PATTERN ARGS...: exit 2 and stderr matching PATTERN.
refused() {
	local name=$1 pat=$2; shift 2
	"$img" config --config "$conf" --check "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	check "$name: exit 2" test "$rc" -eq 2
	check "$name: names it" grep -qE -- "$pat" "$tmp/err"
	check "$name: one line" test "$(wc -l <"$tmp/err")" -eq 1
	check "$name: nothing on stdout" test ! -s "$tmp/out"
}
accepted() {
	local name=$1; shift
	"$img" config --config "$conf" --check "$@" >"$tmp/out" 2>"$tmp/err"
	check "$name: exit 0" test $? -eq 0
	check "$name: silent" test ! -s "$tmp/out" -a ! -s "$tmp/err"
}

accepted "demo config" 
accepted "kbs over https" "${kbs[@]}" --kbs-secret "S kbs:///r/t/x env"
accepted "report_evidence = require with a network" --init-report-evidence require --network-mode dhcp
accepted "fixed report_nonce" --init-report-nonce "$(printf '%064d' 7)"

# [kbs] allow_plain_http is gone: plain HTTP lets the network choose the secrets.
refused "http kbs url" "\[kbs\] url 'http://kbs.example:80'.*https://" \
	--network-mode dhcp --kbs-url http://kbs.example:80 --kbs-pin "$pin" --kbs-secret "S kbs:///r/t/x file"
refused "allow_plain_http option" "unknown option '--kbs-allow-plain-http'" "${kbs[@]}" --kbs-allow-plain-http yes
refused "allow_plain_http key" "kbs.allow_plain_http: no such configuration key" --set kbs.allow_plain_http=yes

# Values only the init interprets: cvm-image parses the init.conf it renders with
# the init's own parser, so what the init would refuse at boot is refused now.
refused "on_exit value" "init would refuse 'on_exit = sideways' at boot" --init-on-exit sideways
refused "report_pcrs value" "init would refuse 'report_pcrs = maybe' at boot" --init-report-pcrs maybe
refused "dump_eventlog value" "init would refuse 'dump_eventlog = 2x' at boot" --init-dump-eventlog 2x
refused "report_evidence value" "init would refuse 'report_evidence = always' at boot" --init-report-evidence always
refused "report_nonce not hex" "init would refuse 'report_nonce = 00112233445566zz' at boot" --init-report-nonce 00112233445566zz
refused "report_nonce too short (8 bytes minimum)" "init would refuse 'report_nonce = 00112233' at boot" --init-report-nonce 00112233
refused "report_evidence = require without a network" "init would refuse" --init-report-evidence require
refused "report_evidence = require without the report" "init would refuse" --init-report-evidence require \
	--network-mode dhcp --init-report-pcrs no
accepted "on_exit reboot" --init-on-exit reboot

# IMDS speaks plain HTTP only.
refused "https imds_url" "imds_url 'https://169.254.169.254'" "${kbs[@]}" --kbs-secret "S kbs:///r/t/x file" \
	--kbs-imds-url https://169.254.169.254

# A secret for the environment and a configured variable of the same name.
refused "secret env name = env entry" "secret TOKEN: the workload's environment already sets TOKEN" \
	"${kbs[@]}" --workload-env TOKEN=x --kbs-secret "TOKEN kbs:///r/t/x env"
refused "sealed file,env name = env entry" "sealed TOKEN: the workload's environment already sets TOKEN" \
	"${kbs[@]}" --workload-env TOKEN=x --kbs-sealed "TOKEN sealed.aGVhZA.cGF5bG9hZA.c2ln file,env"
accepted "secret file named like an env entry" "${kbs[@]}" --workload-env TOKEN=x --kbs-secret "TOKEN kbs:///r/t/x file"
accepted "env entry that only starts like the secret" "${kbs[@]}" --workload-env TOKEN2=x \
	--kbs-secret "TOKEN kbs:///r/t/x env"

# The kernel command line: 2047 bytes fit, 2048 do not.
long=$(head -c 2048 /dev/zero | tr '\0' x)
accepted "2047-byte cmdline" --kernel-cmdline "${long:0:2047}"
refused "2048-byte cmdline" "2048 bytes, but x86 Linux keeps at most 2047" --kernel-cmdline "$long"
refused "5000-byte cmdline" "5000 bytes, but x86 Linux keeps at most 2047" \
	--kernel-cmdline "$(head -c 5000 /dev/zero | tr '\0' x)"
# The limit is the pinned kernel's own (boot protocol >= 2.06: cmdline_size at 0x238).
if kernel=$(scripts/kernel.sh vmlinuz 2>/dev/null) && [ -f "$kernel" ]; then
	check "pinned kernel's cmdline_size is 2047" \
		test "$(od -An -tu4 -j $((0x238)) -N4 "$kernel" | tr -d ' ')" = 2047
elif [ "${CI:-}" = true ]; then
	echo "test-image-config: fatal: unable to find the pinned kernel (scripts/kernel.sh vmlinuz)" >&2; exit 1
else
	echo "test-image-config: SKIP: the pinned kernel is not extracted (scripts/kernel.sh vmlinuz)"
fi

# Unknown keys and options: cvm-image's own sentence.
refused "unknown --set key" "unable to set foo.bar: no such configuration key" --set foo.bar=1
refused "unknown option" "unknown option '--workload-bogus'" --workload-bogus x
refused "missing value" "missing value for '--kernel-cmdline'" --kernel-cmdline

# build.sh stops at the configuration step with cvm-image's error, before the kernel modules.
for args in "--set foo.bar=1" "--workload-bogus x" "--kernel-cmdline $long"; do
	# shellcheck disable=SC2086 # word splitting wanted, except for the long cmdline below
	if [ "${args#--kernel-cmdline}" != "$args" ]; then set -- --kernel-cmdline "$long"; else set -- $args; fi
	./build.sh --out "$tmp/out-build" "$@" >"$tmp/build.out" 2>"$tmp/build.err"
	rc=$?
	check "build.sh ${args:0:30}: exit 2" test "$rc" -eq 2
	check "build.sh ${args:0:30}: cvm-image's error" grep -q '^cvm-image: fatal: unable to ' "$tmp/build.err"
	check "build.sh ${args:0:30}: stopped at the configuration" \
		bash -c "! grep -q 'kernel modules\|kernel: fatal' '$tmp/build.err'"
	check "build.sh ${args:0:30}: no output" test ! -e "$tmp/out-build/uki.efi"
done

# --check --get KEY (build.sh's one call): the value only once the whole
# configuration passed, else the error and nothing on stdout.
"$img" config --config "$conf" --check --get kernel.modules >"$tmp/out" 2>"$tmp/err"
check "--check --get: exit 0, the modules" bash -c "[ $? -eq 0 ] && grep -qw virtio_blk '$tmp/out' && [ ! -s '$tmp/err' ]"
"$img" config --config "$conf" --check --get kernel.modules --set foo.bar=1 >"$tmp/out" 2>"$tmp/err"
check "--check --get, unknown key: exit 2, nothing printed" bash -c "[ $? -eq 2 ] && [ ! -s '$tmp/out' ] && grep -q foo.bar '$tmp/err'"
"$img" config --config "$conf" --check --get kernel.modules --kernel-cmdline "$(head -c 3000 /dev/zero | tr '\0' x)" >"$tmp/out" 2>"$tmp/err"
check "--check --get, a value the build refuses: exit 2, nothing printed" bash -c "[ $? -eq 2 ] && [ ! -s '$tmp/out' ]"

# build.sh --help: the description, then one option list, no shell lines.
./build.sh --help >"$tmp/help" 2>&1
check "build.sh --help exits 0" test $? -eq 0
check "build.sh --help has no shell lines" bash -c "! grep -q 'set -euo\|^top=' '$tmp/help'"
check "build.sh --help: one options heading" test "$(grep -ci 'options (' "$tmp/help")" -eq 1
check "build.sh --help lists --kernel-cmdline" grep -q -- '--kernel-cmdline' "$tmp/help"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
