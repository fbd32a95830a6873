#!/usr/bin/env bash
# Container images as the workload, booted.
#  1. hello-openshift's shape: a one-layer OCI image (FROM scratch) holding the
#     demo server as a static binary, config Entrypoint only, User 1001,
#     ExposedPorts 8080/tcp; built offline with tests/tools/mkoci.py (Python's
#     tarfile/gzip/hashlib) and checked by Debian's umoci; booted with a QEMU
#     hostfwd; the host fetches "Hello OpenShift!"; the process reports uid 1001.
#  2. a distribution-style rootfs: Debian's dash, id, ls, cat with their
#     loader and libraries (from this Debian host) in layer 1, a second layer
#     whiting out a file of the first; the image's User is a name resolved from
#     its /etc/passwd.  Booted as the proof boot: every PCR predicted from
#     disk.raw equals the TPM, and the boot report names the image's digests.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

work=$BOOT_WORK/oci
rm -rf "$work"; mkdir -p "$work"
qemu_pid=""
cleanup() { [ -n "$qemu_pid" ] && [ -f "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null; }
trap cleanup EXIT
M=$BOOT_TOP/build/bin/cvm-measure
jqq() { jq -e "$@" >/dev/null; }
same() { [ -n "$1" ] && [ "$1" != null ] && [ "$1" = "$2" ]; }
names_image() { # names_image REPORT.json MANIFEST CONFIG
	[ -s "$1" ] && jq -e --arg m "$2" --arg c "$3" '.workload_image == {manifest_digest: $m, config_digest: $c}' "$1" >/dev/null
}
for tool in umoci python3 curl jq; do
	command -v "$tool" >/dev/null || { not_ok "$tool is installed (scripts/setup-host.sh test)"; boot_summary; exit 1; }
done
make -s -j2 all >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; not_ok "build"; boot_summary; exit 1; }

echo "== oci 1: hello-openshift shape (static server, User 1001, Entrypoint only), hostfwd"
tests/tools/mkoci.py "$work/hello" --tag latest --entrypoint /hello-openshift --user 1001 --expose 8080/tcp \
	--layer hello-openshift=build/guest/hello:0755 >"$work/hello.ids"
read -r manifest config <"$work/hello.ids"
check "umoci (independent reader) unpacks the image: Entrypoint and uid 1001" bash -c \
	"umoci unpack --rootless --image '$work/hello:latest' '$work/hello.bundle' >/dev/null 2>&1 &&
	 [ \"\$(jq -c '[.process.args, .process.user.uid]' '$work/hello.bundle/config.json')\" = '[[\"/hello-openshift\"],1001]' ]"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if build_image oci-hello --workload-image "$work/hello:latest" --network-mode dhcp \
	--workload-arg --whoami --workload-arg --serve --workload-arg 8080; then
	W=$BOOT_WORK/oci-hello
	check "build summary names the manifest digest" grep -q "manifest $manifest" "$W.build.log"
	check "workload-image.json has both digests" \
		jqq --arg m "$manifest" --arg c "$config" '.manifest_digest == $m and .config_digest == $c' "$W/workload-image.json"
	check "measurements.json names the image" \
		jqq --arg m "$manifest" --arg c "$config" '.workload_image.manifest_digest == $m and .workload_image.config_digest == $c' "$W/measurements.json"
	boot_disk "$W/disk.raw" "$work/hello" -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080" \
		-device virtio-net-pci,netdev=n0 -pidfile "$work/qemu.pid" &
	qemu_pid=$!
	got=""
	for _ in $(seq 600); do
		got=$(curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.5
	done
	check "host fetched 'Hello OpenShift!' through hostfwd (port $port)" [ "$got" = "Hello OpenShift!" ]
	log=$work/hello.serial
	check "the process runs as uid 1001 gid 0 with no supplementary groups" grep -q 'hello: uid 1001 gid 0 groups 0 cwd /' "$log"
	grep -a -o 'CVMKIT-MEASURED-BOOT {.*' "$log" | tail -n 1 | tr -d '\r' | sed 's/^CVMKIT-MEASURED-BOOT //' >"$work/hello.report.json"
	check "the boot report names the image's digests" names_image "$work/hello.report.json" "$manifest" "$config"
	check "the DHCP lease's DNS server is the container's /etc/resolv.conf" grep -q 'hello: nameserver 10.0.2.3' "$log"
	[ -f "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null
	wait "$qemu_pid" 2>/dev/null
	qemu_pid=""
else
	not_ok "build the hello-openshift image"
fi

echo "== oci 2: Debian programs with loader and libraries, a whiteout in layer 2, proof boot"
libs=$(ldd /usr/bin/dash /usr/bin/id /usr/bin/ls /usr/bin/cat | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/lib64/ { print $1 }' | sort -u)
specs=(bin-\>usr/bin lib-\>usr/lib lib64-\>usr/lib64 usr/ usr/bin/ usr/lib/ usr/lib/x86_64-linux-gnu/ usr/lib64/
	usr/bin/dash=/usr/bin/dash usr/bin/sh-\>dash usr/bin/id=/usr/bin/id usr/bin/ls=/usr/bin/ls usr/bin/cat=/usr/bin/cat
	etc/ etc/passwd="$work/passwd" etc/group="$work/group" data/ data/keep="$work/keep" data/gone="$work/gone")
for l in $libs; do
	real=$(readlink -f "$l")
	case $l in
	/lib64/*) specs+=("usr/lib64/$(basename "$l")->../lib/x86_64-linux-gnu/$(basename "$real")") ;;
	*) specs+=("usr/lib/x86_64-linux-gnu/$(basename "$l")=$real") ;;
	esac
done
# the loader itself, under its real name (the /lib64 symlink points there)
ld=$(ldd /usr/bin/dash | awk '$1 ~ /^\/lib64/ { print $1 }')
specs+=("usr/lib/x86_64-linux-gnu/$(basename "$(readlink -f "$ld")")=$(readlink -f "$ld")")
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234:app:/data:/bin/sh\n' >"$work/passwd"
printf 'root:x:0:\napp:x:1234:\nextra:x:4321:app\n' >"$work/group"
echo "kept file" >"$work/keep"; echo "whited out" >"$work/gone"
tests/tools/mkoci.py "$work/distro" --tag v1 --entrypoint /bin/sh --cmd -c \
	--cmd 'id; echo "ls:" $(ls -A /data); cat /data/keep; m=; while read -r d p r; do m="$m $p"; done </proc/mounts; echo "mounts:$m"' \
	--user app --workdir /data \
	--layer "${specs[@]}" --layer "data/gone=-" data/new="$work/keep" >"$work/distro.ids"
read -r dmanifest dconfig <"$work/distro.ids"
check "umoci unpacks it: data/gone absent, data/keep present" bash -c \
	"umoci unpack --rootless --image '$work/distro:v1' '$work/distro.bundle' >/dev/null 2>&1 &&
	 [ -f '$work/distro.bundle/rootfs/data/keep' ] && [ ! -e '$work/distro.bundle/rootfs/data/gone' ]"
if build_image oci-distro --workload-image "$work/distro:v1" --init-dump-eventlog yes; then
	W=$BOOT_WORK/oci-distro
	"$M" predict "$W/disk.raw" --json >"$W.pred.json"
	boot_disk "$W/disk.raw" "$work/distro" -nodefaults
	rc=$?
	tr -d '\r' <"$work/distro.serial" >"$work/distro.log"
	log=$work/distro.log
	echo "  (booted in $(cat "$work/distro.seconds") s)"
	check "QEMU powered off by itself (exit $rc)" [ "$rc" -eq 0 ]
	check "the program ran as the image's User 'app' (uid 1234 gid 1234, no other groups)" \
		grep -q 'uid=1234(app) gid=1234(app) groups=1234(app)$' "$log"
	check "the whited-out file is absent, the others present" grep -q '^ls: keep new$' "$log"
	check "file content from layer 1" grep -q '^kept file' "$log"
	check "/proc /sys /dev /dev/pts /run /tmp mounted inside" \
		grep -q '^mounts: / /proc /sys /dev /dev/pts /dev/shm /run /tmp$' "$log"
	check "exit status mirrored (0)" grep -q 'init: workload exited with status 0' "$log"
	grep -a -o 'CVMKIT-MEASURED-BOOT {.*' "$log" | tail -n 1 | tr -d '\r' | sed 's/^CVMKIT-MEASURED-BOOT //' >"$W.report.json"
	check "the boot report names the image's digests" names_image "$W.report.json" "$dmanifest" "$dconfig"
	for bank in sha256 sha384; do
		for pcr in 4 5 7 9 11 12; do
			p=$(jq -r ".pcrs[\"$pcr\"].values.$bank" "$W.pred.json")
			t=$(jq -r ".pcrs.$bank[\"$pcr\"]" "$W.report.json" 2>/dev/null)
			check "PCR $pcr $bank: predicted ${p:0:16}... = TPM ${t:0:16}..." same "$p" "$t"
		done
	done
else
	not_ok "build the distribution image"
fi
boot_summary
