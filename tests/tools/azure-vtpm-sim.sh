#!/usr/bin/env bash
# A simulated Azure vTPM on swtpm, for tests only (../shared/notes/azure-vtpm-evidence.md §2-4,
# ../shared/notes/test-rig.md "Simulating the Azure vTPM with swtpm").
#
#   azure-vtpm-sim.sh provision --state DIR --out DIR [--user-data HEX] [--other-ak]
#       Creates a fresh TPM 2.0 state in DIR (SHA-256 + SHA-384 banks) and provisions it like
#       an Azure SEV-SNP CVM's vTPM:
#         - an RSA-2048 restricted signing key (RSASSA/SHA-256) persisted at 0x81000003 (the AK);
#           with --other-ak a second, unrelated one at 0x81000004 (for "wrong AK" tests);
#         - NV 0x01400001 (2048 bytes: swtpm's limit; real hosts use 2600) holding an HCL report
#           with a synthetic SNP report signed by a test VCEK, whose runtime claims carry the AK
#           as HCLAkPub and `user-data` = HEX zero-padded to 64 bytes (default all zero);
#         - NV 0x01400002 (user data) is left undefined, as a collector must cope with that.
#       Writes into the --out DIR: ark.pem/ark.key, ask.pem/ask.key (RSA-4096, RSASSA-PSS
#       SHA-384 like AMD's), vcek.pem/vcek.der/vcek.key (P-384, CN SEV-VCEK, hwID and SPL
#       extensions matching the report), amd-root.pem (ASK then ARK: the bundle for
#       `cvm-attest verify --amd-root`), thim-certification.json (an IMDS THIM body), ak.pem,
#       runtime-claims.json, snp-report.bin, hcl-report.bin.
#
#   azure-vtpm-sim.sh provision --tee tdx --state DIR --out DIR [--user-data HEX] [--other-ak]
#       The same for an Azure TDX CVM: the HCL report has type 4 and carries a synthetic TDREPORT
#       (tests/tools/azure-hcl-report.py) whose REPORTDATA binds the runtime claims.  Instead of
#       the AMD chain the --out DIR gets td-report.bin, td-mac.key (the stand-in for the CPU key
#       that MACs the TD report), tdx-pck/ (a test PCK chain and quoting-enclave keys, ECDSA P-256:
#       tests/tools/azure_tdx_qe.py), intel-root.pem (its root: what a verifier pins in place of
#       Intel's SGX Root CA) and tdx-untrusted/ (a second, unrelated chain, for "untrusted root"
#       tests).  The test IMDS (tests/boot/imds.py --tdx DIR/tdx-pck) answers /acc/tdquote.
#
#   azure-vtpm-sim.sh serve --state DIR --port N --pidfile FILE
#       Starts swtpm on DIR as a daemon with raw TPM commands on 127.0.0.1:N (and its control
#       channel on N+1), TPM already started (startup-clear).  Stop it with
#       `kill "$(cat FILE)"`.  A VM uses the same state through swtpm's unixio socket instead.
#
# Limits of the simulation: the HCL report is static.  A real paravisor regenerates it after a
# guest writes NV 0x01400002, so `user-data` reflects that write; here it only ever holds what
# --user-data baked in.  Evidence v2's user-data check therefore passes only for that value.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=azure-vtpm-sim

die() {
	echo "$prog: fatal: $*" >&2
	exit 1
}

# swtpm needs two ports, N (commands) and N+1 (control): both must be free.
free_port() {
	python3 -c 'import socket
while True:
    s, t = socket.socket(), socket.socket()
    s.bind(("127.0.0.1", 0))
    try:
        t.bind(("127.0.0.1", s.getsockname()[1] + 1))
    except OSError:
        continue
    print(s.getsockname()[1])
    break'
}

