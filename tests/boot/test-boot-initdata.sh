#!/usr/bin/env bash
# Initdata end to end: IMDS userData -> the init's initdata phase -> PCR 8 -> the attest request's
# init-data -> the KBS (Trustee's PCR 8 check, snp_pcr08 from `cvm-measure reference-values
# --initdata`) -> secrets, with the KBS URL and CA taken from the initdata's aa.toml.
#
# The rig is test-boot-kbs.sh's (simulated Azure SNP vTPM, tests/boot/imds.py over guestfwd, the
# test KBS tests/kbs/kbs.py), plus userData: imds.py serves the file named by $IMDS_USER_DATA.
#
# Cases (../shared/notes/initdata.md):
#   native userData (base64 TOML)        PCR 8 read back in the guest = `cvm-measure initdata`'s
#                                        prediction; KBS affirms and releases; /run/initdata holds
#                                        the exact bytes, read-only
#   peer-pod userData (cloud-config with base64(gzip(TOML)))   same PCR 8, same result
#   another document than published      KBS refuses (PolicyDeny on snp_pcr08); workload never runs
#   no userData, image-configured KBS    PCR 8 stays zero; secrets delivered
#   require = yes, no userData           fail closed before any attestation; workload never runs
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BOOT_TOP"

kbs_test_begin initdata swtpm swtpm_setup tpm2_nvdefine musl-gcc qemu-system-x86_64 jq
$py -c 'import cryptography, jwcrypto, tomllib' 2>/dev/null || bail "python3-cryptography, python3-jwcrypto and tomllib"

