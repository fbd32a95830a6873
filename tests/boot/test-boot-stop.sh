#!/usr/bin/env bash
# Graceful stop: PID 1 turns a stop request into SIGTERM for the workload's
# process group, [init] stop_timeout seconds of grace, SIGKILL, sync and
# power-off (or reboot).  Four boots, with tests/boot/stop-wl.c as workload:
#   cad       QEMU's monitor sends Ctrl-Alt-Del (the kernel hands it to PID 1
#             as SIGINT: reboot); parent and child print from their handlers
#   poweroff  the workload runs /sbin/poweroff itself (SIGTERM: power off), as
#             the kernel's hv_utils does on an Azure Stop
#   ignore    the workload ignores SIGTERM: SIGKILL after stop_timeout = 2
#   early     Ctrl-Alt-Del while the init still waits for a NIC: the boot ends
#             there, no workload, no fatal error, no panic
# Times are measured twice: on the host (request to QEMU's exit) and from the
# init's own CLOCK_BOOTTIME stamps.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

work=$BOOT_WORK/stop
rm -rf "$work"; mkdir -p "$work"
boot_pid=
cleanup() { [ -n "$boot_pid" ] && pkill -TERM -P "$boot_pid" 2>/dev/null; return 0; }
trap cleanup EXIT