start_swtpm() { # state port pidfile
	rm -f "$3"
	swtpm socket --tpm2 --tpmstate dir="$1" \
		--server type=tcp,port="$2",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$(($2 + 1)),bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear --pid file="$3" --daemon ||
		die "unable to start swtpm on port $2"
	for _ in $(seq 50); do
		[ -s "$3" ] && (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	die "unable to reach swtpm on 127.0.0.1:$2"
}

cmd_serve() {
	local state="" port="" pidfile=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--state) state=$2; shift 2 ;;
		--port) port=$2; shift 2 ;;
		--pidfile) pidfile=$2; shift 2 ;;
		*) die "unable to parse arguments: unknown option $1" ;;
		esac
	done
	[ -n "$state" ] && [ -n "$port" ] && [ -n "$pidfile" ] || die "unable to serve: --state, --port and --pidfile are required"
	[ -f "$state/tpm2-00.permall" ] || die "unable to serve: $state holds no TPM state (run provision first)"
	start_swtpm "$state" "$port" "$pidfile"
}

# AMD-like test chain: ARK (self-signed) -> ASK -> VCEK, ARK and ASK signatures RSASSA-PSS
# SHA-384 with a 48-byte salt.
make_chain() { # out chip_id_hex bl tee snp ucode
	local o=$1 pss=(-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48)
	local amd="/C=US/ST=CA/L=Santa Clara/O=cvmkit test (not AMD)/OU=Engineering"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$o/ark.key" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$o/ask.key" 2>/dev/null
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$o/vcek.key" 2>/dev/null
	cat >"$o/ext.cnf" <<-EOF
		[ca]
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		[vcek]
		1.3.6.1.4.1.3704.1.1 = ASN1:NULL
		1.3.6.1.4.1.3704.1.2 = ASN1:IA5STRING:Milan-B0
		1.3.6.1.4.1.3704.1.3.1 = ASN1:INTEGER:$3
		1.3.6.1.4.1.3704.1.3.2 = ASN1:INTEGER:$4
		1.3.6.1.4.1.3704.1.3.3 = ASN1:INTEGER:$5
		1.3.6.1.4.1.3704.1.3.8 = ASN1:INTEGER:$6
		1.3.6.1.4.1.3704.1.4 = DER:$2
	EOF
	openssl req -x509 -new -key "$o/ark.key" -subj "$amd/CN=ARK-Milan" -days 9000 -set_serial 1 \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		"${pss[@]}" -out "$o/ark.pem"
	openssl req -new -key "$o/ask.key" -subj "$amd/CN=SEV-Milan" -out "$o/ask.csr"
	openssl x509 -req -in "$o/ask.csr" -CA "$o/ark.pem" -CAkey "$o/ark.key" -set_serial 2 -days 9000 \
		-extfile "$o/ext.cnf" -extensions ca "${pss[@]}" -out "$o/ask.pem" 2>/dev/null
	openssl req -new -key "$o/vcek.key" -subj "/C=US/ST=CA/L=Santa Clara/O=cvmkit test (not AMD)/OU=Engineering/CN=SEV-VCEK" \
		-out "$o/vcek.csr"
	openssl x509 -req -in "$o/vcek.csr" -CA "$o/ask.pem" -CAkey "$o/ask.key" -set_serial 3 -days 9000 \
		-extfile "$o/ext.cnf" -extensions vcek "${pss[@]}" -out "$o/vcek.pem" 2>/dev/null
	openssl x509 -in "$o/vcek.pem" -outform DER -out "$o/vcek.der"
	cat "$o/ask.pem" "$o/ark.pem" >"$o/amd-root.pem"
	python3 - "$o" <<-'EOF'
		import json, sys
		o = sys.argv[1]
		body = {"vcekCert": open(f"{o}/vcek.pem").read(),
		        "certificateChain": open(f"{o}/ask.pem").read() + open(f"{o}/ark.pem").read()}
		open(f"{o}/thim-certification.json", "w").write(json.dumps(body))
	EOF
	rm -f "$o/ext.cnf" "$o/ask.csr" "$o/vcek.csr"
}