echo "== initdata: tools, the test workload and the rig"
make -s -j2 guest build/bin/cvm-image build/bin/cvm-measure >"$work/make.log" 2>&1 || { cat "$work/make.log" >&2; bail "build"; }
init_size=$(stat -c %s build/guest/init)
echo "  init: $init_size bytes ($((init_size / 1024)) KiB)"
check "init <= 512 KiB ($init_size bytes)" [ "$init_size" -le 524288 ]
musl_cppflags=$(sed -n 's/^DEPS_MUSL_CPPFLAGS *:= *//p' build/deps.mk)
musl_ldflags=$(sed -n 's/^DEPS_MUSL_LDFLAGS *:= *//p' build/deps.mk)
# shellcheck disable=SC2086
musl-gcc -std=gnu11 -O2 -D_GNU_SOURCE -Iinclude $musl_cppflags -static -Wl,--gc-sections -s \
	-o "$work/secret-digest" tests/boot/secret-digest.c build/musl/common/*.o $musl_ldflags -lmbedcrypto -lz \
	2>"$work/cc.log" || { cat "$work/cc.log" >&2; bail "build secret-digest"; }
tests/tools/azure-vtpm-sim.sh provision --state "$work/state" --out "$work/sim" >"$work/provision.log" 2>&1 ||
	{ cat "$work/provision.log" >&2; bail "provision the simulated vTPM"; }
ok "simulated Azure vTPM provisioned"

S1="initdata-boot-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
res=$work/resources
mkdir -p "$res/default/key"
printf '%s' "$S1" >"$res/default/key/one"
D1=$(printf '%s' "$S1" | sha256sum | cut -c1-64)

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
kbs_state=$work/kbs-state
start_kbs() { # RV-FILE
	rm -f "$kbs_state/port"
	$py tests/kbs/kbs.py --state "$kbs_state" --port "$port" --amd-root "$work/sim/amd-root.pem" \
		--reference-values "$1" --resources "$res" 2>>"$work/kbs.log" &
	kbs_pid=$!
	for _ in $(seq 100); do [ -s "$kbs_state/port" ] && return 0; sleep 0.1; done
	return 1
}
stop_kbs() { [ -n "$kbs_pid" ] && { kill "$kbs_pid" 2>/dev/null; wait "$kbs_pid" 2>/dev/null; }; kbs_pid=; }
$py -c 'import base64, json; print(json.dumps({"version":"0.1.0","type":"sample","payload":base64.b64encode(json.dumps({"snp_pcr11":["00"*32]}).encode()).decode()}))' >"$work/rv-placeholder.json"
start_kbs "$work/rv-placeholder.json" || bail "start the test KBS"
stop_kbs
ok "test KBS CA made (port $port)"

# The deployment's initdata: the KBS URL and its CA in aa.toml (never in the image).
mkdoc() { # OUT COMMENT
	{
		printf 'version = "0.1.0"\nalgorithm = "sha256"\n%s\n[data]\n"aa.toml" = '"'''"'\n' "$2"
		printf '[token_configs.kbs]\nurl = "https://169.254.0.2:%s"\ncert = """\n' "$port"
		cat "$kbs_state/ca.pem"
		printf '"""\n'"'''"'\n"cdh.toml" = '"'''"'\nsocket = "unix:///run/confidential-containers/cdh.sock"\n'"'''"'\n'
	} >"$1"
}
mkdoc "$work/a.toml" "# deployment A"
mkdoc "$work/b.toml" "# deployment B"
build/bin/cvm-measure initdata "$work/a.toml" --user-data-base64 "$work/ud-native" --json >"$work/a.json" &&
	build/bin/cvm-measure initdata "$work/a.toml" --form peer-pod --user-data-base64 "$work/ud-peerpod" >/dev/null &&
	build/bin/cvm-measure initdata "$work/b.toml" --user-data-base64 "$work/ud-b" >/dev/null || bail "cvm-measure initdata"
pcr8_a=$(jq -r .pcr8.sha256 "$work/a.json")
# Independent of the code under test: Python's hashlib over the file.
want_a=$($py -c 'import hashlib, sys; print(hashlib.sha256(bytes(32) + hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).hexdigest())' "$work/a.toml")
check "cvm-measure initdata predicts PCR 8 = SHA-256(0^32 || SHA-256(doc)) (hashlib)" [ "$pcr8_a" = "$want_a" ]

common=(--network-mode dhcp --network-timeout 20 --kbs-evidence-version 1 --kbs-timeout 10
	--kbs-secret "ONE kbs:///default/key/one file"
	--workload "$work/secret-digest" --workload-arg file:ONE
	--workload-arg path:/run/initdata/initdata.toml --workload-arg ro:/run/initdata/initdata.toml)
echo "== initdata: images"
build_image initdata-url "${common[@]}" --kbs-url initdata --initdata-require yes || bail "build the url = initdata image"
build_image initdata-fixed "${common[@]}" --kbs-url "https://169.254.0.2:$port" --kbs-ca "$kbs_state/ca.pem" ||
	bail "build the image-configured KBS image"
ok "images built (url = initdata with require = yes; a fixed KBS)"
build/bin/cvm-measure reference-values "$BOOT_WORK/initdata-url/disk.raw" --initdata "$work/a.toml" >"$work/rv-a.json" ||
	bail "reference values with --initdata"
rv_fixed=$BOOT_WORK/initdata-fixed/reference-values.json
check "published snp_pcr08 = the prediction for document A" \
	bash -c "jq -r .payload '$work/rv-a.json' | base64 -d | jq -e --arg v '$pcr8_a' '.snp_pcr08 == [\$v]' >/dev/null"
check "without initdata the published snp_pcr08 is zero" \
	bash -c "jq -r .payload '$rv_fixed' | base64 -d | jq -e '.snp_pcr08 == [\"$(printf '0%.0s' $(seq 64))\"]' >/dev/null"

net=(-netdev "user,id=n0,net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,dns=169.254.0.3,guestfwd=tcp:169.254.169.254:80-cmd:$py $BOOT_TOP/tests/boot/imds.py $work/sim/thim-certification.json $work/imds.log"
	-device virtio-net-pci,netdev=n0,romfile=)
boot() { # NAME IMAGE [USERDATA-FILE]
	IMDS_USER_DATA=${3:-} BOOT_TPM_STATE=$work/state boot_disk "$BOOT_WORK/$2/disk.raw" "$work/$1" -nodefaults "${net[@]}"
}
ts() { grep -aE "$2" "$1" | head -n1 | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p'; }
no_workload() { ! grep -aq 'init: phase workload' "$1" && ! grep -aq '^secret ' "$1"; }
fatal_line() { grep -a 'init: fatal: unable to' "$1" | head -n1 | sed 's/^\[[^]]*\] //'; }
doc_sha=$(sha256sum "$work/a.toml" | cut -c1-64)

affirmed() { # NAME FORM
	local log=$work/$1.serial
	echo "  (booted in $(cat "$work/$1.seconds") s)"
	check "$1: QEMU powered off by itself" grep -aq 'init: powering off' "$log"
	check "$1: initdata read in the $2 form" grep -aq "init: initdata: $2 form, $(stat -c %s "$work/a.toml") bytes, sha256 " "$log"
	check "$1: PCR 8 read back from the vTPM = cvm-measure initdata's prediction" \
		grep -aq "init: initdata: PCR 8 sha256 $pcr8_a" "$log"
	check "$1: initdata phase before the attest phase" \
		awk -v a="$(ts "$log" 'init: phase initdata')" -v b="$(ts "$log" 'init: phase attest')" 'BEGIN { exit !(a != "" && b != "" && a < b) }'
	check "$1: attested to the KBS named by initdata" grep -aq "init: attest: az-snp-vtpm vTPM.*KBS https://169.254.0.2:$port" "$log"
	check "$1: workload got the secret (digest = resource)" grep -aq "^secret file:ONE sha256 $D1" "$log"
	check "$1: /run/initdata/initdata.toml = the document's exact bytes" grep -aq "^secret path:/run/initdata/initdata.toml sha256 $doc_sha mode 0444" "$log"
	check "$1: /run/initdata is read-only for the workload" grep -aq '^readonly /run/initdata/initdata.toml yes' "$log"
	check "$1: workload exit status 0" grep -aq 'init: workload exited with status 0' "$log"
}

echo "== boot: native userData, KBS holds document A's PCR 8"
start_kbs "$work/rv-a.json" || bail "start the KBS"
: >"$work/kbs.log"
boot native initdata-url "$work/ud-native"
affirmed native native
check "native: KBS checked init-data against PCR 8 (Trustee's rule)" grep -q 'init-data matches PCR 8 (keys: aa.toml, cdh.toml)' "$work/kbs.log"
check "native: IMDS asked for userData once, with Metadata: true" \
	bash -c "[ \$(grep -c 'GET /metadata/instance/compute/userData?api-version=2021-01-01&format=text HTTP/1.1 -> 200' '$work/imds.log') -eq 1 ]"
t0=$(ts "$work/native.serial" 'init: phase initdata') t1=$(ts "$work/native.serial" 'init: phase attest')
echo "  initdata phase (IMDS fetch + parse + extend + /run/initdata): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s under TCG"

echo "== boot: peer-pod userData (cloud-config, gzip)"
: >"$work/kbs.log"
boot peerpod initdata-url "$work/ud-peerpod"
affirmed peerpod "peer-pod cloud-config"

echo "== boot: another document than the published one"
boot other initdata-url "$work/ud-b"
log=$work/other.serial
echo "  $(fatal_line "$log")"
check "other: PCR 8 is document B's, not A's" bash -c "grep -a 'init: initdata: PCR 8 sha256' '$log' | grep -vq '$pcr8_a'"
check "other: KBS refused (PolicyDeny on the reference values)" \
	grep -aqE 'init: fatal: unable to fetch secret ONE from the KBS: step resource: HTTP 401 https://github.com/confidential-containers/kbs/errors/PolicyDeny.*snp_pcr08' "$log"
check "other: workload never ran" no_workload "$log"
stop_kbs

echo "== boot: no userData, image-configured KBS"
start_kbs "$rv_fixed" || bail "start the KBS"
rm -f "$work/imds.log"
boot none initdata-fixed
log=$work/none.serial
check "none: initdata phase saw no userData, PCR 8 stays zero" grep -aq 'init: initdata: none in IMDS userData (PCR 8 stays zero)' "$log"
check "none: the KBS (snp_pcr08 = zero) released the secret" grep -aq "^secret file:ONE sha256 $D1" "$log"
check "none: nothing exposed in /run/initdata" grep -aq '^secret path:/run/initdata/initdata.toml missing' "$log"
# The workload's status is 1 here: it reports the missing initdata file as it should.
check "none: workload ran to its end" grep -aq 'init: workload exited with status 1' "$log"
stop_kbs

echo "== boot: require = yes without userData"
start_kbs "$work/rv-a.json" || bail "start the KBS"
boot required initdata-url
log=$work/required.serial
echo "  $(fatal_line "$log")"
check "required: fail closed with one line" grep -aq 'init: fatal: unable to start without initdata: the image requires it' "$log"
check "required: no attestation attempted" bash -c "! grep -aq 'init: phase attest' '$log'"
check "required: workload never ran" no_workload "$log"
check "required: powered off" grep -aq 'init: powering off' "$log"
stop_kbs
boot_summary
