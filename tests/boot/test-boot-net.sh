#!/usr/bin/env bash
# Boots images with [network] under QEMU user-mode networking and checks,
# from inside the guest, that the init brought the network up: a test
# workload (tests/boot/net-get.c, cvmkit's own HTTP and TLS client) GETs a
# token from HTTP and HTTPS (pinned key) servers on the host's 127.0.0.1,
# which the guest reaches as 10.0.2.2.  Then the failure paths: DHCP with no
# answer and no NIC at all must each print the one-line failure and power
# off within the configured timeout, without running the workload.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

work=$BOOT_WORK/net
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

echo "== net: build the test workload"
make -s -j2 guest >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; not_ok "build the guest objects"; boot_summary; exit 1; }
musl_cppflags=$(sed -n 's/^DEPS_MUSL_CPPFLAGS *:= *//p' build/deps.mk)
musl_ldflags=$(sed -n 's/^DEPS_MUSL_LDFLAGS *:= *//p' build/deps.mk)
# shellcheck disable=SC2086
if ! musl-gcc -std=gnu11 -Os -D_GNU_SOURCE -Iinclude $musl_cppflags -static -Wl,--gc-sections -s \
	-o "$work/net-get" tests/boot/net-get.c build/musl/net/*.o build/musl/common/*.o \
	$musl_ldflags -lmbedtls -lmbedx509 -lmbedcrypto 2>"$work/cc.log"; then
	cat "$work/cc.log" >&2; not_ok "build net-get"; boot_summary; exit 1
fi
ok "net-get built ($(stat -c %s "$work/net-get") bytes)"

echo "== net: host servers (HTTP and HTTPS with a throwaway key) on 127.0.0.1"
token=cvmkit-net-$RANDOM$RANDOM
mkdir -p "$work/www" && printf '%s\n' "$token" >"$work/www/token"
(cd "$work" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.pem \
	-days 2 -subj /CN=10.0.2.2 -addext subjectAltName=IP:10.0.2.2 >openssl.log 2>&1)
pin=$(openssl x509 -in "$work/srv.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
python3 -u - "$work" >"$work/ports" 2>"$work/servers.log" <<'EOF' &
import http.server, os, socket, ssl, sys, threading
d = sys.argv[1]
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k): super().__init__(*a, directory=os.path.join(d, "www"), **k)
    def log_message(self, *a): pass
plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
tls = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
print(plain.server_address[1], tls.server_address[1], flush=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
plain.serve_forever()
EOF
pids+=($!)
for _ in $(seq 50); do [ -s "$work/ports" ] && break; sleep 0.1; done
read -r http_port https_port <"$work/ports" || true
check "servers listening (http $http_port, https $https_port)" test -n "${https_port:-}"
check "host can fetch the token" bash -c "curl -fsS http://127.0.0.1:$http_port/token | grep -q $token"

usernet=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
urls=("http://10.0.2.2:$http_port/token" "$token" --pin "$pin" "https://10.0.2.2:$https_port/token" "$token")
wl_args=()
for a in "${urls[@]}"; do wl_args+=(--workload-arg "$a"); done

# seconds between the "phase network" line and the fatal line, from the
# init's own timestamps
phase_to_fatal() {
	local s f
	s=$(sed -nE 's/^\[ *([0-9]+\.[0-9]+)\] init: phase network.*/\1/p' "$1")
	f=$(sed -nE 's/^\[ *([0-9]+\.[0-9]+)\] init: fatal: unable to bring up the network.*/\1/p' "$1")
	[ -n "$s" ] && [ -n "$f" ] && awk -v s="$s" -v f="$f" 'BEGIN { printf "%.1f\n", f - s }'
}
within() { # within VALUE LOW HIGH
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'
}

echo "== boot: DHCP, then HTTP and HTTPS from the guest"
if build_image net-dhcp --network-mode dhcp --network-timeout 30 --workload "$work/net-get" "${wl_args[@]}"; then
	boot_disk "$BOOT_WORK/net-dhcp/disk.raw" "$work/dhcp" "${usernet[@]}"
	rc=$?
	log=$work/dhcp.serial
	echo "  (booted in $(cat "$work/dhcp.seconds") s)"
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "network phase ran" grep -q 'init: phase network' "$log"
	check "DHCP lease applied (10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3)" \
		grep -Eq 'init: network: [a-z0-9]+ 10\.0\.2\.15/24 gateway 10\.0\.2\.2 dns 10\.0\.2\.3' "$log"
	check "guest fetched over HTTP" grep -q "net-get: ok http://10.0.2.2:$http_port/token" "$log"
	check "guest fetched over HTTPS with a pinned key" grep -q "net-get: ok https://10.0.2.2:$https_port/token (TLS, pinned key)" "$log"
	check "workload exit status 0" grep -q 'init: workload exited with status 0' "$log"
	check "no kernel panic" bash -c "! grep -q 'Kernel panic' '$log'"
else
	not_ok "build the DHCP image"
fi

echo "== boot: static addressing"
if build_image net-static --network-mode static --network-address 10.0.2.15/24 --network-gateway 10.0.2.2 \
	--network-dns 10.0.2.3 --workload "$work/net-get" --workload-arg "http://10.0.2.2:$http_port/token" \
	--workload-arg "$token"; then
	boot_disk "$BOOT_WORK/net-static/disk.raw" "$work/static" "${usernet[@]}"
	rc=$?
	log=$work/static.serial
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "static address applied" grep -Eq 'init: network: [a-z0-9]+ 10\.0\.2\.15/24 gateway 10\.0\.2\.2 dns 10\.0\.2\.3' "$log"
	check "no DHCP in static mode" bash -c "! grep -q 'DHCP' '$log'"
	check "guest fetched over HTTP" grep -q "net-get: ok http://10.0.2.2:$http_port/token" "$log"
	check "workload exit status 0" grep -q 'init: workload exited with status 0' "$log"
else
	not_ok "build the static image"
fi

echo "== boot: DHCP gets no answer (a NIC on an empty hub), timeout 5 s"
if build_image net-short --network-mode dhcp --network-timeout 5 --workload "$work/net-get" "${wl_args[@]}"; then
	boot_disk "$BOOT_WORK/net-short/disk.raw" "$work/noanswer" -netdev hubport,id=n0,hubid=0 \
		-device virtio-net-pci,netdev=n0
	rc=$?
	log=$work/noanswer.serial
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "one-line failure" grep -Eq 'init: fatal: unable to bring up the network: no DHCP lease on [a-z0-9]+ within 5 s' "$log"
	secs=$(phase_to_fatal "$log")
	check "kept trying for the whole timeout, then gave up (${secs:-?} s after the phase began)" within "$secs" 4.5 6.5
	check "workload never ran" bash -c "! grep -q 'init: phase workload' '$log' && ! grep -q 'net-get:' '$log'"
	check "power off announced" grep -q 'init: powering off' "$log"

	echo "== boot: no NIC at all"
	boot_disk "$BOOT_WORK/net-short/disk.raw" "$work/nonic" -nic none
	rc=$?
	log=$work/nonic.serial
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "one-line failure" grep -q 'init: fatal: unable to bring up the network: no network interface appeared within 5 s' "$log"
	secs=$(phase_to_fatal "$log")
	check "waited for the NIC for the whole timeout (${secs:-?} s after the phase began)" within "$secs" 4.5 6.5
	check "workload never ran" bash -c "! grep -q 'init: phase workload' '$log'"
else
	not_ok "build the short-timeout image"
fi
boot_summary