now() { date +%s.%N; }
span() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }
within() { # within VALUE LOW HIGH
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}
# guest_span LOG REGEX1 REGEX2: seconds between the init's stamps on the
# first lines matching each regex
guest_span() {
	local a b
	a=$(grep -m1 -E "$2" "$1" | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p')
	b=$(grep -m1 -E "$3" "$1" | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p')
	[ -n "$a" ] && [ -n "$b" ] && span "$a" "$b"
}

# boot_bg DISK PREFIX [QEMU ARGS...]: boot_disk in the background.
boot_bg() {
	boot_disk "$@" &
	boot_pid=$!
}
boot_wait() { # sets rc and t_end
	wait "$boot_pid"
	rc=$?
	t_end=$(now)
	boot_pid=
}
# wait_serial FILE REGEX: until the line appears; fails if QEMU ends first.
wait_serial() {
	while ! grep -qE "$2" "$1" 2>/dev/null; do
		kill -0 "$boot_pid" 2>/dev/null || return 1
		sleep 0.1
	done
}
monitor() { # monitor SOCKET COMMAND: one human-monitor command
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
buf = b""
while b"(qemu)" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(1)
    buf += chunk
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.2)
EOF
}

echo "== stop: build the test workload"
if ! musl-gcc -std=gnu11 -Os -Wall -Wextra -Werror -static -s -o "$work/stop-wl" tests/boot/stop-wl.c 2>"$work/cc.log"; then
	cat "$work/cc.log" >&2; not_ok "build stop-wl"; boot_summary; exit 1
fi
ok "stop-wl built ($(stat -c %s "$work/stop-wl") bytes)"

echo "== build: [init] stop_timeout is checked when the image is built"
for bad in 3601 -1 10s ''; do
	if build_image stop-bad --workload "$work/stop-wl" --init-stop-timeout "$bad" 2>/dev/null; then
		not_ok "stop_timeout '$bad' accepted"
	else
		check "stop_timeout '$bad' refused, naming the key" \
			grep -q "unable to use \[init\] stop_timeout '$bad': 0-3600 seconds" "$BOOT_WORK/stop-bad.build.log"
	fi
done

echo "== boot: Ctrl-Alt-Del from QEMU's monitor (default stop_timeout 10 s)"
if build_image stop-cad --workload "$work/stop-wl" --workload-arg term; then
	mon=$work/cad.mon
	boot_bg "$BOOT_WORK/stop-cad/disk.raw" "$work/cad" -monitor "unix:$mon,server=on,wait=off"
	log=$work/cad.serial
	if wait_serial "$log" '^stop-wl: ready'; then
		sleep 0.5 # the child's handler is in place once it runs; give it a moment
		t_req=$(now)
		monitor "$mon" "sendkey ctrl-alt-delete"
		boot_wait
		secs=$(span "$t_req" "$t_end")
		echo "  (Ctrl-Alt-Del to QEMU's exit: $secs s)"
		check "QEMU ended by itself (exit $rc)" [ "$rc" -eq 0 ]
		check "init: Ctrl-Alt-Del arrived as SIGINT, SIGTERM to the process group with 10 s grace" \
			grep -q "init: stop: SIGINT (Ctrl-Alt-Del or reboot) received: SIGTERM to the workload's process group, 10 s grace" "$log"
		check "workload's SIGTERM handler ran (parent)" grep -q '^stop-wl: parent: SIGTERM handler ran' "$log"
		check "workload's SIGTERM handler ran (child, same process group)" grep -q '^stop-wl: child: SIGTERM handler ran' "$log"
		check "init: workload exited (not killed)" grep -Eq 'init: stop: workload exited [0-9.]+ s after the request' "$log"
		check "init: exit status 0 mirrored" grep -q 'init: workload exited with status 0' "$log"
		check "init: reboot (the request was Ctrl-Alt-Del)" grep -q 'init: rebooting' "$log"
		check "no SIGKILL needed" bash -c "! grep -q 'SIGKILL' '$log'"
		check "within the grace period ($secs s < 10 s)" within "$secs" 0 10
		g=$(guest_span "$log" 'init: stop: SIG' 'init: rebooting')
		echo "  (init's stamps: request to reboot $g s)"
		check "init's own stamps: request to reboot < 10 s ($g s)" within "$g" 0 10
		check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
	else
		boot_wait
		not_ok "workload never became ready (QEMU exit $rc); see $log"
	fi
else
	not_ok "build the Ctrl-Alt-Del image"
fi

echo "== boot: the workload runs /sbin/poweroff"
if build_image stop-poweroff --workload "$work/stop-wl" --workload-arg poweroff; then
	boot_bg "$BOOT_WORK/stop-poweroff/disk.raw" "$work/poweroff"
	log=$work/poweroff.serial
	if wait_serial "$log" '^stop-wl: running /sbin/poweroff'; then
		t_req=$(now)
		boot_wait
		secs=$(span "$t_req" "$t_end")
		echo "  (/sbin/poweroff to QEMU's exit: $secs s)"
		check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
		check "init: SIGTERM from /sbin/poweroff, 10 s grace" \
			grep -q "init: stop: SIGTERM (poweroff) received: SIGTERM to the workload's process group, 10 s grace" "$log"
		check "workload's SIGTERM handler ran (parent)" grep -q '^stop-wl: parent: SIGTERM handler ran' "$log"
		check "workload's SIGTERM handler ran (child)" grep -q '^stop-wl: child: SIGTERM handler ran' "$log"
		check "init: exit status 0 mirrored" grep -q 'init: workload exited with status 0' "$log"
		check "init: power off (the request was poweroff)" grep -q 'init: powering off' "$log"
		check "within the grace period ($secs s < 10 s)" within "$secs" 0 10
		g=$(guest_span "$log" 'init: stop: SIG' 'init: powering off')
		echo "  (init's stamps: request to power-off $g s)"
		check "init's own stamps: request to power-off < 10 s ($g s)" within "$g" 0 10
		check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
	else
		boot_wait
		not_ok "workload never ran /sbin/poweroff (QEMU exit $rc); see $log"
	fi
else
	not_ok "build the poweroff image"
fi

echo "== boot: a workload that ignores SIGTERM is killed after stop_timeout = 2 s"
if build_image stop-ignore --workload "$work/stop-wl" --workload-arg ignore --init-stop-timeout 2; then
	boot_bg "$BOOT_WORK/stop-ignore/disk.raw" "$work/ignore"
	log=$work/ignore.serial
	if wait_serial "$log" '^stop-wl: running /sbin/poweroff'; then
		t_req=$(now)
		boot_wait
		secs=$(span "$t_req" "$t_end")
		echo "  (/sbin/poweroff to QEMU's exit: $secs s)"
		check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
		check "init: 2 s grace announced" grep -q "init: stop: SIGTERM (poweroff) received: SIGTERM to the workload's process group, 2 s grace" "$log"
		check "init: SIGKILL after the grace" grep -q "init: stop: 2 s grace over: SIGKILL to the workload's process group" "$log"
		check "init: workload killed" grep -Eq 'init: stop: workload killed [0-9.]+ s after the request' "$log"
		check "init: status 137 (128 + SIGKILL) mirrored" grep -q 'init: workload exited with status 137' "$log"
		check "init: power off" grep -q 'init: powering off' "$log"
		g=$(guest_span "$log" 'init: stop: SIG' 'init: stop: 2 s grace over')
		echo "  (init's stamps: request to SIGKILL $g s)"
		check "SIGKILL 2 s after the request by the init's clock ($g s)" within "$g" 1.9 3.0
		# The host sees the line up to a poll (0.1 s) and a serial flush late,
		# so its lower bound is looser than the init's own 1.9 s above.
		check "host: not well before the grace ended, not long after ($secs s, 2 s grace)" within "$secs" 1.5 12
	else
		boot_wait
		not_ok "workload never ran /sbin/poweroff (QEMU exit $rc); see $log"
	fi
else
	not_ok "build the ignore image"
fi

echo "== boot: Ctrl-Alt-Del before the workload started (waiting for a NIC)"
if build_image stop-early --workload "$work/stop-wl" --network-mode dhcp --network-timeout 300; then
	mon=$work/early.mon
	boot_bg "$BOOT_WORK/stop-early/disk.raw" "$work/early" -nic none -monitor "unix:$mon,server=on,wait=off"
	log=$work/early.serial
	if wait_serial "$log" 'init: phase network'; then
		sleep 1
		t_req=$(now)
		monitor "$mon" "sendkey ctrl-alt-delete"
		boot_wait
		secs=$(span "$t_req" "$t_end")
		echo "  (Ctrl-Alt-Del to QEMU's exit: $secs s)"
		check "QEMU ended by itself (exit $rc)" [ "$rc" -eq 0 ]
		check "init: stop in phase network, before the workload" \
			grep -q 'init: stop: SIGINT (Ctrl-Alt-Del or reboot) received in phase network, before the workload started' "$log"
		check "init: reboot" grep -q 'init: rebooting' "$log"
		check "workload never ran" bash -c "! grep -q 'init: phase workload' '$log' && ! grep -q '^stop-wl:' '$log'"
		check "no fatal error" bash -c "! grep -q 'init: fatal' '$log'"
		check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
		check "ended at once, not after the 300 s network timeout ($secs s)" within "$secs" 0 10
	else
		boot_wait
		not_ok "never reached the network phase (QEMU exit $rc); see $log"
	fi
else
	not_ok "build the early-stop image"
fi
boot_summary