# A restricted RSA-2048 signing key under a fresh owner primary, made persistent at $1.
make_ak() {
	local d
	d=$(mktemp -d)
	tpm2_flushcontext -t
	tpm2_createprimary -C o -G rsa2048 -c "$d/prim.ctx" -Q
	tpm2_create -C "$d/prim.ctx" -G rsa2048:rsassa-sha256:null \
		-a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda" \
		-u "$d/ak.pub" -r "$d/ak.priv" -Q
	# swtpm has no resource manager: free object slots between the tools.
	tpm2_flushcontext -t
	tpm2_load -C "$d/prim.ctx" -u "$d/ak.pub" -r "$d/ak.priv" -c "$d/ak.ctx" -Q
	tpm2_evictcontrol -C o -c "$d/ak.ctx" "$1" >/dev/null
	tpm2_flushcontext -t
	rm -rf "$d"
}

cmd_provision() {
	local state="" out="" user_data="" other_ak=false tee=snp
	while [ $# -gt 0 ]; do
		case "$1" in
		--tee) tee=$2; shift 2 ;;
		--state) state=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--user-data) user_data=$2; shift 2 ;;
		--other-ak) other_ak=true; shift ;;
		*) die "unable to parse arguments: unknown option $1" ;;
		esac
	done
	[ -n "$state" ] && [ -n "$out" ] || die "unable to provision: --state and --out are required"
	mkdir -p "$state" "$out"
	state=$(cd "$state" && pwd)
	out=$(cd "$out" && pwd)
	swtpm_setup --tpm2 --tpmstate "$state" --pcr-banks sha256,sha384 --overwrite --config /dev/null \
		>"$out/swtpm_setup.log" 2>&1 || die "unable to create the TPM state: see $out/swtpm_setup.log"

	local chip_id tcb=(4 0 24 219) measurement
	chip_id=$(printf 'cvmkit azure-vtpm-sim chip' | openssl dgst -sha512 -r | cut -c1-128)
	measurement=$(printf 'cvmkit azure-vtpm-sim paravisor' | openssl dgst -sha384 -r | cut -c1-96)
	case $tee in
	snp) make_chain "$out" "$chip_id" "${tcb[@]}" ;;
	tdx)
		/usr/bin/python3 "$here/azure_tdx_qe.py" chain --out "$out/tdx-pck" --label "cvmkit TEST"
		/usr/bin/python3 "$here/azure_tdx_qe.py" chain --out "$out/tdx-untrusted" --label "cvmkit UNTRUSTED"
		cp "$out/tdx-pck/root.pem" "$out/intel-root.pem"
		head -c 32 /dev/urandom >"$out/td-mac.key"
		;;
	*) die "unable to provision: --tee must be snp or tdx" ;;
	esac

	local port pidfile="$out/.provision.pid"
	port=$(free_port)
	start_swtpm "$state" "$port" "$pidfile"
	# shellcheck disable=SC2064
	trap "kill \$(cat '$pidfile' 2>/dev/null) 2>/dev/null || true" EXIT
	export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"

	make_ak 0x81000003
	tpm2_readpublic -c 0x81000003 -f pem -o "$out/ak.pem" >/dev/null
	$other_ak && make_ak 0x81000004

	local modulus
	modulus=$(openssl rsa -pubin -in "$out/ak.pem" -noout -modulus | sed 's/^Modulus=//')
	if [ "$tee" = tdx ]; then
		python3 "$here/azure-hcl-report.py" --tee tdx --ak-modulus "$modulus" --mac-key "$out/td-mac.key" \
			--out "$out" --user-data "$user_data" --measurement "$measurement" --nv-size 2048
	else
		python3 "$here/azure-hcl-report.py" --ak-modulus "$modulus" --vcek-key "$out/vcek.key" --out "$out" \
			--user-data "$user_data" --chip-id "$chip_id" --tcb "$(IFS=,; echo "${tcb[*]}")" \
			--measurement "$measurement" --nv-size 2048
	fi
	tpm2_nvdefine 0x01400001 -C o -s 2048 -a "ownerread|ownerwrite|authread|authwrite" >/dev/null
	tpm2_nvwrite 0x01400001 -C o -i "$out/hcl-report.bin"

	local pid
	pid=$(cat "$pidfile")
	kill "$pid"
	# swtpm writes its state on exit: the state dir is complete only once it is gone.
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	trap - EXIT
	rm -f "$pidfile"
}

case "${1:-}" in
provision) shift; cmd_provision "$@" ;;
serve) shift; cmd_serve "$@" ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
